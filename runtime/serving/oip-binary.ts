// The Open Inference Protocol v2 binary tensor data extension (Triton's docs/protocol/extension_binary_data.md,
// what KServe's and Triton's HTTP clients send by default): a body is the JSON object followed by the raw
// bytes of the tensors marked `parameters.binary_data_size`, in the order the tensors appear in the JSON;
// the header Inference-Header-Content-Length gives the JSON part's length. Tensor bytes are little-endian,
// row-major, unpadded; BOOL is one byte 0/1; each BYTES element is a 4-byte little-endian length + its bytes.

import { parseJsonBody } from './http-server';
import { badRequest } from './request-error';
import { describe, isPlainObject } from './request-rows';

export const INFERENCE_HEADER = 'inference-header-content-length';

/** Element sizes and Buffer accessors of the fixed-size datatypes (FP16 has no Buffer accessor and is refused). */
const FIXED: Record<string, { size: number; read(b: Buffer, at: number): number | bigint | boolean }> = {
  BOOL: { size: 1, read: (b, at) => b.readUInt8(at) },
  INT8: { size: 1, read: (b, at) => b.readInt8(at) },
  UINT8: { size: 1, read: (b, at) => b.readUInt8(at) },
  INT16: { size: 2, read: (b, at) => b.readInt16LE(at) },
  UINT16: { size: 2, read: (b, at) => b.readUInt16LE(at) },
  INT32: { size: 4, read: (b, at) => b.readInt32LE(at) },
  UINT32: { size: 4, read: (b, at) => b.readUInt32LE(at) },
  INT64: { size: 8, read: (b, at) => b.readBigInt64LE(at) },
  UINT64: { size: 8, read: (b, at) => b.readBigUInt64LE(at) },
  FP32: { size: 4, read: (b, at) => b.readFloatLE(at) },
  FP64: { size: 8, read: (b, at) => b.readDoubleLE(at) },
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An /infer body: plain JSON without the Inference-Header-Content-Length header; with it, the JSON header
 * with each binary input's bytes decoded into its `data` (as JSON would have carried them). Every byte after
 * the JSON header must belong to exactly one input.
 */
export function parseInferBody(bytes: Buffer, header: (name: string) => string | undefined): unknown {
  const declared = header(INFERENCE_HEADER);
  if (declared === undefined) return parseJsonBody(bytes);
  if (!/^\d+$/.test(declared) || Number(declared) > bytes.length) {
    throw badRequest(`${INFERENCE_HEADER} must be the length of the JSON part of the body (0..${bytes.length} bytes), got ${JSON.stringify(declared)}`);
  }
  const jsonLength = Number(declared);
  const request = parseJsonBody(bytes.subarray(0, jsonLength));
  const binary = bytes.subarray(jsonLength);
  let offset = 0;
  if (isPlainObject(request) && Array.isArray(request.inputs)) {
    request.inputs = request.inputs.map((t, i) => {
      const size = isPlainObject(t) && isPlainObject(t.parameters) ? t.parameters.binary_data_size : undefined;
      if (size === undefined) return t;
      const tensor = t as Record<string, unknown>;
      const where = `input tensor ${typeof tensor.name === 'string' ? JSON.stringify(tensor.name) : `inputs[${i}]`}`;
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw badRequest(`${where}: parameters.binary_data_size must be a non-negative integer, got ${describe(size)}`);
      if (tensor.data !== undefined) throw badRequest(`${where} has both "data" and parameters.binary_data_size; binary tensor data takes no "data"`);
      if (offset + (size as number) > binary.length) {
        throw badRequest(`${where}: parameters.binary_data_size ${String(size)} runs past the end of the body (${binary.length - offset} binary bytes left after the tensors before it)`);
      }
      const data = decodeTensor(where, tensor.datatype, tensor.shape, binary.subarray(offset, offset + (size as number)));
      offset += size as number;
      return { ...tensor, data };
    });
  }
  if (offset !== binary.length) {
    throw badRequest(`the body has ${binary.length} bytes after its ${jsonLength}-byte JSON part (${INFERENCE_HEADER}), but the inputs' parameters.binary_data_size add up to ${offset}`);
  }
  return request;
}

/** The elements of one binary tensor as JSON data would hold them; 400 when the bytes do not fit the datatype and shape. */
function decodeTensor(where: string, datatype: unknown, shape: unknown, bytes: Buffer): unknown[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw badRequest(`${where}: "shape" must be a list of non-negative integers; ${shape === undefined ? 'it is missing' : `got ${JSON.stringify(shape)}`}`);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (datatype === 'BYTES') return decodeBytes(where, count, bytes);
  const fixed = typeof datatype === 'string' ? FIXED[datatype] : undefined;
  if (!fixed) {
    throw badRequest(`${where}: ${datatype === undefined ? '"datatype" is missing' : `datatype ${describe(datatype)} is not supported as binary data`}; use one of BYTES, ${Object.keys(FIXED).join(', ')}`);
  }
  if (bytes.length !== count * fixed.size) {
    throw badRequest(`${where}: shape ${JSON.stringify(shape)} of ${String(datatype)} needs ${count * fixed.size} bytes (${fixed.size} per element), parameters.binary_data_size is ${bytes.length}`);
  }
  const data: unknown[] = [];
  for (let k = 0; k < count; k++) {
    const v = fixed.read(bytes, k * fixed.size);
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw badRequest(`${where} element ${k}: ${v} is beyond what a number holds exactly (±2^53)`);
      data.push(Number(v));
    } else if (datatype === 'BOOL') {
      if (v !== 0 && v !== 1) throw badRequest(`${where} element ${k}: a BOOL byte must be 0 or 1, got ${String(v)}`);
      data.push(v === 1);
    } else data.push(v);
  }
  return data;
}

