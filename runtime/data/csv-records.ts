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
  /** Bytes read at a time (tests use a few, to put read boundaries everywhere). */
  readBytes?: number;
}

/** Bytes read at a time: large reads into reused buffers cost far less than a stream's 64 KiB chunks. */
const READ_BYTES = 1 << 20;
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
/** Bits of CsvScan.terminators already added, so a record adds to the set only the first time its kind is seen. */
const enum Seen {
  Lf = 1,
  CrLf = 2,
  Cr = 4,
}

/**
 * Scans a CSV file with `"` quoting and `""` escapes. Records end at an unquoted line break (\n, \r\n or a lone
 * \r, as DuckDB and Python's csv module accept); whatever follows a closing quote up to the delimiter belongs to
 * the value; an unterminated quote runs to the end of the file, as in DuckDB. `visit` sees every non-blank record
 * in order and may return false to stop the scan.
 */
export async function scanCsv(file: string, delimiter: string, visit: (rec: CsvRecord) => boolean | void, opts: ScanOptions = {}): Promise<CsvScan> {
  const scanner = new Scanner(delimiter.charCodeAt(0), visit, opts.fields ?? false);
  const readBytes = opts.readBytes ?? READ_BYTES;
  const fd = await fs.promises.open(file, 'r');
  try {
    // Two buffers, so the next read runs (on libuv's thread pool) while the scanner works through the last one. The
    // write stream keeps the pieces it is given until written: a normalized copy needs a fresh buffer per read.
    const buffers = [Buffer.allocUnsafe(readBytes), Buffer.allocUnsafe(readBytes)];
    let reads = 0;
    const read = () => {
      const pending = fd.read(opts.normalized ? Buffer.allocUnsafe(readBytes) : buffers[reads++ % 2], 0, readBytes, null);
      // A read left running when the scan stops (or visit throws) is waited for by close(); its failure is no concern.
      pending.catch(() => undefined);
      return pending;
    };
    let next = read();
    for (;;) {
      const { bytesRead, buffer: chunk } = await next;
      if (bytesRead === 0) break;
      next = read();
      const normalized = scanner.feed(chunk, bytesRead, opts.normalized !== undefined);
      if (scanner.stopped) return scanner.scan;
      if (normalized?.length && !opts.normalized!.write(normalized)) await once(opts.normalized!, 'drain');
    }
    scanner.finish();
    return scanner.scan;
  } finally {
    await fd.close();
  }
}

/** The scan's state between reads: the record and value in progress, and the totals so far. */
class Scanner {
  readonly scan: CsvScan = { lines: 0, records: 0, blankLines: 0, terminators: new Set() };
  stopped = false;
  /** Byte offset of the current chunk. */
  private base = 0;
  private state = State.FieldStart;
  private recOffset = 0;
  private recLine = 1;
  /** Line breaks inside quoted values of the current record. */
  private recBreaks = 0;
  private recEmpty = true;
  /** A record just ended at \r outside quotes, at the end of a chunk: a \n starting the next belongs to it. */
  private pendingCr = false;
  /** 1 after \n, 2 after \r inside a quoted value (so \r\n counts once). */
  private lastBreak = 0;
  private fieldCount = 0;
  private filledCount = 0;
  /** The current value has a character (quotes around nothing leave it empty). */
  private filled = false;
  private malformed: CsvRecord['malformed'];
  private fields: string[] = [];
  /** The current value's bytes from earlier chunks and before "" escapes. */
  private parts: Buffer[] = [];
  /** parts before this index are copies; later ones are views of the read buffer (reused by a later read, rewritten by normalizing). */
  private copiedParts = 0;
  private seen = 0;
  /** 1 for the bytes that end an unquoted value's run (delimiter, \n, \r), and a quoted one's (", \n, \r). */
  private readonly unquotedStop = new Uint8Array(256);
  private readonly quotedStop = new Uint8Array(256);

  constructor(
    private readonly delim: number,
    private readonly visit: (rec: CsvRecord) => boolean | void,
    private readonly wantFields: boolean,
  ) {
    // A delimiter that is no byte (a character beyond 255) matches none, as it never equals a byte.
    if (delim < 256) this.unquotedStop[delim] = 1;
    this.unquotedStop[LF] = this.unquotedStop[CR] = 1;
    this.quotedStop[QUOTE] = this.quotedStop[LF] = this.quotedStop[CR] = 1;
  }

