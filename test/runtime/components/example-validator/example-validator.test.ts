// ExampleValidator end to end through the launcher: StatisticsGen → SchemaGen → ExampleValidator on
// flights spans (months), drift against the previous span through the optional baseline input, skew
// against serving statistics, and the 'fail' / 'warn' policies with blessed properties. Plus the `anomalies`
// JSON line of MlMonitoring's log contract: in the executor log, on stderr of `mlp component run` (a
// container), and in the node log of a local runner run, naming the pipeline and node.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LOG_CONTRACT } from '../../../../constructs/ml-monitoring';
import { pipeline as dataValidation } from '../../../../pipelines/data-validation';
import { ExampleValidator } from '../../../../runtime/components/example-validator';
import { openMetadataStore } from '../../../../runtime/metadata';
import { runPipeline } from '../../../../runtime/runner/local-runner';
import { generateStatistics } from '../../../../runtime/tfdv/generate-statistics';
import { inferSchema } from '../../../../runtime/tfdv/infer-schema';
import { REPO_ROOT, runCli } from '../../../support/cli';
import { SchemaGen } from '../../../../runtime/components/schema-gen';
import { StatisticsGen } from '../../../../runtime/components/statistics-gen';
import { UserError } from '../../../../runtime/core/errors';
import { sqlString } from '../../../../runtime/data/duckdb';
import type { Anomalies } from '../../../../runtime/tfdv/anomalies-proto';
import type { Schema } from '../../../../runtime/tfdv/schema-proto';
import { FLIGHTS, outputRef, publishFiles, run, writeExamples, writeParquet, type ArtifactRef } from '../../tfdv/helpers';

let root: string;
beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'example-validator-'));
});
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

let counter = 0;
const fresh = (name: string) => path.join(root, `${name}-${++counter}`);

/** A span of flights: one month, 30,000 rows, split 2:1 into train and eval. */
function span(month: number, origin = 'origin'): Record<string, string> {
  const base = `SELECT date, delay, distance, ${origin} AS origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = ${month} LIMIT 30000`;
  return { train: `SELECT * FROM (${base}) WHERE hash(date, delay) % 3 <> 0`, eval: `SELECT * FROM (${base}) WHERE hash(date, delay) % 3 = 0` };
}

async function statistics(splits: Record<string, string>, spanNumber: number): Promise<ArtifactRef> {
  const examples = await writeExamples(fresh('examples'), splits, spanNumber);
  return outputRef(await run(StatisticsGen, { examples }, { statistics: fresh('statistics') }), 'statistics');
}

let jan: ArtifactRef;
let schemaRef: ArtifactRef;
beforeAll(async () => {
  jan = await statistics(span(1), 1);
  const schemaDir = fresh('schema');
  await run(SchemaGen, { statistics: jan }, { schema: schemaDir });
  // A curated expectation on top of the inferred schema: origin must not drift by more than 0.05 (L∞).
  const schema = JSON.parse(fs.readFileSync(path.join(schemaDir, 'schema.json'), 'utf8')) as Schema;
  schema.feature.find((f) => f.name === 'origin')!.driftComparator = { infinityNorm: { threshold: 0.05 } };
  schema.feature.find((f) => f.name === 'delay')!.skewComparator = { jensenShannonDivergence: { threshold: 0.3 } };
  schemaRef = await publishFiles(fresh('curated'), { 'schema.json': JSON.stringify(schema) });
});

const readAnomalies = (dir: string, split: string): Anomalies => JSON.parse(fs.readFileSync(path.join(dir, `Split-${split}`, 'SchemaDiff.json'), 'utf8'));
/** The `anomalies` event lines among log lines (the other lines are plain text). */
const anomalyEvents = (lines: string[]): Record<string, unknown>[] =>
  lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === LOG_CONTRACT.anomalies.event);
/** The `skew` event lines (drift and skew comparisons over their thresholds) among log lines. */
const skewEvents = (lines: string[]): Record<string, unknown>[] =>
  lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === LOG_CONTRACT.skew.event);
/** The field names LOG_CONTRACT lists ("count (number > 0)" is the field count). */
const CONTRACT_FIELDS = LOG_CONTRACT.anomalies.fields.map((f) => f.split(' ')[0]);

it('records no span or version the statistics do not have (never a made-up 0)', async () => {
  const { span: _span, version: _version, ...rest } = jan.properties;
  const result = await run(ExampleValidator, { statistics: { ...jan, properties: rest }, schema: schemaRef }, { anomalies: fresh('anomalies') });
  const meta = result.artifacts!.anomalies.artifacts[0].metadata!;
  expect(meta).not.toHaveProperty('span');
  expect(meta).not.toHaveProperty('version');
  expect(meta).toMatchObject({ blessed: 1, split_names: '["train","eval"]' });
});

