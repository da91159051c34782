// The OIP v2 binary tensor data extension (Triton's docs/protocol/extension_binary_data.md, as KServe 0.20's
// InferenceRESTClient and Triton's HTTP client send it): bodies laid out byte for byte as the extension
// specifies — the JSON header, then each binary tensor's little-endian bytes in input order — parsed directly
// and sent to a served regression model (y = 2x + 1) over HTTP.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import { startModelServer, type ModelServer } from '../../../runtime/serving/model-server';
import { binaryOutputs, encodeOutputs, parseInferBody } from '../../../runtime/serving/oip-binary';
import { memoryLogger, publishVersion, request, writeLinearBundle } from './helpers';

/** A body as a client lays it out: the JSON header, then the tensors' bytes; with the header naming the JSON length. */
function binaryBody(json: unknown, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  return { body: Buffer.concat([header, ...tensors]), headers: { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' } };
}

const headerOf = (headers: Record<string, string>) => (name: string) => headers[name];

function fp32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

/** BYTES elements as the extension lays them out: a 4-byte little-endian length, then the bytes. */
function bytesElements(...values: string[]): Buffer {
  return Buffer.concat(values.flatMap((v) => [Buffer.from([...new Uint8Array(new Uint32Array([Buffer.byteLength(v)]).buffer)]), Buffer.from(v, 'utf8')]));
}

describe('parsing a binary /infer body', () => {
  test('each binary input takes its bytes in input order; JSON inputs stay as they are', () => {
    // Written out by hand, little-endian: FP32 1.5 = 0x3FC00000, INT64 -2, INT32 7, FP64 0.25 = 0x3FD0000000000000.
    const f32 = Buffer.from([0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x00]); // 1.5, 0
    const i64 = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const i32 = Buffer.from([0x07, 0x00, 0x00, 0x00]);
    const f64 = Buffer.from([0, 0, 0, 0, 0, 0, 0xd0, 0x3f]);
    const bool = Buffer.from([0x01, 0x00, 0x01]);
    const bytes = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x68, 0x69, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0xc3, 0xa9, 0x21]); // "hi", "", "é!"
    const json = {
      id: 'r1',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } },
        { name: 'j', datatype: 'FP32', shape: [1], data: [3] },
        { name: 'b', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
        { name: 'c', datatype: 'INT32', shape: [1], parameters: { binary_data_size: 4 } },
        { name: 'd', datatype: 'FP64', shape: [1], parameters: { binary_data_size: 8 } },
        { name: 'e', datatype: 'BOOL', shape: [3], parameters: { binary_data_size: 3 } },
        { name: 'f', datatype: 'BYTES', shape: [3], parameters: { binary_data_size: 17 } },
      ],
    };
    const { body, headers } = binaryBody(json, f32, i64, i32, f64, bool, bytes);
    const parsed = parseInferBody(body, headerOf(headers)) as { id: string; inputs: { name: string; data: unknown[] }[] };
    expect(parsed.id).toBe('r1');
    expect(parsed.inputs.map((t) => [t.name, t.data])).toEqual([
      ['a', [1.5, 0]],
      ['j', [3]],
      ['b', [-2]],
      ['c', [7]],
      ['d', [0.25]],
      ['e', [true, false, true]],
      ['f', ['hi', '', 'é!']],
    ]);
    expect(bytesElements('hi', '', 'é!')).toEqual(bytes);
  });

  test('without the header the body is plain JSON', () => {
    expect(parseInferBody(Buffer.from('{"inputs": [{"name": "x", "data": [NaN]}]}'), () => undefined)).toEqual({ inputs: [{ name: 'x', data: [NaN] }] });
  });

  test('bytes that do not fit are a 400 naming the tensor and the sizes', () => {
    const x = (size: number, extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: size }, ...extra }] });
    const cases: [{ body: Buffer; headers: Record<string, string> }, string][] = [
      [binaryBody(x(4), fp32(1)), 'input tensor "x": shape [2] of FP32 needs 8 bytes (4 per element), parameters.binary_data_size is 4'],
      [binaryBody(x(8), fp32(1)), 'input tensor "x": parameters.binary_data_size 8 runs past the end of the body (4 binary bytes left after the tensors before it)'],
      [binaryBody(x(8), fp32(1, 2, 3)), "the body has 12 bytes after its 91-byte JSON part (inference-header-content-length), but the inputs' parameters.binary_data_size add up to 8"],
      [binaryBody(x(8, { data: [1, 2] }), fp32(1, 2)), 'input tensor "x" has both "data" and parameters.binary_data_size; binary tensor data takes no "data"'],
      [binaryBody(x(-1)), 'input tensor "x": parameters.binary_data_size must be a non-negative integer, got number -1'],
      [binaryBody({ inputs: [{ name: 'x', shape: [1], parameters: { binary_data_size: 4 } }] }, fp32(1)), 'input tensor "x": "datatype" is missing; use one of BYTES, BOOL, INT8, UINT8, INT16, UINT16, INT32, UINT32, INT64, UINT64, FP32, FP64'],
      [binaryBody({ inputs: [{ name: 'x', datatype: 'FP16', shape: [1], parameters: { binary_data_size: 2 } }] }, Buffer.alloc(2)), 'input tensor "x": datatype string "FP16" is not supported as binary data; use one of BYTES, BOOL, INT8, UINT8, INT16, UINT16, INT32, UINT32, INT64, UINT64, FP32, FP64'],
      [binaryBody({ inputs: [{ name: 'x', datatype: 'BOOL', shape: [1], parameters: { binary_data_size: 1 } }] }, Buffer.from([2])), 'input tensor "x" element 0: a BOOL byte must be 0 or 1, got 2'],
      [binaryBody({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 7 } }] }, bytesElements('abc')), 'input tensor "s": BYTES element 1 of 2: its 4-byte length prefix runs past parameters.binary_data_size 7'],
      [binaryBody({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }] }, Buffer.from([9, 0, 0, 0, 0x61, 0x62])), 'input tensor "s": BYTES element 0 of 1: its length 9 runs past parameters.binary_data_size 6'],
      [binaryBody({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } }] }, Buffer.from([1, 0, 0, 0, 0xff])), 'input tensor "s": BYTES element 0 is not valid UTF-8 text'],
      [{ body: Buffer.from('{}'), headers: { 'inference-header-content-length': '3' } }, 'inference-header-content-length must be the length of the JSON part of the body (0..2 bytes), got "3"'],
    ];
    for (const [{ body, headers }, error] of cases) {
      expect(() => parseInferBody(body, headerOf(headers))).toThrow(expect.objectContaining({ status: 400, message: error }));
    }
  });
});