/** BYTES elements: each a 4-byte little-endian length and that many bytes, taken as UTF-8 text. */
function decodeBytes(where: string, count: number, bytes: Buffer): string[] {
  const data: string[] = [];
  let at = 0;
  for (let k = 0; k < count; k++) {
    if (at + 4 > bytes.length) throw badRequest(`${where}: BYTES element ${k} of ${count}: its 4-byte length prefix runs past parameters.binary_data_size ${bytes.length}`);
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length) throw badRequest(`${where}: BYTES element ${k} of ${count}: its length ${length} runs past parameters.binary_data_size ${bytes.length}`);
    try {
      data.push(UTF8.decode(bytes.subarray(at, at + length)));
    } catch {
      throw badRequest(`${where}: BYTES element ${k} is not valid UTF-8 text`);
    }
    at += length;
  }
  if (at !== bytes.length) throw badRequest(`${where}: ${count} BYTES elements take ${at} bytes, parameters.binary_data_size is ${bytes.length}`);
  return data;
}

/** Writers of the output datatypes the server answers with (DATATYPES in oip-api.ts). */
const WRITERS: Record<string, (v: unknown) => Buffer> = {
  FP32: (v) => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v as number);
    return b;
  },
  INT64: (v) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v as number));
    return b;
  },
  BYTES: (v) => {
    const text = Buffer.from(String(v), 'utf8');
    const b = Buffer.alloc(4 + text.length);
    b.writeUInt32LE(text.length);
    text.copy(b, 4);
    return b;
  },
};

export interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/**
 * Which outputs the request asks for as binary data: all with `parameters.binary_data_output: true`, each
 * requested output's own `parameters.binary_data` overriding that. 400 for a flag that is not a boolean.
 */
export function binaryOutputs(request: Record<string, unknown>): (name: string) => boolean {
  const flag = (value: unknown, where: string): boolean | undefined => {
    if (value !== undefined && typeof value !== 'boolean') throw badRequest(`${where} must be true or false, got ${describe(value)}`);
    return value;
  };
  const all = flag(isPlainObject(request.parameters) ? request.parameters.binary_data_output : undefined, 'parameters.binary_data_output') ?? false;
  const each = new Map<string, boolean>();
  if (Array.isArray(request.outputs)) {
    request.outputs.forEach((o, i) => {
      const own = isPlainObject(o) && isPlainObject(o.parameters) ? flag(o.parameters.binary_data, `outputs[${i}].parameters.binary_data`) : undefined;
      if (own !== undefined && isPlainObject(o)) each.set(String(o.name), own);
    });
  }
  return (name) => each.get(name) ?? all;
}

/**
 * The outputs with the binary ones' `data` replaced by `parameters.binary_data_size`, and their bytes in
 * output order (empty when none is binary).
 */
export function encodeOutputs(outputs: OutputTensor[], binary: (name: string) => boolean): { outputs: unknown[]; bytes: Buffer[] } {
  const bytes: Buffer[] = [];
  const json = outputs.map((o) => {
    if (!binary(o.name)) return o;
    const write = WRITERS[o.datatype];
    if (!write) throw new Error(`output ${o.name}: no binary encoding for datatype ${o.datatype}`);
    const tensor = Buffer.concat(o.data.map(write));
    bytes.push(tensor);
    const { data: _data, ...rest } = o;
    return { ...rest, parameters: { binary_data_size: tensor.length } };
  });
  return { outputs: json, bytes };
}
