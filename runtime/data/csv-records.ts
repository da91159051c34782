// A streaming, byte-level RFC 4180 CSV scanner that knows where each record starts (byte offset and physical
// line) and how many physical lines it spans. DuckDB reads the data; this reads header rows, counts records
// (ExampleGen's own accounting of every input line), locates rows DuckDB rejects or cannot attribute to a line,
// and rewrites mixed line endings, which DuckDB's strict reader refuses.

import * as fs from 'fs';
import { once } from 'events';

export interface CsvRecord {
  /** 1-based physical line on which the record starts (the header is line 1). */
  line: number;
  /** Physical lines the record spans (more than 1 when a quoted value holds line breaks). */
  lines: number;
  /** Byte offset of the record's first byte (DuckDB's rejects name records by this offset). */
  offset: number;
  /** Number of values (delimiters outside quotes + 1). */
  fieldCount: number;
  /** Number of values up to the last non-empty one (DuckDB ignores extra empty values, "" too, at the end). */
  filledCount: number;
  /** Why the record cannot be split into values as written, if it cannot. */
  malformed?: 'unterminated quote' | 'text after a closing quote';
  /** The values, when the scan was asked for them. */
  fields?: string[];
}

export interface CsvScan {
  /** Physical lines of the file (a last line without a line break counts; a final line break starts none). */
  lines: number;
  /** Non-blank records, the header included. */
  records: number;
  /** Empty lines between records (DuckDB skips them). */
  blankLines: number;
  /** Line breaks that end records: '\n', '\r\n' and/or '\r'. */
  terminators: Set<string>;
}

export interface ScanOptions {
  /** Decode each record's values (slower; the header and value checks need them). */
  fields?: boolean;
  /** Receives the file with every record-ending line break written as '\n' (quoted values unchanged). */
  normalized?: fs.WriteStream;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted value: an escaped quote if another follows, else the closing one. */
  QuoteInQuoted,
}

/**
 * Scans a CSV file with `"` quoting and `""` escapes. Records end at an unquoted line break (\n, \r\n or a lone
 * \r, as DuckDB and Python's csv module accept); whatever follows a closing quote up to the delimiter belongs to
 * the value; an unterminated quote runs to the end of the file, as in DuckDB. `visit` sees every non-blank record
 * in order and may return false to stop the scan.
 */
