// JSON Lines input: one JSON object of scalar values per line (or a file holding one JSON array of such
// objects, its elements numbered as lines). A streaming pass in Node checks every line (valid
// JSON, an object, scalar values, schema types), infers types, and copies the good lines to a staging file that
// DuckDB then reads with the final column types; bad lines keep their line numbers.

import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { once } from 'events';
import { UserError } from '../../core/errors';
import { sqlIdent, sqlString, sqlStringList } from '../../data/duckdb';
import { DUCKDB_TYPE_OF, textParsesAs, type FeatureType } from '../../data/feature-types';
import { badValueReason, type BadRow, type InputFile, type Reader, wholeFilesOnly } from './source';

/** What a column's values looked like so far (booleans count as integers, as in TFX). */
interface Seen {
  int: boolean;
  float: boolean;
  string: boolean;
}

export const readJsonl: Reader = async (_conn, all, opts, tmpDir) => {
  wholeFilesOnly(all, 'JSON Lines');
  const seen = new Map<string, Seen>();
  const staged = new Map<InputFile, { path: string; good: number; bad: BadRow[] }>();
  for (const [i, file] of all.entries()) {
    const target = path.join(tmpDir, `jsonl-${i}.jsonl`);
    staged.set(file, { path: target, ...(await stageGoodLines(file, target, opts.schema, seen)) });
  }
  for (const name of Object.keys(opts.schema)) {
    if (!seen.has(name)) throw new UserError(`schema column "${name}" is in none of the JSON Lines records of ${all.map((f) => f.display).join(', ')}`);
  }
  const columns = [...seen.entries()].map(([name, s]) => ({ name, type: opts.schema[name] ?? inferred(s) }));
  const typesSql = `{${columns.map((c) => `${sqlString(c.name)}: '${DUCKDB_TYPE_OF[c.type]}'`).join(', ')}}`;
  return {
    columns,
    selectSql(files) {
      const scan = `read_json(${sqlStringList(files.map((f) => staged.get(f)!.path))}, format='newline_delimited', columns=${typesSql})`;
      return `SELECT ${columns.map((c) => sqlIdent(c.name)).join(', ')}, NULL::VARCHAR AS __bad, false AS __unsure FROM ${scan}`;
    },
    async expectedRows(files) {
      return files.reduce((n, f) => n + staged.get(f)!.good, 0);
    },
    async badRows(files) {
      return files.flatMap((f) => staged.get(f)!.bad);
    },
  };
};

function inferred(s: Seen): FeatureType {
  return s.string ? 'STRING' : s.float ? 'FLOAT' : s.int ? 'INT' : 'STRING';
}

/** Why a line is bad, or undefined; records the types of its values in `seen` when it is good. */
function checkLine(line: string, schema: Record<string, FeatureType>, seen: Map<string, Seen>): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message}`;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return 'not a JSON object';
  const entries = Object.entries(record as Record<string, unknown>);
  for (const [name, value] of entries) {
    if (value !== null && typeof value === 'object') return `field "${name}": nested values are not supported`;
    const type = schema[name];
    if (type && value !== null && !valueFits(type, value as string | number | boolean)) return badValueReason(name, type, String(value));
  }
  for (const [name, value] of entries) {
    let s = seen.get(name);
    if (!s) seen.set(name, (s = { int: false, float: false, string: false }));
    if (typeof value === 'string') s.string = true;
    // JSON numbers are doubles here: integers beyond 2^53 are not exact, so they make the column FLOAT.
    else if (typeof value === 'boolean' || Number.isSafeInteger(value)) s.int = true;
    else if (typeof value === 'number') s.float = true;
  }
  return undefined;
}

function valueFits(type: FeatureType, value: string | number | boolean): boolean {
  if (type === 'STRING') return true;
  if (typeof value === 'boolean') return true;
  if (typeof value === 'number') return type === 'FLOAT' || Number.isSafeInteger(value);
  return textParsesAs(type, value);
}

/** A file's records as text lines: its lines, or for a file holding one JSON array, one line per element. */
async function* recordLines(file: InputFile): AsyncGenerator<string> {
  const head = Buffer.alloc(64);
  const fd = await fs.promises.open(file.local, 'r');
  const { bytesRead } = await fd.read(head, 0, head.length, 0).finally(() => fd.close());
  if (head.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('[')) {
    // A JSON array (e.g. vega-datasets' penguins.json) is parsed whole; such files are small by nature.
    let records: unknown;
    try {
      records = JSON.parse(await fs.promises.readFile(file.local, 'utf8'));
    } catch (err) {
      throw new UserError(`${file.display} starts with "[" but is not a valid JSON array: ${(err as Error).message}`);
    }
    for (const r of records as unknown[]) yield JSON.stringify(r);
    return;
  }
  yield* readline.createInterface({ input: fs.createReadStream(file.local), crlfDelay: Infinity });
}

/** Copies the good lines of a file to `target`; every non-blank line is either counted good or a reject. */
async function stageGoodLines(
  file: InputFile,
  target: string,
  schema: Record<string, FeatureType>,
  seen: Map<string, Seen>,
): Promise<{ good: number; bad: BadRow[] }> {
  const bad: BadRow[] = [];
  const out = fs.createWriteStream(target);
  let n = 0;
  let good = 0;
  for await (const line of recordLines(file)) {
    n++;
    if (line.trim() === '') continue;
    const reason = checkLine(line, schema, seen);
    if (reason) bad.push({ file: file.display, line: n, reason, text: line });
    else {
      good++;
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  return { good, bad };
}