it('blesses the next span when nothing is wrong (drift measured against the previous span)', async () => {
  const feb = await statistics(span(2), 2);
  const out = fresh('anomalies');
  const log: string[] = [];
  const result = await run(ExampleValidator, { statistics: feb, schema: schemaRef, baseline_statistics: jan }, { anomalies: out }, {}, log);
  expect(result.artifacts!.anomalies.artifacts[0].metadata).toMatchObject({ blessed: 1, blessed_train: 1, blessed_eval: 1, span: 2, split_names: '["train","eval"]' });
  // No anomalies, no event line: the anomalies alert counts every one.
  expect(anomalyEvents(log)).toEqual([]);
  const a = readAnomalies(out, 'train');
  expect(a.anomalyInfo).toEqual({});
  expect(a.driftSkewInfo![0]).toMatchObject({ path: { step: ['origin'] }, driftMeasurements: [{ type: 'L_INFTY', threshold: 0.05 }] });
  expect(a.driftSkewInfo![0].driftMeasurements![0].value).toBeLessThan(0.05);
});

it("'fail' stops the node with a one-line message naming split, feature and anomaly", async () => {
  // March, but one in five flights now leaves from 'ZZZ' (an airport never seen) and delay holds error strings.
  const broken = await statistics(span(3, `CASE WHEN hash(date) % 5 = 0 THEN 'ZZZ' ELSE origin END`), 3);
  const examples = await writeExamples(fresh('examples'), {
    train: `SELECT date, CASE WHEN hash(date) % 100 = 0 THEN 'ERROR' ELSE CAST(delay AS VARCHAR) END AS delay, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = 3 LIMIT 20000`,
  }, 3);
  const typed = outputRef(await run(StatisticsGen, { examples }, { statistics: fresh('statistics') }), 'statistics');

  const out = fresh('anomalies');
  const log: string[] = [];
  const err = await run(ExampleValidator, { statistics: broken, schema: schemaRef, baseline_statistics: jan }, { anomalies: out }, {}, log).catch((e) => e);
  expect(err).toBeInstanceOf(UserError);
  expect(err.message).not.toContain('\n');
  expect(err.message).toMatch(/^ExampleValidator found 2 anomalies: split train feature origin COMPARATOR_L_INFTY_HIGH; split eval feature origin COMPARATOR_L_INFTY_HIGH/);
  expect(log.join('\n')).toContain('The feature value with maximum difference is: ZZZ');
  expect(fs.existsSync(out)).toBe(false);
  // A failing node still logs its event lines first, one per split; run on its own, it names no pipeline or node.
  expect(anomalyEvents(log)).toEqual(
    ['train', 'eval'].map((split) => ({
      severity: 'WARNING',
      event: 'anomalies',
      split,
      count: 1,
      types: ['COMPARATOR_L_INFTY_HIGH'],
      message: `split ${split}: 1 anomaly (COMPARATOR_L_INFTY_HIGH)`,
    })),
  );
  // And a `skew` line per drift comparison over its threshold, the one MlMonitoring's skew alert counts.
  const drift = skewEvents(log);
  expect(drift).toEqual(
    ['train', 'eval'].map((split) => ({
      severity: 'WARNING',
      event: 'skew',
      split,
      feature: 'origin',
      comparator: 'drift',
      statistic: 'L_INFTY',
      value: expect.any(Number),
      threshold: expect.any(Number),
      message: expect.stringMatching(/^drift in feature origin from the previous span: L_INFTY [\d.]+ above threshold [\d.]+$/),
    })),
  );
  for (const e of drift) expect(e.value as number).toBeGreaterThan(e.threshold as number);

  const typeErr = await run(ExampleValidator, { statistics: typed, schema: schemaRef }, { anomalies: fresh('anomalies') }).catch((e) => e);
  expect(typeErr.message).toContain('split train feature delay UNEXPECTED_DATA_TYPE');
});

it("'warn' records the anomalies, publishes them and marks the span not blessed", async () => {
  const broken = await statistics(span(3, `CASE WHEN hash(date) % 5 = 0 THEN 'ZZZ' ELSE origin END`), 3);
  const out = fresh('anomalies');
  const result = await run(ExampleValidator, { statistics: broken, schema: schemaRef, baseline_statistics: jan }, { anomalies: out }, { on_anomalies: 'warn' });
  expect(result.artifacts!.anomalies.artifacts[0].metadata).toMatchObject({ blessed: 0, blessed_train: 0, blessed_eval: 0 });
  const a = readAnomalies(out, 'eval');
  expect(a.anomalyInfo.origin.reason.map((r) => r.type)).toEqual(['COMPARATOR_L_INFTY_HIGH']);
  expect(a.baseline.feature.length).toBe(5);
});

