// `mlp stats show`: the per-feature terminal summary of a statistics file or ExampleStatistics folder,
// exercised through the formatting function and through commander with a fresh program.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { formatStatistics, registerStatsCommand } from '../../../runtime/cli/commands/stats';
import { sqlString } from '../../../runtime/data/duckdb';
import { statisticsPath, writeJson } from '../../../runtime/tfdv/artifact-files';
import type { DatasetFeatureStatistics } from '../../../runtime/tfdv/statistics-proto';
import { PENGUINS, statsOf } from './helpers';

let dir: string;
let penguins: DatasetFeatureStatistics;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'stats-command-'));
  penguins = await statsOf(dir, 'train', `SELECT * FROM read_json(${sqlString(PENGUINS)})`);
  await writeJson(statisticsPath(path.join(dir, 'artifact'), 'train'), { datasets: [penguins] });
  await writeJson(statisticsPath(path.join(dir, 'artifact'), 'eval'), { datasets: [{ ...penguins, name: 'eval' }] });
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

it('formats one table for numeric and one for string features', () => {
  const text = formatStatistics(penguins);
  const lines = text.split('\n');
  expect(lines[0]).toBe('split train: 344 examples, 7 features');
  expect(lines[2]).toMatch(/^numeric feature\s+type\s+present\s+missing\s+mean\s+std dev\s+zeros\s+min\s+median\s+max\s+NaN$/);
  expect(text).toMatch(/\nBeak Length \(mm\)\s+FLOAT\s+99\.4%\s+2\s+43\.92\s+5\.452\s+0\s+32\.1\s+44\.\d+\s+59\.6\s+0\n/);
  expect(text).toMatch(/\nSex\s+STRING\s+97\.1%\s+10\s+3\s+4\.979\s+MALE \(168\), FEMALE \(165\), \. \(1\)\n/);
});

async function runStats(args: string[]): Promise<string> {
  const program = new Command('mlp').exitOverride();
  registerStatsCommand(program);
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'mlp', 'stats', 'show', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

it('shows every split of an artifact folder, one split, a single file, or JSON', async () => {
  const all = await runStats([path.join(dir, 'artifact')]);
  expect(all.match(/^split \w+:/gm)).toEqual(['split eval:', 'split train:']);
  const one = await runStats([path.join(dir, 'artifact'), '--split', 'train']);
  expect(one.match(/^split \w+:/gm)).toEqual(['split train:']);
  const file = await runStats([statisticsPath(path.join(dir, 'artifact'), 'eval'), '--json']);
  expect(JSON.parse(file).datasets[0]).toMatchObject({ name: 'eval', numExamples: '344' });
  await expect(runStats([path.join(dir, 'artifact'), '--split', 'test'])).rejects.toThrow('no statistics for split "test" in');
  await expect(runStats([path.join(dir, 'nothing')])).rejects.toThrow('no such file or folder');
});