describe('binary outputs', () => {
  test('binary_data_output asks for every output as binary, a per-output binary_data overrides it', () => {
    const asked = (request: Record<string, unknown>) => ['a', 'b'].filter(binaryOutputs(request));
    expect(asked({})).toEqual([]);
    expect(asked({ parameters: { binary_data_output: true } })).toEqual(['a', 'b']);
    expect(asked({ parameters: { binary_data_output: true }, outputs: [{ name: 'a', parameters: { binary_data: false } }] })).toEqual(['b']);
    expect(asked({ outputs: [{ name: 'b', parameters: { binary_data: true } }] })).toEqual(['b']);
    expect(() => binaryOutputs({ parameters: { binary_data_output: 'yes' } })).toThrow('parameters.binary_data_output must be true or false, got string "yes"');
    expect(() => binaryOutputs({ outputs: [{ name: 'a', parameters: { binary_data: 1 } }] })).toThrow('outputs[0].parameters.binary_data must be true or false, got number 1');
  });

  test('binary outputs lose "data", gain binary_data_size, and their bytes follow in output order', () => {
    const outputs = [
      { name: 'p', datatype: 'FP32', shape: [2, 1], data: [1.5, NaN] },
      { name: 'j', datatype: 'INT64', shape: [1, 1], data: [4] },
      { name: 'k', datatype: 'INT64', shape: [1, 1], data: [-2] },
      { name: 's', datatype: 'BYTES', shape: [2, 1], data: ['hi', 'é'] },
    ];
    const { outputs: json, bytes } = encodeOutputs(outputs, (name) => name !== 'j');
    expect(json).toEqual([
      { name: 'p', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } },
      { name: 'j', datatype: 'INT64', shape: [1, 1], data: [4] },
      { name: 'k', datatype: 'INT64', shape: [1, 1], parameters: { binary_data_size: 8 } },
      { name: 's', datatype: 'BYTES', shape: [2, 1], parameters: { binary_data_size: 12 } },
    ]);
    expect(bytes).toEqual([
      Buffer.from([0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0xc0, 0x7f]), // 1.5, NaN (the quiet NaN 0x7FC00000)
      Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x02, 0x00, 0x00, 0x00, 0x68, 0x69, 0x02, 0x00, 0x00, 0x00, 0xc3, 0xa9]),
    ]);
  });
});

describe('a served model answering binary requests', () => {
  let root: string;
  let server: ModelServer;
  beforeAll(async () => {
    root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-oip-binary-'));
    await writeLinearBundle(path.join(root, 'bundle'));
    await publishVersion(path.join(root, 'bundle'), path.join(root, 'base'), 1);
    server = await startModelServer({ models: [{ name: 'linear', basePath: path.join(root, 'base'), policy: DEFAULT_POLICY, labels: {} }], port: 0, pollSeconds: 0, logger: memoryLogger().logger });
  });
  afterAll(async () => {
    await server?.close();
    await fs.promises.rm(root, { recursive: true, force: true });
  });

  test('an FP32 tensor sent as binary data is predicted like the same tensor as JSON', async () => {
    const { body, headers } = binaryBody({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 1], parameters: { binary_data_size: 12 } }] }, fp32(1, 2, -0.5));
    const r = await request(`${server.url}/v2/models/linear/infer`, { body, headers });
    expect(r.status).toBe(200);
    expect(r.json.outputs).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [3, 1], data: [3, 5, 0] }]);
    const wrong = await request(`${server.url}/v2/models/linear/infer`, { body: body.subarray(0, body.length - 1), headers });
    expect(wrong).toMatchObject({ status: 400, json: { error: 'input tensor "x": parameters.binary_data_size 12 runs past the end of the body (11 binary bytes left after the tensors before it)' } });
  });

  test('binary_data_output answers the JSON header, then the FP32 output bytes, with Inference-Header-Content-Length', async () => {
    const res = await fetch(`${server.url}/v2/models/linear/infer`, {
      method: 'POST',
      body: JSON.stringify({ id: 'b1', parameters: { binary_data_output: true }, inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const body = Buffer.from(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    expect(JSON.parse(body.subarray(0, jsonLength).toString('utf8'))).toEqual({
      model_name: 'linear',
      model_version: '1',
      id: 'b1',
      outputs: [{ name: 'predictions', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } }],
    });
    expect(body.subarray(jsonLength)).toEqual(fp32(3, 5));
    // A per-output binary_data: false keeps that output in the JSON: a plain JSON answer.
    const json = await request(`${server.url}/v2/models/linear/infer`, {
      body: { parameters: { binary_data_output: true }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }], outputs: [{ name: 'predictions', parameters: { binary_data: false } }] },
    });
    expect([json.headers.get('inference-header-content-length'), json.json.outputs]).toEqual([null, [{ name: 'predictions', datatype: 'FP32', shape: [1, 1], data: [3] }]]);
  });
});