  /**
   * Scans chunk[0, n). With `normalize`, returns those bytes with every record-ending line break as \n, written
   * over the chunk itself (one write instead of one per record; it only shrinks, so a byte is read before it is
   * overwritten).
   */
  feed(chunk: Buffer, n: number, normalize: boolean): Buffer | undefined {
    const { delim, unquotedStop, quotedStop, wantFields } = this;
    let state = this.state;
    let i = 0;
    let segStart = 0;
    // Normalized: chunk[0, kept) is done; chunk[copyFrom, the current record) is yet to be moved after it.
    let copyFrom = 0;
    let kept = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (this.crEnds(chunk, 0)) {
        i = copyFrom = 1;
        this.recOffset = this.base + 1;
      }
    }
    while (i < n) {
      if (state === State.Quoted) {
        // Up to the next quote or line break, in a tight loop.
        let j = i;
        while (j < n && quotedStop[chunk[j]] === 0) j++;
        if (j > i) {
          this.filled = true;
          this.lastBreak = 0;
        }
        if (j === n) break;
        const b = chunk[j];
        i = j + 1;
        if (b === QUOTE) {
          if (wantFields) this.parts.push(chunk.subarray(segStart, j));
          state = State.QuoteInQuoted;
          continue;
        }
        this.filled = true;
        if (b === LF) {
          if (this.lastBreak !== 2) this.recBreaks++;
          this.lastBreak = 1;
        } else {
          this.recBreaks++;
          this.lastBreak = 2;
        }
        continue;
      }
      if (state === State.QuoteInQuoted) {
        const b = chunk[i];
        this.lastBreak = 0;
        if (b === QUOTE) {
          // The second quote of "" is the value's quote character.
          this.filled = true;
          segStart = i++;
          state = State.Quoted;
          continue;
        }
        if (b !== delim && b !== LF && b !== CR) this.malformed ??= 'text after a closing quote';
        segStart = i;
        state = State.Unquoted;
      } else if (state === State.FieldStart) {
        if (chunk[i] === QUOTE) {
          this.recEmpty = false;
          segStart = ++i;
          state = State.Quoted;
          continue;
        }
        segStart = i;
        state = State.Unquoted;
      }
      // Outside quotes: the rest of the value in a tight loop (most bytes of a file are here), then the delimiter
      // or line break that ends it.
      let j = i;
      while (j < n && unquotedStop[chunk[j]] === 0) j++;
      if (j > i) {
        this.recEmpty = false;
        this.filled = true;
      }
      if (j === n) break;
      const b = chunk[j];
      i = j + 1;
      if (b === delim) {
        this.recEmpty = false;
        this.endField(chunk, segStart, j);
        state = State.FieldStart;
        continue;
      }
      // Nothing before the line break (not even a delimiter or quotes): a blank line.
      if (!this.recEmpty) this.endField(chunk, segStart, j);
      this.endRecord(b === LF ? Seen.Lf : 0, false);
      state = State.FieldStart;
      this.recOffset = this.base + i;
      if (normalize) {
        kept = keep(chunk, kept, copyFrom, j);
        chunk[kept++] = LF;
        copyFrom = i;
      }
      if (this.stopped) return undefined;
      if (b === CR) {
        if (i === n) this.pendingCr = true;
        else if (this.crEnds(chunk, i)) {
          copyFrom = ++i;
          this.recOffset = this.base + i;
        }
      }
    }
    if (wantFields) {
      const parts = this.parts;
      if (state === State.Unquoted || state === State.Quoted) parts.push(chunk.subarray(segStart, n));
      for (let k = this.copiedParts; k < parts.length; k++) parts[k] = Buffer.from(parts[k]);
      this.copiedParts = parts.length;
    }
    this.state = state;
    this.base += n;
    return normalize ? chunk.subarray(0, keep(chunk, kept, copyFrom, n)) : undefined;
  }

  /** After a record ended at \r: whether chunk[at] is the \n of a \r\n; records which terminator it was. */
  private crEnds(chunk: Buffer, at: number): boolean {
    const lf = chunk[at] === LF;
    this.addTerminator(lf ? Seen.CrLf : Seen.Cr);
    return lf;
  }

  private addTerminator(kind: Seen): void {
    if (this.seen & kind) return;
    this.seen |= kind;
    this.scan.terminators.add(kind === Seen.Lf ? '\n' : kind === Seen.CrLf ? '\r\n' : '\r');
  }

  private endField(chunk: Buffer, segStart: number, at: number): void {
    this.fieldCount++;
    if (this.filled) this.filledCount = this.fieldCount;
    this.filled = false;
    if (!this.wantFields) return;
    if (this.parts.length === 0) {
      this.fields.push(chunk.toString('utf8', segStart, at));
      return;
    }
    this.parts.push(chunk.subarray(segStart, at));
    this.fields.push(Buffer.concat(this.parts).toString('utf8'));
    this.parts = [];
    this.copiedParts = 0;
  }

  /**
   * Ends the current record at a line break (`terminator` 0 for \r: known once the next byte shows whether \n
   * follows) or at the end of the file.
   */
  private endRecord(terminator: Seen | 0, atEof: boolean): void {
    let lines = 1 + this.recBreaks;
    // A line break that ends the file inside an unterminated quote starts no further line.
    if (atEof && this.state === State.Quoted) {
      this.malformed = 'unterminated quote';
      if (this.lastBreak !== 0) lines--;
    }
    const scan = this.scan;
    scan.lines += lines;
    if (terminator) this.addTerminator(terminator);
    if (this.recEmpty) scan.blankLines += lines;
    else {
      scan.records++;
      const rec: CsvRecord = {
        line: this.recLine,
        lines,
        offset: this.recOffset,
        fieldCount: this.fieldCount,
        filledCount: this.filledCount,
        malformed: this.malformed,
        fields: this.wantFields ? this.fields : undefined,
      };
      if (this.visit(rec) === false) this.stopped = true;
    }
    this.recLine += lines;
    this.recBreaks = 0;
    this.recEmpty = true;
    this.lastBreak = 0;
    this.fieldCount = 0;
    this.filledCount = 0;
    this.filled = false;
    this.malformed = undefined;
    if (this.wantFields) {
      this.fields = [];
      this.parts = [];
      this.copiedParts = 0;
    }
  }

  /** Ends the scan at the end of the file: the last record, when it has no line break. */
  finish(): void {
    if (this.pendingCr) this.addTerminator(Seen.Cr);
    if (this.recEmpty) return;
    this.fieldCount++;
    if (this.filled) this.filledCount = this.fieldCount;
    if (this.wantFields) this.fields.push(Buffer.concat(this.parts).toString('utf8'));
    this.endRecord(0, true);
  }
}

/** Moves chunk[from, to) to `at` (at <= from) and returns where it ends. */
function keep(chunk: Buffer, at: number, from: number, to: number): number {
  if (at !== from) chunk.copyWithin(at, from, to);
  return at + to - from;
}
