// Progress rendering: a line per finished node (with the reason under --explain), and on a TTY a live
// status line of the running nodes that is erased before the next line is printed.

import { PassThrough } from 'stream';
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

test('durations read naturally', () => {
  expect(formatDuration(12)).toBe('12ms');
  expect(formatDuration(1500)).toBe('1.50s');
  expect(formatDuration(125_000)).toBe('2m5s');
});