export async function scanCsv(file: string, delimiter: string, visit: (rec: CsvRecord) => boolean | void, opts: ScanOptions = {}): Promise<CsvScan> {
  const scan: CsvScan = { lines: 0, records: 0, blankLines: 0, terminators: new Set() };
  const delim = delimiter.charCodeAt(0);
  const wantFields = opts.fields ?? false;
  let state = State.FieldStart;
  let base = 0; // byte offset of the current chunk
  let recOffset = 0;
  let recLine = 1;
  let recBreaks = 0; // line breaks inside quoted values of the current record
  let recEmpty = true;
  let pendingCr = false; // a record just ended at \r outside quotes: a following \n belongs to it
  let lastBreak = 0; // 1 after \n, 2 after \r inside a quoted value (so \r\n counts once)
  let fieldCount = 0;
  let filledCount = 0;
  let filled = false; // the current value has a character (quotes around nothing leave it empty)
  let malformed: CsvRecord['malformed'];
  let fields: string[] = [];
  let parts: Buffer[] = [];
  let stopped = false;

  const endField = (chunk: Buffer, segStart: number, at: number) => {
    fieldCount++;
    if (filled) filledCount = fieldCount;
    filled = false;
    if (!wantFields) return;
    parts.push(chunk.subarray(segStart, at));
    fields.push(Buffer.concat(parts).toString('utf8'));
    parts = [];
  };
  // Ends the current record at a line break (\r: known once the next byte shows whether \n follows) or at the
  // end of the file (no terminator).
  const endRecord = (terminator: string | undefined, atEof = false) => {
    let lines = 1 + recBreaks;
    // A line break that ends the file inside an unterminated quote starts no further line.
    if (atEof && state === State.Quoted) {
      malformed = 'unterminated quote';
      if (lastBreak !== 0) lines--;
    }
    scan.lines += lines;
    if (terminator) scan.terminators.add(terminator);
    if (recEmpty) scan.blankLines += lines;
    else {
      scan.records++;
      if (!stopped && visit({ line: recLine, lines, offset: recOffset, fieldCount, filledCount, malformed, fields: wantFields ? fields : undefined }) === false) stopped = true;
    }
    recLine += lines;
    recBreaks = 0;
    recEmpty = true;
    state = State.FieldStart;
    lastBreak = 0;
    fieldCount = 0;
    filledCount = 0;
    filled = false;
    malformed = undefined;
    fields = [];
    parts = [];
  };

  const stream = fs.createReadStream(file, { highWaterMark: 1 << 16 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const n = chunk.length;
      let segStart = 0;
      let copyFrom = 0;
      const out: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const b = chunk[i];
        if (pendingCr) {
          pendingCr = false;
          scan.terminators.add(b === LF ? '\r\n' : '\r');
          if (b === LF) {
            recOffset = base + i + 1;
            copyFrom = i + 1;
            continue;
          }
        }
        switch (state) {
          case State.Quoted:
            if (b === QUOTE) {
              if (wantFields) parts.push(chunk.subarray(segStart, i));
              state = State.QuoteInQuoted;
              continue;
            }
            filled = true;
            if (b === LF) {
              if (lastBreak !== 2) recBreaks++;
              lastBreak = 1;
            } else if (b === CR) {
              recBreaks++;
              lastBreak = 2;
            } else {
              lastBreak = 0;
              // Up to the next quote or line break, in a tight loop.
              while (i + 1 < n) {
                const c = chunk[i + 1];
                if (c === QUOTE || c === LF || c === CR) break;
                i++;
              }
            }
            continue;
          case State.QuoteInQuoted:
            lastBreak = 0;
            if (b === QUOTE) {
              // The second quote of "" is the value's quote character.
              filled = true;
              segStart = i;
              state = State.Quoted;
              continue;
            }
            if (b !== delim && b !== LF && b !== CR) malformed ??= 'text after a closing quote';
            segStart = i;
            state = State.Unquoted;
            break;
          case State.FieldStart:
            if (b === QUOTE) {
              recEmpty = false;
              segStart = i + 1;
              state = State.Quoted;
              continue;
            }
            segStart = i;
            state = State.Unquoted;
            break;
          case State.Unquoted:
            break;
        }
        // Outside quotes: the delimiter, a line break or part of the value.
        if (b === delim) {
          recEmpty = false;
          endField(chunk, segStart, i);
          state = State.FieldStart;
        } else if (b === LF || b === CR) {
          // Nothing before the line break (not even a delimiter or quotes): a blank line.
          if (!recEmpty) endField(chunk, segStart, i);
          endRecord(b === LF ? '\n' : undefined);
          pendingCr = b === CR;
          recOffset = base + i + 1;
          if (opts.normalized) {
            out.push(chunk.subarray(copyFrom, i), NEWLINE_BYTES);
            copyFrom = i + 1;
          }
          if (stopped) return scan;
        } else {
          recEmpty = false;
          filled = true;
          // The rest of an unquoted value, in a tight loop: most bytes of a file are here.
          while (i + 1 < n) {
            const c = chunk[i + 1];
            if (c === delim || c === LF || c === CR) break;
            i++;
          }
        }
      }
      if (wantFields && (state === State.Unquoted || state === State.Quoted)) parts.push(chunk.subarray(segStart, n));
      if (opts.normalized) {
        out.push(chunk.subarray(copyFrom, n));
        for (const o of out) if (o.length && !opts.normalized.write(o)) await once(opts.normalized, 'drain');
      }
      base += n;
    }
    if (pendingCr) scan.terminators.add('\r');
    if (!recEmpty) {
      fieldCount++;
      if (filled) filledCount = fieldCount;
      if (wantFields) fields.push(Buffer.concat(parts).toString('utf8'));
      endRecord(undefined, true);
    }
    return scan;
  } finally {
    stream.destroy();
  }
}

const NEWLINE_BYTES = Buffer.from('\n');
