// Renders run progress for people: one line per finished node (state, duration, and with --explain the
// reason), and on a TTY a live status line listing the nodes still running with their elapsed time and the
// latest progress status their executor sent (e.g. the Tuner's trial i/N); without a TTY each status is a line.

import type { NodeResult, RunReporter, RunSummary } from './run-types';

const SYMBOL: Record<NodeResult['state'], string> = {
  executed: '✓',
  cached: '↺',
  resolved: '→',
  failed: '✗',
  skipped: '-',
  upstream_failed: '-',
  canceled: '⊘',
};

export interface ProgressOptions {
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  explain: boolean;
  /** Live status line (only meaningful on a TTY). */
  live: boolean;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** A text progress bar such as [#####.......] for a fraction in [0, 1]. */
export function textBar(fraction: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.floor(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export class ProgressReporter implements RunReporter {
  private readonly running = new Map<string, number>();
  /** The latest progress status of each running node that sent one. */
  private readonly statuses = new Map<string, string>();
  private total = 0;
  private done = 0;
  private width = 0;
  private timer?: NodeJS.Timeout;
  private statusShown = false;

  constructor(private readonly opts: ProgressOptions) {}

  runStarted(runId: string, pipeline: string, nodeIds: string[]): void {
    this.total = nodeIds.length;
    this.width = Math.max(...nodeIds.map((n) => n.length));
    this.write(`run ${runId} of pipeline ${pipeline}: ${nodeIds.length} nodes\n`);
    if (this.opts.live) this.timer = setInterval(() => this.drawStatus(), 200).unref();
  }

  nodeStarted(id: string): void {
    this.running.set(id, Date.now());
    this.drawStatus();
  }

  nodeRetrying(id: string, attempt: number, error: string, delayMs: number): void {
    this.write(`  ${id}: attempt ${attempt} failed (${error}); retrying in ${formatDuration(delayMs)}\n`);
  }

  nodeWaiting(id: string, message: string): void {
    this.write(`  ${id}: ${message}\n`);
  }

  nodeProgress(id: string, status: string): void {
    if (!this.running.has(id)) return;
    this.statuses.set(id, status);
    if (this.opts.live) this.drawStatus();
    else this.write(`  ${id}: ${status}\n`);
  }

  nodeFinished(r: NodeResult): void {
    this.running.delete(r.id);
    this.statuses.delete(r.id);
    this.done++;
    const attempts = r.attempts > 1 ? ` (${r.attempts} attempts)` : '';
    let line = `${SYMBOL[r.state]} [${this.done}/${this.total}] ${r.id.padEnd(this.width)}  ${r.state.padEnd(15)} ${formatDuration(r.durationMs)}${attempts}`;
    if (r.error) line += `  ${r.error}`;
    if (this.opts.explain) line += `\n    why: ${r.reason}`;
    this.write(`${line}\n`);
  }

  runFinished(s: RunSummary): void {
    if (this.timer) clearInterval(this.timer);
    const counts = new Map<string, number>();
    for (const n of s.nodes) counts.set(n.state, (counts.get(n.state) ?? 0) + 1);
    const parts = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
    this.write(`run ${s.runId} ${s.state} in ${formatDuration(s.durationMs)}: ${parts}${s.state === 'COMPLETE' ? '' : ` (logs: ${s.logDir})`}\n`);
  }

  runAborted(): void {
    // The CLI prints the error itself; only the live status line stops.
    if (this.timer) clearInterval(this.timer);
    this.running.clear();
    this.statuses.clear();
    this.clearStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) this.opts.out.write('\r\x1b[2K');
    this.statusShown = false;
  }

  private write(text: string): void {
    this.clearStatus();
    this.opts.out.write(text);
    this.drawStatus();
  }

  private drawStatus(): void {
    if (!this.opts.live || this.running.size === 0) return;
    const now = Date.now();
    const parts = [...this.running].map(([id, t]) => `${id} ${formatDuration(now - t)}${this.statuses.has(id) ? ` (${this.statuses.get(id)})` : ''}`);
    this.clearStatus();
    // A line the terminal wraps could not be erased with \r: it is cut to the terminal's width.
    const line = `… running: ${parts.join(', ')}`;
    const columns = (this.opts.out as NodeJS.WriteStream).columns;
    this.opts.out.write(columns && line.length >= columns ? `${line.slice(0, columns - 2)}…` : line);
    this.statusShown = true;
  }
}
