// StatisticsGen end to end through the launcher: an Examples artifact (flights by month, several part
// files per split) in, ExampleStatistics out with Split-<name>/FeatureStats.json and span/version/
// split_names copied.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StatisticsGen } from '../../../../runtime/components/statistics-gen';
import { sqlString } from '../../../../runtime/data/duckdb';
import type { DatasetFeatureStatisticsList } from '../../../../runtime/tfdv/statistics-proto';
import { FLIGHTS, run, writeExamples } from '../../tfdv/helpers';

let root: string;
beforeEach(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'statistics-gen-'));
});
afterEach(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

const month = (m: number, part: number) =>
  `SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) WHERE month(date) = ${m} AND hash(date, origin, destination) % 4 = ${part} LIMIT 20000`;

it('writes TFDV statistics per split and copies the span properties', async () => {
  const examples = await writeExamples(path.join(root, 'examples'), { train: [month(3, 0), month(3, 1), month(3, 2)], eval: month(3, 3) }, 3);
  const log: string[] = [];
  const out = await run(StatisticsGen, { examples }, { statistics: path.join(root, 'statistics') }, { shards: 2 }, log);
  const meta = out.artifacts!.statistics.artifacts[0].metadata!;
  expect(meta).toMatchObject({ span: 3, version: 0, split_names: '["train","eval"]' });
  const train = JSON.parse(fs.readFileSync(path.join(root, 'statistics', 'Split-train', 'FeatureStats.json'), 'utf8')) as DatasetFeatureStatisticsList;
  expect(train.datasets).toHaveLength(1);
  expect(train.datasets[0]).toMatchObject({ name: 'train', numExamples: '60000' });
  expect(train.datasets[0].features.map((f) => [f.name, f.type])).toEqual([
    ['date', 'INT'],
    ['delay', 'INT'],
    ['destination', 'STRING'],
    ['distance', 'INT'],
    ['origin', 'STRING'],
  ]);
  const evalStats = JSON.parse(fs.readFileSync(path.join(root, 'statistics', 'Split-eval', 'FeatureStats.json'), 'utf8')) as DatasetFeatureStatisticsList;
  expect(evalStats.datasets[0].numExamples).toBe('20000');
  expect(log.join('\n')).toMatch(/split train: 60000 examples, 5 features in \d+ ms/);
});

it('records no span or version the Examples do not have (never a made-up 0)', async () => {
  const examples = await writeExamples(path.join(root, 'examples'), { train: month(1, 0) });
  const { span: _span, version: _version, ...rest } = examples.properties;
  const out = await run(StatisticsGen, { examples: { ...examples, properties: rest } }, { statistics: path.join(root, 'statistics') });
  const meta = out.artifacts!.statistics.artifacts[0].metadata!;
  expect(meta).not.toHaveProperty('span');
  expect(meta).not.toHaveProperty('version');
  expect(meta).toMatchObject({ split_names: '["train"]' });
});

it('skips excluded splits and fails with the split named when its files are missing', async () => {
  const examples = await writeExamples(path.join(root, 'examples'), { train: month(1, 0) });
  const out = await run(StatisticsGen, { examples: { ...examples, properties: { ...examples.properties, split_names: '["train","eval"]' } } }, { statistics: path.join(root, 's1') }, { exclude_splits: ['eval'] });
  expect(out.artifacts!.statistics.artifacts[0].metadata!.split_names).toBe('["train"]');
  await expect(
    run(StatisticsGen, { examples: { ...examples, properties: { ...examples.properties, split_names: '["train","eval"]' } } }, { statistics: path.join(root, 's2') }),
  ).rejects.toThrow(/no Parquet files for split "eval"/);
  expect(fs.existsSync(path.join(root, 's2'))).toBe(false);
});
