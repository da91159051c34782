// Progress rendering: a line per finished node (with the reason under --explain), executors' progress
// statuses relayed from their worker processes, and on a TTY a live status line of the running nodes that is
// erased before the next line is printed.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { runCli } from '../../support/cli';
import { ProgressReporter, formatDuration } from '../../../runtime/runner/progress';
import type { NodeResult } from '../../../runtime/runner/run-types';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { out, text: () => text };
}

const result = (id: string, state: NodeResult['state'], extra: Partial<NodeResult> = {}): NodeResult => ({
  id, component: 'C', state, durationMs: 1234, attempts: 1, outputs: {}, reason: `because ${id}`, ...extra,
});

test('plain mode prints one line per node and a run summary', () => {
  const { out, text } = capture();
  const r = new ProgressReporter({ out, explain: false, live: false });
  r.runStarted('run-1', 'p', ['a', 'bb']);
  r.nodeStarted('a');
  r.nodeFinished(result('a', 'executed'));
  r.nodeRetrying('bb', 1, 'boom', 500);
  r.nodeFinished(result('bb', 'failed', { error: 'boom', attempts: 2 }));
  r.runFinished({ runId: 'run-1', pipeline: 'p', state: 'FAILED', startedAt: '', durationMs: 2500, root: '/r', parameters: {}, logDir: '/r/.runs/run-1', nodes: [result('a', 'executed'), result('bb', 'failed')] });
  expect(text()).toBe(
    'run run-1 of pipeline p: 2 nodes\n' +
      '✓ [1/2] a   executed        1.23s\n' +
      '  bb: attempt 1 failed (boom); retrying in 500ms\n' +
      '✗ [2/2] bb  failed          1.23s (2 attempts)  boom\n' +
      'run run-1 FAILED in 2.50s: 1 executed, 1 failed (logs: /r/.runs/run-1)\n',
  );
});

test('--explain adds why each node ran or was reused', () => {
  const { out, text } = capture();
  const r = new ProgressReporter({ out, explain: true, live: false });
  r.runStarted('run-1', 'p', ['a']);
  r.nodeFinished(result('a', 'cached'));
  expect(text()).toContain('↺ [1/1] a  cached          1.23s\n    why: because a\n');
});

test('live mode shows running nodes on a status line and clears it before printing', () => {
  const { out, text } = capture();
  const r = new ProgressReporter({ out, explain: false, live: true });
  r.runStarted('run-1', 'p', ['a', 'b']);
  r.nodeStarted('a');
  r.nodeStarted('b');
  expect(text()).toMatch(/… running: a \d+ms, b \d+ms$/);
  r.nodeFinished(result('a', 'executed'));
  // The status line is erased (\r + clear line), the node line printed, then the status redrawn for b only.
  expect(text()).toMatch(/\r\x1b\[2K✓ \[1\/2\] a  executed        1\.23s\n… running: b \d+ms$/);
  r.runFinished({ runId: 'run-1', pipeline: 'p', state: 'COMPLETE', startedAt: '', durationMs: 10, root: '/r', parameters: {}, logDir: '/l', nodes: [] });
});

test('a running node\'s progress status: a line each without a TTY, next to its elapsed time on the live line', () => {
  const plain = capture();
  const r = new ProgressReporter({ out: plain.out, explain: false, live: false });
  r.runStarted('run-1', 'p', ['tuner']);
  r.nodeStarted('tuner');
  r.nodeProgress('tuner', 'trial 1/3 RUNNING · 0 of 3 done · no result yet');
  r.nodeFinished(result('tuner', 'executed'));
  // A status arriving after the node finished is not shown.
  r.nodeProgress('tuner', 'late');
  expect(plain.text()).toBe(
    'run run-1 of pipeline p: 1 nodes\n' +
      '  tuner: trial 1/3 RUNNING · 0 of 3 done · no result yet\n' +
      '✓ [1/1] tuner  executed        1.23s\n',
  );

  const live = capture();
  const l = new ProgressReporter({ out: live.out, explain: false, live: true });
  l.runStarted('run-1', 'p', ['tuner', 'b']);
  l.nodeStarted('tuner');
  l.nodeStarted('b');
  l.nodeProgress('tuner', 'trial 2/3 COMPLETED val_loss=0.41 · 2 of 3 done · best val_loss=0.41 (trial-2)');
  expect(live.text()).toMatch(/\r\x1b\[2K… running: tuner \d+ms \(trial 2\/3 COMPLETED val_loss=0\.41 · 2 of 3 done · best val_loss=0\.41 \(trial-2\)\), b \d+ms$/);
  l.nodeFinished(result('tuner', 'executed'));
  expect(live.text()).toMatch(/… running: b \d+ms$/);
  // On a terminal narrower than the status, the status is cut to fit (a wrapped line could not be erased).
  Object.assign(live.out, { columns: 30 });
  l.nodeProgress('b', 'trial 1/9 RUNNING · 0 of 9 done · no result yet');
  const last = live.text().split('\r\x1b[2K').pop()!;
  expect(last).toHaveLength(29);
  expect(last).toMatch(/^… running: b \d+ms \(trial .*…$/);
  l.runFinished({ runId: 'run-1', pipeline: 'p', state: 'COMPLETE', startedAt: '', durationMs: 10, root: '/r', parameters: {}, logDir: '/l', nodes: [] });
});

test('mlp run relays an executor\'s progress from its worker process', async () => {
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-progress-'));
  try {
    const r = await runCli(['run', path.join(__dirname, '../../fixtures/pipelines/progress-pipeline.ts'), '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^ {2}report: step 1\/2\n {2}report: step 2\/2\n✓ \[1\/1\] report {2}executed/m);
  } finally {
    await fs.promises.rm(root, { recursive: true, force: true });
  }
}, 60_000);

test('durations read naturally', () => {
  expect(formatDuration(12)).toBe('12ms');
  expect(formatDuration(1500)).toBe('1.50s');
  expect(formatDuration(125_000)).toBe('2m5s');
});
