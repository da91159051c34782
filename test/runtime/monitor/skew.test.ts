// `mlp monitor skew` end to end: a real penguins model served with request logging, fed training-like
// requests (no skew: exit 0) and requests whose island distribution is shifted (skew: exit 2 naming the
// feature, anomalies written as TFDV Anomalies JSON), against the real StatisticsGen statistics and a schema
// with skew comparators; plus the default comparators without a schema, --json, and errors (exit 1).

import * as fs from 'fs';
import * as path from 'path';
import { startModelServer } from '../../../runtime/serving/model-server';
import { DEFAULT_POLICY } from '../../../runtime/serving/config';
import type { Anomalies } from '../../../runtime/tfdv/anomalies-proto';
import type { Schema } from '../../../runtime/tfdv/schema-proto';
import { readSchema } from '../../../runtime/tfdv/artifact-files';
import { runCli } from '../../support/cli';
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

test('training-like requests show no skew: exit 0, every comparison printed', async () => {
  const logs = await logRequests('like-training', penguinRows(400));
  const out = path.join(tmp.dir, 'out-ok');
  const r = await skew(['--serving-logs', logs, '--schema', schemaDir, '--out', out]);
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
  const r = await skew(['--serving-logs', logs, '--schema', path.join(schemaDir, 'schema.json'), '--out', out]);
  expect(r.code).toBe(2);
  expect(r.stdout).toMatch(/Island\s+L_INFTY\s+0\.\d+\s+0\.2\s+SKEW/);
  expect(r.stdout).toContain('skew in Island\n');
  const anomalies = JSON.parse(await fs.promises.readFile(path.join(out, 'Split-train', 'SchemaDiff.json'), 'utf8')) as Anomalies;
  expect(Object.keys(anomalies.anomalyInfo)).toEqual(['Island']);
  expect(anomalies.anomalyInfo.Island.reason[0]).toMatchObject({ type: 'COMPARATOR_L_INFTY_HIGH', shortDescription: 'High Linfty distance between training and serving' });
  const json = await skew(['--serving-logs', logs, '--schema', schemaDir, '--json']);
  expect(json.code).toBe(2);
  expect(JSON.parse(json.stdout)).toEqual(anomalies);
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
