// `mlp monitor skew` end to end: a real penguins model served with request logging, fed training-like
// requests (no skew: exit 0) and requests whose island distribution is shifted (skew: exit 2 naming the
// feature, anomalies written as TFDV Anomalies JSON, a `skew` log line on stderr per skewed feature), against
// the real StatisticsGen statistics and a schema with skew comparators; plus the default comparators without a
// schema, --json, errors (exit 1), and statistics, schema, logs and --out on gs:// through the GCS emulator.

import * as fs from 'fs';
import * as path from 'path';
import { LOG_CONTRACT } from '../../../constructs/ml-monitoring';
import { storageFor } from '../../../runtime/storage';
import { startModelServer } from '../../../runtime/serving/model-server';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import type { Anomalies } from '../../../runtime/tfdv/anomalies-proto';
import type { Schema } from '../../../runtime/tfdv/schema-proto';
import { readSchema } from '../../../runtime/tfdv/artifact-files';
import { runCli } from '../../support/cli';
import { useGcsEmulator } from '../../support/gcs-emulator';
import { buildPenguinsUpstream, QUICK_HP, train, useTempDir, type Upstream } from '../ml/helpers';
import { memoryLogger, penguinRows, publishVersion, request } from '../serving/helpers';
import type { RawRow } from '../../../runtime/transform/apply';

const tmp = useTempDir('mlp-monitor-');
let upstream: Upstream;
let base: string;
let schemaDir: string;

/** Serves the model with every request logged, sends the rows (20 per request) and returns the log folder. */
async function logRequests(name: string, rows: RawRow[]): Promise<string> {
  const dir = path.join(tmp.dir, name);
  const server = await startModelServer({
    models: [{ name: 'penguins', basePath: base, policy: DEFAULT_POLICY, labels: {} }],
    port: 0,
    pollSeconds: 0,
    requestLog: { dir, sample: 1 },
    logger: memoryLogger().logger,
  });
  try {
    for (let i = 0; i < rows.length; i += 20) {
      expect((await request(`${server.url}/v1/models/penguins:predict`, { body: { instances: rows.slice(i, i + 20) } })).status).toBe(200);
    }
  } finally {
    await server.close();
  }
  return dir;
}

beforeAll(async () => {
  upstream = await buildPenguinsUpstream(tmp.dir);
  const trained = await train(tmp.dir, upstream, { hyperparameters: QUICK_HP });
  base = path.join(tmp.dir, 'serving-base');
  await publishVersion(trained.model.uri, base, 1);
  // SchemaGen's schema with skew thresholds on two features (TFDV's skew_comparator, set by the user).
  const schema: Schema = await readSchema(upstream.schema.uri);
  for (const f of schema.feature) {
    if (f.name === 'Island') f.skewComparator = { infinityNorm: { threshold: 0.2 } };
    if (f.name === 'Body Mass (g)') f.skewComparator = { jensenShannonDivergence: { threshold: 0.3 } };
  }
  schemaDir = path.join(tmp.dir, 'schema');
  await fs.promises.mkdir(schemaDir);
  await fs.promises.writeFile(path.join(schemaDir, 'schema.json'), JSON.stringify(schema));
}, 120_000);

const skew = (args: string[]) => runCli(['monitor', 'skew', '--training-stats', upstream.statistics.uri, ...args]);

