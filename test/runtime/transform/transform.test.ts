// Transform: tf.Transform's analyzer rules (vocabulary order, frequency threshold, top_k, dropped tokens, OOV
// buckets, population z-score, quantile buckets, min-max, hash and cross buckets, default fills), the
// component on the real penguins data, and the graph applied identically after a JSON round trip (what the
// model server loads) — the same numbers for the same raw rows.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { analyze, buildVocabulary } from '../../../runtime/transform/analyze';
import { applyTransform, checkGraph } from '../../../runtime/transform/apply';
import { hashToBucket } from '../../../runtime/transform/hashing';
import { TransformSpec } from '../../../runtime/transform/spec';
import { launchComponent } from '../../../runtime/core/launcher';
import { Transform } from '../../../runtime/components/transform';
import { TRANSFORM_GRAPH_FILE } from '../../../runtime/transform/graph';
import { REPO_ROOT } from '../../support/cli';

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-transform-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function parquet(name: string, selectSql: string): Promise<string> {
  const file = path.join(dir, `${name}.parquet`);
  await (await duckdb()).run(`COPY (${selectSql}) TO ${sqlString(file)} (FORMAT parquet)`);
  return file;
}

test('vocabulary: frequency descending, ties reverse-lexicographic, threshold, top_k, no empty or multi-line tokens', () => {
  const counts = { b: 3, a: 3, c: 5, d: 1, '': 9, 'x\ny': 9, e: 3 };
  expect(buildVocabulary(counts, 1)).toEqual(['c', 'e', 'b', 'a', 'd']);
  expect(buildVocabulary(counts, 3)).toEqual(['c', 'e', 'b', 'a']);
  expect(buildVocabulary(counts, 1, 2)).toEqual(['c', 'e']);
});

test('analyzers and apply on a small table with known answers', async () => {
  const file = await parquet(
    'small',
    `SELECT * FROM (VALUES ('red', 1.0, 10, 'x'), ('red', 2.0, 20, 'y'), ('blue', 3.0, NULL, 'x'), ('green', 4.0, 40, 'y'), ('red', NULL, 50, 'x'))
     AS t(colour, size, weight, tag)`,
  );
  const spec = TransformSpec.parse([
    { kind: 'vocabulary', feature: 'colour', num_oov_buckets: 2 },
    { kind: 'vocabulary', feature: 'colour', output: 'colour_strict', num_oov_buckets: 0 },
    { kind: 'z_score', feature: 'size' },
    { kind: 'min_max', feature: 'weight' },
    { kind: 'bucketize', feature: 'weight', num_buckets: 2 },
    { kind: 'hash', feature: 'tag', hash_buckets: 7 },
    { kind: 'cross', features: ['colour', 'tag'], hash_buckets: 11 },
  ]);
  const graph = await analyze(spec, [file]);
  expect(graph.analyzedExamples).toBe(5);
  const by = Object.fromEntries(graph.outputs.map((o) => [o.name, o]));
  // red 3, blue 1, green 1 → ties by reverse lexicographic order: green before blue.
  expect(by.colour_id.analyzer).toMatchObject({ vocabulary: ['red', 'green', 'blue'], numOovBuckets: 2 });
  expect(by.colour_id.cardinality).toBe(5);
  expect(by.size_z.analyzer).toMatchObject({ mean: 2.5, stdDev: Math.sqrt(1.25), fill: 2.5 });
  expect(by.weight_scaled.analyzer).toMatchObject({ min: 10, max: 50, fill: 30 });
  expect(by.weight_bucket.analyzer).toMatchObject({ boundaries: [30] });

  const rows = [
    { colour: 'red', size: 2.5, weight: 30, tag: 'x' },
    { colour: 'purple', size: null, weight: undefined, tag: 'z' },
  ];
  const out = applyTransform(graph, rows);
  expect(Array.from(out.colour_id)).toEqual([0, 3 + hashToBucket('purple', 2)]);
  expect(Array.from(out.colour_strict)).toEqual([0, -1]);
  expect(Array.from(out.size_z)).toEqual([0, 0]); // missing → fill (the mean) → 0
  expect(out.weight_scaled[0]).toBeCloseTo(0.5);
  expect(Array.from(out.weight_bucket)).toEqual([1, 1]); // 30 is at the boundary: bucket 1; missing → mean 30
  expect(out.tag_hashed[1]).toBe(hashToBucket('z', 7));
  expect(out.colour_x_tag_cross[0]).toBe(hashToBucket('red_X_x', 11));
  for (const v of out.tag_hashed) expect(v).toBeGreaterThanOrEqual(0);
});

