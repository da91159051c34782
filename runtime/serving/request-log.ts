// Sampled request/prediction logging for skew monitoring and retraining data: a sampled request's instances
// are written one JSON object per line — the raw features as sent, the prediction in BulkInferrer's columns,
// and _model_version, _request_id, _timestamp — to <dir>/requests-<time>-<pid>-<n>.jsonl, local or gs://.
// Lines are buffered and a file is written whole when the buffer reaches a size or an interval ends, and
// atomically (locally written aside under a dot name, then renamed; on GCS one upload), so a reader (DuckDB's
// read_json, `mlp monitor skew`) never sees half a file. Writing never fails a request: errors are logged.

import * as fs from 'fs';
import * as path from 'path';
import type { Logger } from 'pino';
import type { Prediction } from '../ml/serving-bundle';
import { joinUri, localPathOf, storageFor } from '../storage';
import type { RawRow } from '../transform/apply';
import { predictionColumns } from '../ml/prediction-columns';
import type { Random } from './random';

export interface RequestLogOptions {
  /** Local folder or gs:// prefix. */
  dir: string;
  /** Fraction of requests logged, in [0, 1]. */
  sample: number;
  /** A file is written at least this often while requests are logged. Default 60. */
  flushSeconds?: number;
  /** A file is written once this many bytes are buffered. Default 16 MiB. */
  maxFileBytes?: number;
}

export const DEFAULT_FLUSH_SECONDS = 60;
const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface LoggedRequest {
  rows: RawRow[];
  predictions: Prediction[];
  version: number;
  requestId: string;
}

export class RequestLog {
  private lines: string[] = [];
  private bytes = 0;
  private files = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly maxFileBytes: number;

  constructor(
    private readonly opts: RequestLogOptions,
    private readonly random: Random,
    private readonly logger: Logger,
  ) {
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.timer = setInterval(() => void this.flush(), (opts.flushSeconds ?? DEFAULT_FLUSH_SECONDS) * 1000);
    // The interval alone never keeps the process alive.
    this.timer.unref();
  }

  /** Logs the request with probability `sample`. */
  record(r: LoggedRequest): void {
    if (this.random() >= this.opts.sample) return;
    const timestamp = new Date().toISOString();
    for (let i = 0; i < r.rows.length; i++) {
      const line = JSON.stringify({ ...r.rows[i], ...predictionColumns(r.predictions[i]), _model_version: r.version, _request_id: r.requestId, _timestamp: timestamp });
      this.lines.push(line);
      this.bytes += line.length + 1;
    }
    if (this.bytes >= this.maxFileBytes) void this.flush();
  }

  /** Writes what is buffered as one file (after any write in progress). */
  flush(): Promise<void> {
    if (this.lines.length === 0) return this.writing;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.bytes = 0;
    const name = `requests-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++this.files}.jsonl`;
    this.writing = this.writing.then(() =>
      this.write(name, text).catch((err) => this.logger.warn({ dir: this.opts.dir, file: name, err: (err as Error).message }, 'writing the request log failed')),
    );
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(name: string, text: string): Promise<void> {
    const local = localPathOf(this.opts.dir);
    if (!local) return storageFor(this.opts.dir).writeFile(joinUri(this.opts.dir, name), text);
    await fs.promises.mkdir(local, { recursive: true });
    // Readers skip dot files, so the file is seen complete or not at all.
    const aside = path.join(local, `.${name}.tmp`);
    await fs.promises.writeFile(aside, text);
    await fs.promises.rename(aside, path.join(local, name));
  }
}
