// Helpers for the model server tests: a real penguins model trained by the real Trainer (through the shared
// ML test helpers: the full penguins pipeline, with its tuner, takes far longer), a tiny linear
// regression bundle with known weights (the penguins model is a classifier), versions published into a base
// path the way the Pusher does (atomically, commit marker last), an HTTP client that returns status,
// headers and parsed JSON, and a logger whose JSON lines the tests can read.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import type { ChildProcess } from 'child_process';
import { Writable } from 'stream';
import * as tf from '@tensorflow/tfjs';
import { writeServingBundle } from '../../../runtime/ml/serving-bundle';
import { NUMERIC_INPUT, SIGNATURE_FORMAT, SIGNATURE_VERSION } from '../../../runtime/ml/signature';
import { TRANSFORM_GRAPH_FORMAT, TRANSFORM_GRAPH_VERSION } from '../../../runtime/transform/graph';
import { storageFor } from '../../../runtime/storage';
import type { RawRow } from '../../../runtime/transform/apply';
import { startCli, type CliResult } from '../../support/cli';
import { buildPenguinsUpstream, PENGUINS_FILE, QUICK_HP, train } from '../ml/helpers';

/** Trains a small penguins model with the real Trainer on real upstream artifacts; returns its Model artifact folder (a serving bundle). */
export async function trainPenguinsModel(dir: string): Promise<string> {
  const upstream = await buildPenguinsUpstream(dir);
  return (await train(dir, upstream, { hyperparameters: QUICK_HP })).model.uri;
}

/** Writes a regression bundle predicting y = 2x + 1 from one raw float feature "x" (identity transform). */
export async function writeLinearBundle(dir: string): Promise<void> {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1], weights: [tf.tensor2d([[2]]), tf.tensor1d([1])] })] });
  await writeServingBundle(
    dir,
    model,
    {
      format: TRANSFORM_GRAPH_FORMAT,
      version: TRANSFORM_GRAPH_VERSION,
      spec: [{ kind: 'identity', feature: 'x', output: 'x_out', fill: 0 }],
      analyzedExamples: 1,
      outputs: [{ name: 'x_out', inputs: ['x'], types: ['double'], dtype: 'float32', analyzer: { kind: 'identity', fill: 0 } }],
    },
    {
      format: SIGNATURE_FORMAT,
      version: SIGNATURE_VERSION,
      task: 'regression',
      inputs: [{ name: 'x', dtype: 'float', required: true }],
      modelInputs: [{ name: NUMERIC_INPUT, dtype: 'float32', columns: ['x_out'] }],
      label: { key: 'y' },
      outputs: ['predictions'],
    },
  );
  model.dispose();
}

/** Publishes a copy of a bundle as <base>/<version>/, as the Pusher does (publishing consumes its source). */
export async function publishVersion(modelDir: string, base: string, version: number): Promise<string> {
  const staging = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-serving-push-'));
  await fs.promises.cp(modelDir, staging, { recursive: true });
  const target = path.join(base, String(version));
  await storageFor(target).publishDirectory(staging, target);
  await fs.promises.rm(staging, { recursive: true, force: true });
  return target;
}

/** The first rows of the penguins data set, as raw JSON rows (label included). */
export function penguinRows(n: number): RawRow[] {
  return (JSON.parse(fs.readFileSync(PENGUINS_FILE, 'utf8')) as RawRow[]).filter((r) => r.Sex != null).slice(0, n);
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request; a non-string body is sent as JSON. */
export async function request(url: string, opts: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
  const res = await fetch(url, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), body, headers: opts.headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A pino logger writing to memory: `lines` holds every log record. */
export function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/**
 * Starts `mlp serve <args>` as a process and waits for its ready line (its first stdout line, "serving <model>
 * versions [...] on <url>"); fails with its stderr when it exits first. The caller stops the child.
 */
export async function startServeCli(args: string[]): Promise<{ child: ChildProcess; done: Promise<CliResult>; ready: string; url: string }> {
  const { child, done } = startCli(['serve', ...args]);
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    void done.then((r) => reject(new Error(`mlp serve exited (${r.code}) before it was ready:\n${r.stderr}`)));
  });
  return { child, done, ready, url: /on (http:\/\/\S+)$/.exec(ready)![1] };
}

export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