test('a spec reading a feature the examples lack names it', async () => {
  const file = await parquet('tiny', `SELECT 1 AS a`);
  await expect(analyze(TransformSpec.parse([{ kind: 'z_score', feature: 'b' }]), [file])).rejects.toThrow(
    'Transform: spec[0] (z_score → b_z) reads feature "b", which the examples do not have (features: a)',
  );
});

test('the component on penguins; the graph loaded from its JSON file transforms rows exactly as the in-memory one', async () => {
  const examples = path.join(dir, 'examples');
  await fs.promises.mkdir(path.join(examples, 'Split-train'), { recursive: true });
  const penguins = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'penguins.json');
  await (await duckdb()).run(`COPY (SELECT * FROM read_json_auto(${sqlString(penguins)})) TO ${sqlString(path.join(examples, 'Split-train', 'part-00000.parquet'))} (FORMAT parquet)`);
  // Published like an upstream ExampleGen output, so the launcher accepts it as an input.
  const { storageFor } = await import('../../../runtime/storage');
  const staged = path.join(dir, 'staged');
  await fs.promises.cp(examples, staged, { recursive: true });
  await storageFor(examples).delete(examples, { recursive: true });
  await storageFor(examples).publishDirectory(staged, examples);

  const out = path.join(dir, 'graph');
  const spec = [
    { kind: 'vocabulary', feature: 'Island' },
    { kind: 'vocabulary', feature: 'Sex', num_oov_buckets: 1 },
    { kind: 'z_score', feature: 'Body Mass (g)', output: 'body_mass' },
    { kind: 'bucketize', feature: 'Flipper Length (mm)', num_buckets: 4, output: 'flipper' },
    { kind: 'vocabulary', feature: 'Species', num_oov_buckets: 0, output: 'label' },
  ];
  const transformed = path.join(dir, 'transformed');
  const result = await launchComponent(Transform, {
    inputs: { parameterValues: { spec, materialize: true, keep_columns: ['Species'] }, artifacts: { examples: { artifacts: [{ uri: examples, metadata: { split_names: '["train"]', span: 7, version: 2 } }] } } },
    outputs: { artifacts: { transform_graph: { artifacts: [{ uri: out }] }, transformed_examples: { artifacts: [{ uri: transformed }] } } },
  }, { log: () => undefined });
  // The transformed examples carry the input's span and version and the splits written, as TFX's do.
  expect(result.artifacts!.transformed_examples.artifacts[0].metadata).toMatchObject({ materialized: 1, split_names: '["train"]', span: 7, version: 2 });
  const loaded = checkGraph(JSON.parse(fs.readFileSync(path.join(out, TRANSFORM_GRAPH_FILE), 'utf8')), 'graph');
  expect(loaded.analyzedExamples).toBe(344);
  expect(loaded.outputs.find((o) => o.name === 'label')!.analyzer).toMatchObject({ vocabulary: ['Adelie', 'Gentoo', 'Chinstrap'] });
  expect(loaded.outputs.find((o) => o.name === 'flipper')!.cardinality).toBe(4);

  const rows = (await (await duckdb()).runAndReadAll(`SELECT * FROM read_json_auto(${sqlString(penguins)})`)).getRowObjectsJson() as Record<string, unknown>[];
  // The serving path gets JSON: numbers may arrive as strings, missing values as null.
  const asRequest = JSON.parse(JSON.stringify(rows)) as Record<string, unknown>[];
  const a = applyTransform(loaded, rows);
  const b = applyTransform(checkGraph(JSON.parse(JSON.stringify(loaded)), 'copy'), asRequest);
  for (const name of Object.keys(a)) expect(Array.from(b[name])).toEqual(Array.from(a[name]));
  // Missing Sex values (the real data has them) go to the OOV bucket, not a crash.
  expect(Array.from(a.Sex_id).some((v) => v >= 2)).toBe(true);

  // Materialized examples hold the same numbers, row for row, with the kept raw column alongside.
  const written = (await (await duckdb()).runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path.join(transformed, 'Split-train', 'part-00000.parquet'))})`)).getRowObjectsJS();
  expect(written).toHaveLength(344);
  expect(written.map((r) => r.Species)).toEqual(rows.map((r) => r.Species));
  for (const name of Object.keys(a)) expect(Float32Array.from(written.map((r) => Number(r[name])))).toEqual(Float32Array.from(a[name]));
});

test('without materialize the transformed examples are an empty artifact marked as such', async () => {
  const examples = path.join(dir, 'examples-small');
  const staged = path.join(dir, 'examples-small-staged');
  await fs.promises.mkdir(path.join(staged, 'Split-train'), { recursive: true });
  await (await duckdb()).run(`COPY (SELECT range::DOUBLE AS x FROM range(10)) TO ${sqlString(path.join(staged, 'Split-train', 'part-00000.parquet'))} (FORMAT parquet)`);
  const { storageFor } = await import('../../../runtime/storage');
  await storageFor(examples).publishDirectory(staged, examples);
  const transformed = path.join(dir, 'transformed-small');
  const result = await launchComponent(Transform, {
    inputs: { parameterValues: { spec: [{ kind: 'z_score', feature: 'x' }] }, artifacts: { examples: { artifacts: [{ uri: examples, metadata: { split_names: '["train"]', span: 3, version: 0 } }] } } },
    outputs: { artifacts: { transform_graph: { artifacts: [{ uri: path.join(dir, 'graph-small') }] }, transformed_examples: { artifacts: [{ uri: transformed }] } } },
  }, { log: () => undefined });
  // Still of the input's span and version; no split was written, so none is named.
  const unmaterialized = result.artifacts!.transformed_examples.artifacts[0].metadata;
  expect(unmaterialized).toMatchObject({ materialized: 0, span: 3, version: 0 });
  expect(unmaterialized).not.toHaveProperty('split_names');
  expect(fs.readdirSync(transformed).filter((f) => !f.startsWith('_MLP'))).toEqual([]);
  // No eval split: the out-of-vocabulary rates are measured on the analyzed split, and say so.
  expect(result.artifacts!.transform_graph.artifacts[0].metadata).toMatchObject({ oov_split: 'train', oov_flagged: 0, oov_rates: '{}' });
  // An oov_split the examples do not have is an error naming it, before anything is analyzed.
  await expect(
    launchComponent(Transform, {
      inputs: { parameterValues: { spec: [{ kind: 'vocabulary', feature: 'x' }], oov_split: 'eval' }, artifacts: { examples: { artifacts: [{ uri: examples, metadata: { split_names: '["train"]' } }] } } },
      outputs: { artifacts: { transform_graph: { artifacts: [{ uri: path.join(dir, 'graph-small-2') }] }, transformed_examples: { artifacts: [{ uri: path.join(dir, 'transformed-small-2') }] } } },
    }, { log: () => undefined }),
  ).rejects.toThrow(`Transform: examples ${examples} have no split "eval" (oov_split; splits: train)`);
});

test('graphs of another format or version are refused', () => {
  expect(() => checkGraph({ format: 'x' }, 'f.json')).toThrow('f.json is not a transform graph (format mlp.transform_graph)');
  expect(() => checkGraph({ format: 'mlp.transform_graph', version: 9, outputs: [] }, 'f.json')).toThrow('f.json is transform graph version 9; this runtime applies versions 1 and 2');
});

test('a DOUBLE vocabulary (Chicago taxi community areas) maps Parquet values and JSON numbers to its tokens, not to OOV', async () => {
  const file = await parquet('areas', `SELECT (8 + (range % 3) * 24)::DOUBLE AS area FROM range(30)`);
  const graph = await analyze(TransformSpec.parse([{ kind: 'vocabulary', feature: 'area', num_oov_buckets: 1 }]), [file]);
  expect(graph.outputs[0].analyzer).toMatchObject({ vocabulary: ['8', '56', '32'] });
  const rows = (await (await duckdb()).runAndReadAll(`SELECT * FROM read_parquet(${sqlString(file)})`)).getRowObjectsJS();
  const ids = Array.from(applyTransform(graph, rows).area_id);
  expect(ids.every((id) => id < 3)).toBe(true);
  expect(Array.from(applyTransform(graph, [{ area: 32 }, { area: '56.0' }, { area: 8.5 }]).area_id)).toEqual([2, 1, 3 + hashToBucket('8.5', 1)]);
});

test('every column type has one token in analysis and apply, whichever way the value arrives', async () => {
  const file = await parquet(
    'types',
    `SELECT 32::INTEGER AS i, 9007199254740993::BIGINT AS big, 0.1::FLOAT AS f, 32.0::DOUBLE AS d, 0.1::DOUBLE AS d2, 1.50::DECIMAL(10,2) AS dec,
            true AS b, DATE '2024-01-02' AS dt, TIMESTAMP '2024-01-02 03:04:05.123' AS ts, 'x y' AS s`,
  );
  const columns = ['i', 'big', 'f', 'd', 'd2', 'dec', 'b', 'dt', 'ts', 's'];
  const graph = await analyze(TransformSpec.parse(columns.map((feature) => ({ kind: 'vocabulary', feature, num_oov_buckets: 1 }))), [file]);
  const tokens = Object.fromEntries(graph.outputs.map((o) => [o.inputs[0], (o.analyzer as { vocabulary: string[] }).vocabulary]));
  expect(tokens).toEqual({
    i: ['32'], big: ['9007199254740993'], f: ['0.1'], d: ['32'], d2: ['0.1'], dec: ['1.5'],
    b: ['true'], dt: ['2024-01-02'], ts: ['2024-01-02T03:04:05.123Z'], s: ['x y'],
  });
  expect(graph.outputs.map((o) => o.types![0])).toEqual(['integer', 'integer', 'float', 'double', 'double', 'double', 'boolean', 'date', 'timestamp', 'string']);
  // As DuckDB hands the row over (bigint, 32-bit float widened, Date), as JSON numbers and as strings: all id 0.
  const fromParquet = (await (await duckdb()).runAndReadAll(`SELECT * FROM read_parquet(${sqlString(file)})`)).getRowObjectsJS();
  const asJson = { i: 32, big: '9007199254740993', f: 0.1, d: 32, d2: 0.1, dec: 1.5, b: 1, dt: Date.UTC(2024, 0, 2) / 1000, ts: Date.parse('2024-01-02T03:04:05.123Z') / 1000, s: 'x y' };
  const asText = { i: '+32', big: '9007199254740993', f: '0.1', d: '32.0', d2: '1e-1', dec: '1.50', b: 'true', dt: '2024-01-02', ts: '2024-01-02 03:04:05.123', s: 'x y' };
  const out = applyTransform(graph, [...fromParquet, asJson, asText]);
  for (const o of graph.outputs) expect([o.inputs[0], Array.from(out[o.name])]).toEqual([o.inputs[0], [0, 0, 0]]);
});

test('a value that is not of its training column kind is an error naming the feature, never OOV', async () => {
  const file = await parquet('kinds', `SELECT 'a' AS s, 7::BIGINT AS n, true AS b, DATE '2024-01-02' AS dt, 1.5::DOUBLE AS x`);
  const graph = await analyze(
    TransformSpec.parse(['s', 'n', 'b', 'dt', 'x'].map((feature) => ({ kind: 'vocabulary', feature }))),
    [file],
  );
  expect(() => applyTransform(graph, [{ s: 7 }])).toThrow('feature "s" (string in the training data): number 7 is not a string value');
  expect(() => applyTransform(graph, [{ n: 9007199254740993 }])).toThrow('feature "n" (integer in the training data): number 9007199254740992 is not an integer value (beyond 2^53 a number is not exact: send it as a string)');
  expect(() => applyTransform(graph, [{ n: 7.5 }])).toThrow('feature "n" (integer in the training data): number 7.5 is not an integer value');
  expect(() => applyTransform(graph, [{ b: 2 }])).toThrow('feature "b" (boolean in the training data): number 2 is not a boolean value (expected true/false or 1/0)');
  expect(() => applyTransform(graph, [{ dt: 'Jan 2nd' }])).toThrow('feature "dt" (date in the training data): string "Jan 2nd" is not a date value');
  expect(() => applyTransform(graph, [{ dt: 3600 }])).toThrow('is not a date value (not midnight UTC)');
  expect(() => applyTransform(graph, [{ x: 'abc' }])).toThrow('feature "x" (double in the training data): string "abc" is not a double value');
  // Missing values still take the fill.
  expect(Array.from(applyTransform(graph, [{}]).s_id)).toEqual([1 + hashToBucket('', 1)]);
});

test('numeric transforms of a string column, and columns of other types, are refused at analysis', async () => {
  const file = await parquet('refused', `SELECT '1.5' AS s, 'abc'::BLOB AS blob`);
  await expect(analyze(TransformSpec.parse([{ kind: 'z_score', feature: 's' }]), [file])).rejects.toThrow(
    'Transform: spec[0] (z_score → s_z) reads feature "s", a VARCHAR column; z_score needs a numeric, boolean, date or timestamp column (use vocabulary or hash for strings)',
  );
  await expect(analyze(TransformSpec.parse([{ kind: 'hash', feature: 'blob', hash_buckets: 3 }]), [file])).rejects.toThrow(
    'reads feature "blob", a BLOB column; the transform reads VARCHAR, integer types, FLOAT, DOUBLE, DECIMAL, BOOLEAN, DATE, TIMESTAMP columns',
  );
});

test('a version 1 graph (tokens were String(v)) is still applied exactly as its model was trained', () => {
  const v1 = checkGraph(
    {
      format: 'mlp.transform_graph',
      version: 1,
      spec: [],
      analyzedExamples: 2,
      outputs: [
        { name: 'area_id', inputs: ['area'], dtype: 'int32', cardinality: 2, analyzer: { kind: 'vocabulary', vocabulary: ['32.0'], numOovBuckets: 1, fill: '' } },
        { name: 'w', inputs: ['w'], dtype: 'float32', analyzer: { kind: 'identity', fill: 5 } },
      ],
    },
    'v1.json',
  );
  const out = applyTransform(v1, [{ area: '32.0', w: '2' }, { area: 32, w: 'x' }]);
  expect(Array.from(out.area_id)).toEqual([0, 1]);
  expect(Array.from(out.w)).toEqual([2, 5]);
  expect(() => checkGraph({ format: 'mlp.transform_graph', version: 2, outputs: [{ name: 'o', inputs: ['a'] }] }, 'g.json')).toThrow(
    'g.json: output "o" has no column kind for each of its inputs (a version 2 graph records them)',
  );
});
