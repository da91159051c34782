/** @jest-environment ./test/support/onnx-environment.js */
// Bad ONNX models are one-line errors naming the file and what is wrong: a truncated or non-ONNX model.onnx,
// metadata_props that contradict the graph (an unknown mlp.task, mlp.classes naming a different number of
// classes than the output has, mlp.output naming no usable output). metadata_props entries are appended to a
// real model's bytes (a protobuf repeated field may be appended; the last value of a key wins), so the
// same graph is judged with each.

import * as fs from 'fs';
import * as path from 'path';
import { loadServingBundle } from '../../../runtime/ml/serving-bundle';
import { onnxMetadataProps } from '../../../runtime/ml/onnx-model';
import { buildOnnxModels, type OnnxModels } from './onnx-models';
import { penguinRows } from '../serving/helpers';
import { useTempDir } from './helpers';

const tmp = useTempDir('mlp-onnx-model-');
let models: OnnxModels;
let tabular: Buffer;

beforeAll(() => {
  models = buildOnnxModels(path.join(tmp.dir, 'models'), penguinRows(1));
  tabular = fs.readFileSync(path.join(models.dirs.tabular, 'model.onnx'));
}, 120_000);

/** Protobuf length-delimited field: tag, varint length, bytes. */
function field(num: number, bytes: Buffer): Buffer {
  const len: number[] = [];
  for (let n = bytes.length; ; n >>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(num << 3) | 2, ...len]), bytes]);
}

/** The tabular model with metadata_props entries appended (ModelProto field 14 of {key = 1, value = 2}). */
function withProps(props: Record<string, string>): Buffer {
  const entries = Object.entries(props).map(([k, v]) => field(14, Buffer.concat([field(1, Buffer.from(k)), field(2, Buffer.from(v))])));
  return Buffer.concat([tabular, ...entries]);
}

let n = 0;
async function load(bytes: Buffer): Promise<string> {
  const dir = path.join(tmp.dir, `m${n++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  try {
    const bundle = await loadServingBundle(dir);
    bundle.model.dispose();
    return `loaded: ${JSON.stringify(bundle.signature.label)}`;
  } catch (err) {
    return (err as Error).message.split(path.join(dir, 'model.onnx')).join('<file>');
  }
}

test('metadata_props are read from the model bytes, the last value of a key winning', () => {
  expect(onnxMetadataProps(tabular, 'x')).toEqual({ 'mlp.task': 'multiclass', 'mlp.label_key': 'Species', 'mlp.classes': '["Adelie", "Chinstrap", "Gentoo"]' });
  expect(onnxMetadataProps(withProps({ 'mlp.label_key': 'species' }), 'x')['mlp.label_key']).toBe('species');
});

test('appended metadata is what the loader reads', async () => {
  expect(await load(withProps({ 'mlp.classes': '["a", "b", "c"]' }))).toBe('loaded: {"key":"Species","classes":["a","b","c"]}');
});

test('bad models and contradicting metadata are one-line errors naming the file', async () => {
  expect(await load(tabular.subarray(0, tabular.length - 40))).toBe('<file> is not an ONNX model (truncated protobuf)');
  expect(await load(Buffer.from('not a model at all, just text'))).toBe('<file> is not an ONNX model (protobuf wire type 6)');
  // Well-formed protobuf that onnxruntime refuses: a ModelProto holding only ir_version 1, no graph.
  expect(await load(Buffer.from([0x08, 0x01]))).toMatch(/^model <file> cannot be loaded by onnxruntime: \S/);
  expect(await load(withProps({ 'mlp.task': 'ranking' }))).toBe('<file>: metadata mlp.task is "ranking"; expected one of binary, multiclass, regression');
  expect(await load(withProps({ 'mlp.classes': '["a", "b"]' }))).toBe('<file>: output "probabilities" has 3 columns but metadata mlp.classes names 2 classes');
  expect(await load(withProps({ 'mlp.classes': 'Adelie' }))).toBe('<file>: metadata mlp.classes must be a JSON list of at least two class names, got Adelie');
  expect(await load(withProps({ 'mlp.output': 'label' }))).toBe(
    '<file>: metadata mlp.output names "label", which is not a float [batch] or [batch, k] output; the outputs are "label" int64[N], "probabilities" float32[N, 3]',
  );
  expect(await load(withProps({ 'mlp.task': 'regression' }))).toBe('<file>: a regression model\'s output "probabilities" must be [batch] or [batch, 1], not [N, 3]');
});
