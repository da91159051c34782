// A TypeScript module that does not parse, as sucrase reports it while loading ("Error transforming <file>:
// <message> (<line>:<column>)", both 1-based), turned into an error a person can act on: file:line:col, the
// message, the offending line and a caret under the column.

import * as fs from 'fs';
import { UserError } from './errors';

const TRANSFORM_ERROR = /^Error transforming (.+): (.+) \((\d+):(\d+)\)$/;

/** The UserError for a sucrase transform error, or undefined for any other error. */
export function syntaxErrorOf(err: unknown): UserError | undefined {
  const m = err instanceof SyntaxError ? TRANSFORM_ERROR.exec(err.message) : null;
  if (!m) return undefined;
  const [, file, message, line, column] = m;
  let source: string | undefined;
  try {
    source = fs.readFileSync(file, 'utf8').split(/\r?\n/)[Number(line) - 1];
  } catch {
    // The file went away since it was read: the position alone still says where.
  }
  const at = `${file}:${line}:${column}: ${message}`;
  if (source === undefined) return new UserError(at);
  // Tabs kept, so the caret lines up with the column however the terminal shows them.
  const pad = source.slice(0, Number(column) - 1).replace(/[^\t]/g, ' ');
  return new UserError(`${at}\n  ${source}\n  ${pad}^`);
}
