// Shared CLI option handling: where the pipeline root and metadata store are, `--param k=v` parsing, and
// token files.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../core/errors';
import { localPathOf } from '../storage';

export const DEFAULT_ROOT = process.env.MLP_ROOT ?? '.mlp';

export interface StoreOptions {
  root: string;
  metadata?: string;
}

/** The metadata address: --metadata, else $MLP_METADATA, else the embedded SQLite file under the root. */
export function metadataAddress(opts: StoreOptions): string {
  if (opts.metadata) return opts.metadata;
  if (process.env.MLP_METADATA) return process.env.MLP_METADATA;
  const local = localPathOf(opts.root);
  if (!local) throw new UserError(`pipeline root ${opts.root} is remote: pass --metadata sqlite:PATH or postgres://...`);
  return `sqlite:${path.join(local, 'metadata.sqlite')}`;
}

/** `k=v` → { ...acc, k: 'v' }: the text, which parameterValuesFromText reads by the parameter's declared type. */
export function parseParam(arg: string, acc: Record<string, string> = {}): Record<string, string> {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UserError(`--param ${arg}: expected key=value`);
  return { ...acc, [arg.slice(0, eq)]: arg.slice(eq + 1) };
}

/** A whole-number flag value (≥ min), or a one-line error naming the flag. */
export function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} ${JSON.stringify(text)}: expected a whole number ≥ ${min}`);
  return n;
}

/** A bearer token from the file a flag names (surrounding whitespace dropped); a UserError naming the flag otherwise. */
export function readTokenFile(flag: string, file: string): string {
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UserError(`cannot read ${flag} ${file}: ${(err as Error).message}`);
  }
  if (!token) throw new UserError(`${flag} ${file} is empty`);
  return token;
}
