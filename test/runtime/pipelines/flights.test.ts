// The flights continuous-training pipeline span after span, through the CLI: span 1 trains and is pushed
// (no baseline: change thresholds pass); span 2 is checked for drift against span 1, warm-started from span 1's
// model, evaluated against it and pushed; span 3 arrives with labels that carry no signal (a broken upstream
// job), so its model fails the thresholds against span 2's and is not pushed — the serving folder keeps the
// two good versions.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFlightSpans } from '../../../pipelines/examples/flights-data';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { readEvaluation } from '../../../runtime/evaluation';
import { runCli } from '../../support/cli';

let work: string;
beforeAll(async () => {
  work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-flights-'));
});
afterAll(async () => {
  await fs.promises.rm(work, { recursive: true, force: true });
});

interface NodeSummary {
  id: string;
  state: string;
  outputs: Record<string, string>;
  reason: string;
  logFile?: string;
}

async function runSpan(span: number): Promise<Record<string, NodeSummary>> {
  const r = await runCli(['run', 'flights', '--root', path.join(work, 'root'), '--param', `span=${span}`, '--param', `input_base=${path.join(work, 'data')}`, '--json']);
  expect(r.code).toBe(0);
  return Object.fromEntries((JSON.parse(r.stdout).nodes as NodeSummary[]).map((n) => [n.id, n]));
}

function pushed(nodes: Record<string, NodeSummary>): { pushed: boolean; version?: number; reasons?: string[] } {
  return JSON.parse(fs.readFileSync(path.join(nodes.pusher.outputs.pushed_model, 'pushed.json'), 'utf8'));
}

test('span after span: drift check, warm start, evaluation against the last blessed model, push or reject', async () => {
  const data = path.join(work, 'data');
  await writeFlightSpans({ outDir: data, spans: [1, 2, 3], rowsPerSpan: 20_000 });
  // Span 3's labels replaced by coin flips: same features, no signal.
  const span3 = path.join(data, 'span-3', 'flights.parquet');
  const noisy = path.join(work, 'noisy.parquet');
  await (await duckdb()).run(`COPY (SELECT * REPLACE ((hash(origin, destination, hour, distance, day_of_week) % 5 = 0)::BIGINT AS delayed) FROM read_parquet(${sqlString(span3)})) TO ${sqlString(noisy)} (FORMAT parquet)`);
  await fs.promises.rename(noisy, span3);

  const first = await runSpan(1);
  expect(first['previous-statistics'].outputs).toEqual({});
  expect(first['warm-start-model'].outputs).toEqual({});
  const e1 = readEvaluation(fs.readFileSync(path.join(first.evaluator.outputs.evaluation, 'evaluation.json'), 'utf8'), 'span 1');
  expect(e1.baseline_model).toBeUndefined();
  expect(e1.validation.blessed).toBe(true);
  const p1 = pushed(first);
  expect(p1.pushed).toBe(true);

  const second = await runSpan(2);
  // Drift: the validator compared span 2's statistics with span 1's.
  expect(second['previous-statistics'].outputs.result).toBe(first['statistics-gen'].outputs.statistics);
  expect(second['warm-start-model'].outputs.result).toBe(first.trainer.outputs.model);
  expect(fs.readFileSync(second.trainer.logFile!, 'utf8')).toContain(`warm start from ${first.trainer.outputs.model}`);
  const e2 = readEvaluation(fs.readFileSync(path.join(second.evaluator.outputs.evaluation, 'evaluation.json'), 'utf8'), 'span 2');
  expect(e2.baseline_model?.uri).toBe(first.trainer.outputs.model);
  expect(e2.validation.results.some((r) => r.threshold.kind === 'absolute_change' && r.baseline_value !== undefined)).toBe(true);
  expect(e2.validation.blessed).toBe(true);
  const p2 = pushed(second);
  expect(p2.pushed).toBe(true);
  expect(p2.version!).toBeGreaterThan(p1.version!);

  const third = await runSpan(3);
  const e3 = readEvaluation(fs.readFileSync(path.join(third.evaluator.outputs.evaluation, 'evaluation.json'), 'utf8'), 'span 3');
  expect(e3.baseline_model?.uri).toBe(second.trainer.outputs.model);
  expect(e3.validation.blessed).toBe(false);
  expect(e3.validation.failures.join('\n')).toMatch(/auc on Overall = [\d.]+ (vs baseline|is below)/);
  const p3 = pushed(third);
  expect(p3).toMatchObject({ pushed: false });
  expect(p3.reasons!.join(' ')).toContain('not blessed');
  const serving = path.join(work, 'root', 'serving', 'flights');
  expect(fs.readdirSync(serving).sort()).toEqual([String(p1.version), String(p2.version)].sort());
}, 400_000);