/** The JSON lines of an output; the skew event lines are the only ones on stderr. */
const jsonLines = (text: string): Record<string, unknown>[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
/** The field names LOG_CONTRACT lists for an event ("comparator (\"skew\" | \"drift\")" is the field comparator). */
const contractFields = (fields: readonly string[]) => fields.map((f) => f.split(' ')[0]);

test('training-like requests show no skew: exit 0, every comparison printed', async () => {
  const logs = await logRequests('like-training', penguinRows(400));
  const out = path.join(tmp.dir, 'out-ok');
  const r = await skew(['--serving-logs', logs, '--schema', schemaDir, '--out', out, '--pipeline', 'penguins', '--node', 'skew-check']);
  // No comparison above its threshold, so no skew event line (the skew alert counts every one).
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^\d+ logged instances vs split train: 2 comparisons, 0 above threshold\n/);
  expect(r.stdout).toMatch(/Island\s+L_INFTY\s+[\d.e-]+\s+0\.2\s+ok/);
  expect(r.stdout).toMatch(/Body Mass \(g\)\s+JENSEN_SHANNON_DIVERGENCE\s+[\d.e-]+\s+0\.3\s+ok/);
  const anomalies = JSON.parse(await fs.promises.readFile(path.join(out, 'Split-train', 'SchemaDiff.json'), 'utf8')) as Anomalies;
  expect(anomalies.anomalyInfo).toEqual({});
  expect(anomalies.driftSkewInfo?.map((i) => i.path.step[0]).sort()).toEqual(['Body Mass (g)', 'Island']);

  // Without a schema: inferred, with the default comparator on every feature.
  const defaults = await skew(['--serving-logs', logs, '--default-threshold', '0.5']);
  expect(defaults.code).toBe(0);
  expect(defaults.stdout).toMatch(/6 comparisons, 0 above threshold/);
}, 60_000);

test('a shifted island distribution is skew: exit 2 naming the feature, anomalies written', async () => {
  const shifted = penguinRows(400).map((r, i) => ({ ...r, Island: i % 4 === 0 ? 'Dream' : 'Torgersen' }));
  const logs = await logRequests('shifted', shifted);
  const out = path.join(tmp.dir, 'out-skew');
  const r = await skew(['--serving-logs', logs, '--schema', path.join(schemaDir, 'schema.json'), '--out', out, '--pipeline', 'penguins', '--node', 'skew-check']);
  expect(r.code).toBe(2);
  expect(r.stdout).toMatch(/Island\s+L_INFTY\s+0\.\d+\s+0\.2\s+SKEW/);
  // One skew event line on stderr, for Island, with MlMonitoring's contract fields.
  const events = jsonLines(r.stderr);
  expect(events).toEqual([
    {
      severity: 'WARNING',
      event: LOG_CONTRACT.skew.event,
      pipeline: 'penguins',
      node: 'skew-check',
      feature: 'Island',
      comparator: 'skew',
      statistic: 'L_INFTY',
      value: expect.any(Number),
      threshold: 0.2,
      message: expect.stringMatching(/^training\/serving skew in feature Island: L_INFTY 0\.\d+ above threshold 0\.2$/),
    },
  ]);
  expect(Object.keys(events[0])).toEqual(expect.arrayContaining(contractFields(LOG_CONTRACT.skew.fields)));
  expect(events[0].value).toBeGreaterThan(0.2);
  expect(r.stdout).toContain('skew in Island\n');
  const anomalies = JSON.parse(await fs.promises.readFile(path.join(out, 'Split-train', 'SchemaDiff.json'), 'utf8')) as Anomalies;
  expect(Object.keys(anomalies.anomalyInfo)).toEqual(['Island']);
  expect(anomalies.anomalyInfo.Island.reason[0]).toMatchObject({ type: 'COMPARATOR_L_INFTY_HIGH', shortDescription: 'High Linfty distance between training and serving' });
  const json = await skew(['--serving-logs', logs, '--schema', schemaDir, '--json']);
  expect(json.code).toBe(2);
  expect(JSON.parse(json.stdout)).toEqual(anomalies);
  // Without --pipeline/--node the line leaves them out rather than guessing.
  const unnamed = jsonLines(json.stderr);
  expect(unnamed).toEqual([expect.objectContaining({ event: 'skew', feature: 'Island' })]);
  expect(unnamed[0]).not.toHaveProperty('pipeline');
  expect(unnamed[0]).not.toHaveProperty('node');
}, 60_000);

test('errors exit 1 with one line', async () => {
  const empty = path.join(tmp.dir, 'empty-logs');
  await fs.promises.mkdir(empty);
  const [missing, none, split] = await Promise.all([
    skew(['--serving-logs', path.join(tmp.dir, 'nowhere')]),
    skew(['--serving-logs', empty]),
    skew(['--serving-logs', empty, '--split', 'nope']),
  ]);
  expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 1, stderr: `mlp: error: --serving-logs ${path.join(tmp.dir, 'nowhere')} does not exist\n` });
  expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 1, stderr: `mlp: error: --serving-logs ${empty} holds no .jsonl request logs\n` });
  expect(split.code).toBe(1);
  expect(split.stderr).toMatch(/^mlp: error: statistics of split "nope" not found/);
});