it('never blesses an empty split', async () => {
  const empty = await statistics({ train: `SELECT * FROM (${span(2).train}) LIMIT 0` }, 2);
  const log: string[] = [];
  const result = await run(ExampleValidator, { statistics: empty, schema: schemaRef }, { anomalies: fresh('anomalies') }, { on_anomalies: 'warn' }, log);
  expect(result.artifacts!.anomalies.artifacts[0].metadata).toMatchObject({ blessed: 0, blessed_train: 0 });
  expect(anomalyEvents(log)).toEqual([expect.objectContaining({ split: 'train', types: expect.arrayContaining(['DATA_MISSING']) })]);
  const err = await run(ExampleValidator, { statistics: empty, schema: schemaRef }, { anomalies: fresh('anomalies') }).catch((e) => e);
  expect(err.message).toMatch(/^ExampleValidator found \d+ anomalies: split train has no examples/);
});

it('compares training with serving statistics for skew', async () => {
  const serving = await statistics({ serving: `SELECT date, delay + 120 AS delay, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = 1 LIMIT 20000` }, 1);
  const out = fresh('anomalies');
  const log: string[] = [];
  const result = await run(ExampleValidator, { statistics: jan, schema: schemaRef, serving_statistics: serving }, { anomalies: out }, { on_anomalies: 'warn', exclude_splits: ['eval'] }, log);
  expect(result.artifacts!.anomalies.artifacts[0].metadata).toMatchObject({ blessed: 0, blessed_train: 0, split_names: '["train"]' });
  const a = readAnomalies(out, 'train');
  expect(a.anomalyInfo.delay.reason[0].type).toBe('COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH');
  expect(a.anomalyInfo.delay.reason[0].shortDescription).toBe('High approximate Jensen-Shannon divergence between training and serving');
  expect(skewEvents(log)).toEqual([expect.objectContaining({ split: 'train', feature: 'delay', comparator: 'skew', statistic: 'JENSEN_SHANNON_DIVERGENCE' })]);
  expect(Object.keys(skewEvents(log)[0])).toEqual(expect.arrayContaining(LOG_CONTRACT.skew.fields.map((f) => f.split(' ')[0]).filter((f) => f !== 'pipeline' && f !== 'node')));
});

describe('the anomalies event line reaches where Cloud Logging reads it', () => {
  it('`mlp component run ExampleValidator` (a container step) writes it to stderr', async () => {
    const broken = await statistics(span(3, `CASE WHEN hash(date) % 5 = 0 THEN 'ZZZ' ELSE origin END`), 3);
    const ref = (a: ArtifactRef) => ({ artifacts: [{ uri: a.uri, metadata: a.properties }] });
    const input = {
      inputs: { parameterValues: { on_anomalies: 'warn', exclude_splits: ['eval'] }, artifacts: { statistics: ref(broken), schema: ref(schemaRef), baseline_statistics: ref(jan) } },
      outputs: { artifacts: { anomalies: { artifacts: [{ uri: fresh('anomalies') }] } } },
    };
    const r = await runCli(['component', 'run', 'ExampleValidator', '--executor-input', JSON.stringify(input)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(anomalyEvents(r.stderr.split('\n'))).toEqual([expect.objectContaining({ event: 'anomalies', split: 'train', count: 1, types: ['COMPARATOR_L_INFTY_HIGH'] })]);
  }, 60_000);

  it('a local runner run logs it in the node log with every contract field, naming pipeline and node', async () => {
    // One span whose delay column holds strings, against a schema inferred from the numbers: a type anomaly.
    const base = fresh('incoming');
    const clean = await writeParquet(path.join(fresh('clean'), 'part.parquet'), `SELECT CAST(date AS VARCHAR) AS date, delay, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = 1 LIMIT 3000`);
    await writeParquet(path.join(base, 'span-1', 'part.parquet'), `SELECT CAST(date AS VARCHAR) AS date, CAST(delay AS VARCHAR) AS delay, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = 1 LIMIT 3000`);
    const schemaFile = path.join(fresh('schema'), 'schema.json');
    await fs.promises.mkdir(path.dirname(schemaFile));
    await fs.promises.writeFile(schemaFile, JSON.stringify(inferSchema(await generateStatistics('all', [clean]))));
    const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.sqlite')}`);
    try {
      const summary = await runPipeline(dataValidation, {
        root: fresh('root'),
        store,
        modules: [path.join(REPO_ROOT, 'pipelines', 'data-validation.ts')],
        parameters: { input_base: base, schema_file: schemaFile },
      });
      expect(summary.state).toBe('COMPLETE');
      const node = summary.nodes.find((n) => n.id === 'example-validator')!;
      const events = anomalyEvents(fs.readFileSync(node.logFile!, 'utf8').split('\n'));
      expect(events.map((e) => e.split).sort()).toEqual(['eval', 'train']);
      for (const e of events) {
        expect(e).toMatchObject({ severity: 'WARNING', event: 'anomalies', pipeline: 'data-validation', node: 'example-validator', count: expect.any(Number), types: expect.arrayContaining([expect.stringMatching(/^[A-Z_]+$/)]) });
        expect(Object.keys(e)).toEqual(expect.arrayContaining(CONTRACT_FIELDS));
        expect(e.count).toBeGreaterThan(0);
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
