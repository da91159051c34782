// `mlp monitor run-finished` (the exit step of a cloud run, writing MlMonitoring's run_finished line): the
// duration from --started, our own state words, and one-line errors with exit 1 and no line for bad flags.
// The Argo exit handler that runs it is tested with the compiler (test/runtime/compilers/argo.test.ts).

import { runCli } from '../../support/cli';

const finished = (...args: string[]) => runCli(['monitor', 'run-finished', '--pipeline', 'penguins', '--run-id', 'r-7', ...args]);

test('--started measures the duration to now; COMPLETE and FAILED are accepted as they are', async () => {
  const started = new Date(Date.now() - 90_000).toISOString();
  const before = Date.now();
  const ok = await finished('--status', 'COMPLETE', '--started', started);
  const after = Date.now();
  expect([ok.code, ok.stdout]).toEqual([0, '']);
  const line = JSON.parse(ok.stderr);
  expect(line).toMatchObject({ severity: 'INFO', event: 'run_finished', pipeline: 'penguins', runId: 'r-7', state: 'COMPLETE' });
  expect(line.durationMs).toBeGreaterThanOrEqual(before - Date.parse(started));
  expect(line.durationMs).toBeLessThanOrEqual(after - Date.parse(started));
  const failed = await finished('--status', 'failed', '--duration-seconds', '0');
  expect(JSON.parse(failed.stderr)).toMatchObject({ severity: 'ERROR', state: 'FAILED', durationMs: 0 });
});

test("a canceled run is CANCELED (KFP's CANCELLED, our own word), a WARNING the failed-run alert counts too", async () => {
  for (const status of ['CANCELED', '{"state":"CANCELLED","error":{}}']) {
    const r = await finished('--status', status, '--duration-seconds', '2');
    expect([r.code, JSON.parse(r.stderr)]).toEqual([0, { severity: 'WARNING', event: 'run_finished', pipeline: 'penguins', runId: 'r-7', state: 'CANCELED', durationMs: 2000, message: 'run r-7 of pipeline penguins finished CANCELED' }]);
  }
});

test.each([
  [['--status', 'Running', '--duration-seconds', '1'], 'mlp: error: --status "Running": expected how a run ended, one of COMPLETE, FAILED, CANCELED, Succeeded, Failed, Error, SUCCEEDED, CANCELLED, or a JSON object with one as "state"'],
  [['--status', 'Failed'], 'mlp: error: give one of --duration-seconds or --started'],
  [['--status', 'Failed', '--duration-seconds', '1', '--started', '2026-01-01T00:00:00Z'], 'mlp: error: give one of --duration-seconds or --started'],
  [['--status', 'Failed', '--duration-seconds', '-3'], 'mlp: error: --duration-seconds "-3": expected a number of seconds ≥ 0'],
  [['--status', 'Failed', '--started', 'yesterday'], 'mlp: error: --started "yesterday": expected an ISO 8601 time such as 2026-01-31T12:00:00Z'],
  [['--status', 'Failed', '--started', '2999-01-01T00:00:00Z'], 'mlp: error: --started 2999-01-01T00:00:00Z is in the future'],
])('%j is a one-line error, exit 1, and no line', async (args, error) => {
  const result = await finished(...args);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim()).toBe(error);
});

test('--pipeline, --run-id and --status are required', async () => {
  const result = await runCli(['monitor', 'run-finished', '--run-id', 'r', '--status', 'Failed', '--duration-seconds', '1']);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("error: required option '--pipeline <name>' not specified");
});