describe('statistics, schema, request logs and --out on gs:// (GCS emulator)', () => {
  const BUCKET = 'gs://mlp-skew-test';
  // The CLI child processes inherit the environment, so they reach the same emulator.
  useGcsEmulator();

  /** Uploads every file below a local folder to the same relative paths below a gs:// URI. */
  async function upload(dir: string, uri: string): Promise<void> {
    for (const name of await fs.promises.readdir(dir, { recursive: true })) {
      const file = path.join(dir, name);
      if ((await fs.promises.stat(file)).isFile()) await storageFor(uri).writeFile(`${uri}/${name.split(path.sep).join('/')}`, await fs.promises.readFile(file));
    }
  }

  test('the same anomalies as from local files, written to gs:// and read back', async () => {
    const shifted = penguinRows(400).map((r, i) => ({ ...r, Island: i % 4 === 0 ? 'Dream' : 'Torgersen' }));
    const logs = await logRequests('gs-shifted', shifted);
    await upload(upstream.statistics.uri, `${BUCKET}/statistics`);
    await upload(schemaDir, `${BUCKET}/schema`);
    await upload(logs, `${BUCKET}/logs`);

    const local = await skew(['--serving-logs', logs, '--schema', schemaDir, '--json']);
    expect(local.code).toBe(2);
    const remote = await runCli(['monitor', 'skew', '--training-stats', `${BUCKET}/statistics`, '--serving-logs', `${BUCKET}/logs`, '--schema', `${BUCKET}/schema`, '--out', `${BUCKET}/out`]);
    expect(remote.code).toBe(2);
    expect(remote.stdout).toContain('skew in Island\n');
    expect(jsonLines(remote.stderr)).toEqual([expect.objectContaining({ event: 'skew', feature: 'Island', statistic: 'L_INFTY', threshold: 0.2 })]);
    const written = JSON.parse((await storageFor(BUCKET).readFile(`${BUCKET}/out/Split-train/SchemaDiff.json`)).toString()) as Anomalies;
    expect(written).toEqual(JSON.parse(local.stdout));

    // A schema file (not its artifact folder) on gs:// works as well.
    const file = await runCli(['monitor', 'skew', '--training-stats', `${BUCKET}/statistics`, '--serving-logs', `${BUCKET}/logs`, '--schema', `${BUCKET}/schema/schema.json`, '--json']);
    expect({ code: file.code, anomalies: JSON.parse(file.stdout) }).toEqual({ code: 2, anomalies: written });
  }, 60_000);

  test('a missing gs:// statistics or schema file is a one-line error naming the object', async () => {
    const logs = path.join(tmp.dir, 'gs-errors-logs');
    await fs.promises.mkdir(logs);
    await fs.promises.writeFile(path.join(logs, 'requests.jsonl'), '{"Island":"Dream"}\n');
    await storageFor(BUCKET).writeFile(`${BUCKET}/stats-only/Split-train/FeatureStats.json`, await fs.promises.readFile(path.join(upstream.statistics.uri, 'Split-train', 'FeatureStats.json')));
    const [stats, schema] = await Promise.all([
      runCli(['monitor', 'skew', '--training-stats', `${BUCKET}/nowhere`, '--serving-logs', logs]),
      runCli(['monitor', 'skew', '--training-stats', `${BUCKET}/stats-only`, '--serving-logs', logs, '--schema', `${BUCKET}/stats-only/schema.json`]),
    ]);
    expect({ code: stats.code, stderr: stats.stderr }).toEqual({ code: 1, stderr: `mlp: error: statistics of split "train" not found: ${BUCKET}/nowhere/Split-train/FeatureStats.json\n` });
    expect({ code: schema.code, stderr: schema.stderr }).toEqual({ code: 1, stderr: `mlp: error: schema not found: ${BUCKET}/stats-only/schema.json\n` });
  }, 60_000);
});
