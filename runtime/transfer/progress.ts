// Upload progress for people: on a TTY a bar redrawn in place (bytes, percent, throughput, ETA, files); on
// anything else a status line every few seconds, so logs stay readable. Retries and failures are printed as
// they happen. Also the final summary text of `mlp data upload`.

import { formatDuration, textBar } from '../runner/progress';
import { formatBytes, formatLongDuration, formatRate } from './units';
import type { UploadItem } from './upload-plan';
import type { FileOutcome, UploadListener, UploadSummary } from './uploader';

export interface UploadProgressOptions {
  out: { write(text: string): unknown };
  /** Redraw a bar in place (TTY) instead of printing periodic lines. */
  live: boolean;
  /** Time between redraws / lines (default 200 ms live, 5 s otherwise). */
  intervalMs?: number;
  now?: () => number;
}

export class UploadProgress implements UploadListener {
  private readonly now: () => number;
  private startedAt = 0;
  private totalFiles = 0;
  private totalBytes = 0;
  private doneFiles = 0;
  /** Bytes of finished files (uploaded, skipped or failed): all count towards completion. */
  private doneBytes = 0;
  /** Bytes actually sent (finished uploads + in flight): what the throughput measures. */
  private sentBytes = 0;
  private readonly inFlight = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private barShown = false;

  constructor(private readonly opts: UploadProgressOptions) {
    this.now = opts.now ?? Date.now;
  }

  started(files: number, bytes: number): void {
    this.startedAt = this.now();
    this.totalFiles = files;
    this.totalBytes = bytes;
    const interval = this.opts.intervalMs ?? (this.opts.live ? 200 : 5000);
    this.timer = setInterval(() => this.tick(), interval);
    // A pending redraw must not keep the process alive after the upload finished or failed.
    this.timer.unref();
  }

  progress(item: UploadItem, bytesSent: number): void {
    this.inFlight.set(item.rel, bytesSent);
  }

  retrying(item: UploadItem, attempt: number, error: string, delayMs: number): void {
    this.inFlight.delete(item.rel);
    this.line(`retrying ${item.rel} (attempt ${attempt}) in ${formatDuration(delayMs)}: ${error}`);
  }

  finished(o: FileOutcome): void {
    this.inFlight.delete(o.rel);
    this.doneFiles++;
    this.doneBytes += o.size;
    if (o.status === 'uploaded') this.sentBytes += o.size;
    if (o.status === 'failed') this.line(`failed ${o.rel}: ${o.error}`);
  }

  /** Stops redrawing and removes the bar; the caller prints the summary next. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clearBar();
  }

  /** "1.20 GB / 2.70 GB (45%)  35.2 MB/s  ETA 42s  12/40 files", the bar's text and each periodic line. */
  status(): string {
    const inFlight = [...this.inFlight.values()].reduce((n, b) => n + b, 0);
    const done = this.completedBytes();
    const elapsedS = (this.now() - this.startedAt) / 1000;
    const rate = elapsedS > 0 ? (this.sentBytes + inFlight) / elapsedS : 0;
    const pct = this.totalBytes > 0 ? Math.floor((done / this.totalBytes) * 100) : 100;
    // Before 1% is done (files still being hashed, first requests) the rate says little about the rest.
    const eta = rate > 0 && done >= this.totalBytes / 100 ? formatLongDuration((this.totalBytes - done) / rate) : '--';
    return `${formatBytes(done)} / ${formatBytes(this.totalBytes)} (${pct}%)  ${formatRate(rate)}  ETA ${eta}  ${this.doneFiles}/${this.totalFiles} files`;
  }

  private completedBytes(): number {
    const inFlight = [...this.inFlight.values()].reduce((n, b) => n + b, 0);
    return Math.min(this.totalBytes, this.doneBytes + inFlight);
  }

  private tick(): void {
    if (!this.opts.live) {
      this.opts.out.write(`upload: ${this.status()}\n`);
      return;
    }
    const fraction = this.totalBytes > 0 ? this.completedBytes() / this.totalBytes : 1;
    this.clearBar();
    this.opts.out.write(`${textBar(fraction)} ${this.status()}`);
    this.barShown = true;
  }

  private line(text: string): void {
    this.clearBar();
    this.opts.out.write(`${text}\n`);
  }

  private clearBar(): void {
    if (this.barShown) this.opts.out.write('\r\x1b[2K');
    this.barShown = false;
  }
}

/** The final summary: counts, bytes, duration and throughput, then each failed file with its error. */
export function formatSummary(s: UploadSummary): string {
  const lines = [
    `${s.uploaded} uploaded (${formatBytes(s.bytesUploaded)}), ${s.skipped} skipped as identical (${formatBytes(s.bytesSkipped)}), ` +
      `${s.failed} failed; ${s.files} files to ${s.destination} in ${formatDuration(s.durationMs)} at ${formatRate(s.bytesPerSecond)}`,
  ];
  if (s.failures.length > 0) {
    lines.push('failed files:');
    for (const f of s.failures) lines.push(`  ${f.file} → ${f.uri}: ${f.error}`);
  }
  return `${lines.join('\n')}\n`;
}
