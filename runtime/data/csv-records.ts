// A streaming RFC 4180 CSV record reader that knows each record's starting line number. DuckDB reads the data;
// this reads header rows and locates rows DuckDB cannot attribute to a line (values failing a schema type).

import * as fs from 'fs';

export interface CsvRecord {
  /** 1-based line of the file on which the record starts (the header is line 1). */
  line: number;
  fields: string[];
}

interface Parsed {
  fields: string[];
  /** Offset just after the record (after its newline). */
  end: number;
  /** Newlines the record spans, its terminator included. */
  lines: number;
}

const QUOTE = 34;
const NEWLINE = 10;

/**
 * Records of a CSV file, with `"` quoting and `""` escapes; a record ends at an unquoted newline (a trailing \r is
 * dropped). Blank lines yield no record. An unterminated quote runs to the end of the file, as in DuckDB.
 */
export async function* csvRecords(file: string, delimiter: string): AsyncGenerator<CsvRecord> {
  let rest = '';
  let line = 1;
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
    rest += chunk as string;
    let start = 0;
    for (let rec = parseRecord(rest, start, delimiter, false); rec; rec = parseRecord(rest, start, delimiter, false)) {
      if (!isBlank(rec.fields)) yield { line, fields: rec.fields };
      line += rec.lines;
      start = rec.end;
    }
    rest = rest.slice(start);
  }
  while (rest.length > 0) {
    const rec = parseRecord(rest, 0, delimiter, true)!;
    if (!isBlank(rec.fields)) yield { line, fields: rec.fields };
    line += rec.lines;
    rest = rest.slice(rec.end);
  }
}

function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0] === '';
}

/** The record starting at `start`, or undefined when `text` ends before it does and more text may follow. */
function parseRecord(text: string, start: number, delimiter: string, atEof: boolean): Parsed | undefined {
  const delim = delimiter.charCodeAt(0);
  const fields: string[] = [];
  let lines = 0;
  let i = start;
  for (;;) {
    let value = '';
    if (text.charCodeAt(i) === QUOTE) {
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        // A quote as the last character may still turn out to be the first half of "".
        if ((q < 0 || q + 1 >= text.length) && !atEof) return undefined;
        if (q < 0) {
          value += text.slice(j);
          i = text.length;
          break;
        }
        value += text.slice(j, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      for (let k = value.indexOf('\n'); k >= 0; k = value.indexOf('\n', k + 1)) lines++;
    }
    // The unquoted field, or whatever follows a closing quote, up to the delimiter or the end of the line.
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === delim || c === NEWLINE) break;
      j++;
    }
    if (j >= text.length && !atEof) return undefined;
    value += text.slice(i, j);
    if (j < text.length && text.charCodeAt(j) === delim) {
      fields.push(value);
      i = j + 1;
      continue;
    }
    fields.push(value.endsWith('\r') ? value.slice(0, -1) : value);
    return j < text.length ? { fields, end: j + 1, lines: lines + 1 } : { fields, end: text.length, lines };
  }
}
