// The CSV scanner: records, their physical lines and byte offsets, values and malformations, the same whether a
// record sits inside one read chunk or straddles several (files of many chunks built from records scanned alone),
// and every detail as a plain byte-by-byte reference scanner reports it, on random text read a few bytes at a time.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng } from '../../../runtime/core/prng';
import { scanCsv, type CsvRecord, type CsvScan } from '../../../runtime/data/csv-records';

let dir = '';
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-csv-records-'));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function scan(text: string | Buffer, fields = true, readBytes?: number): Promise<{ records: CsvRecord[]; result: CsvScan; normalized: string }> {
  const file = path.join(dir, 'f.csv');
  fs.writeFileSync(file, text);
  const records: CsvRecord[] = [];
  const out = fs.createWriteStream(path.join(dir, 'n.csv'));
  const result = await scanCsv(file, ',', (r) => void records.push(r), { fields, normalized: out, readBytes });
  await new Promise((resolve) => out.end(resolve));
  return { records, result, normalized: fs.readFileSync(path.join(dir, 'n.csv'), 'latin1') };
}

/** Pseudo-random integers in [0, n), the same on every run. */
function seededRandom(seed: number): (n: number) => number {
  const rng = createRng(seed);
  return (n: number) => Math.floor(rng() * n);
}

test('lines, values and malformations of small inputs', async () => {
  const { records, result, normalized } = await scan('a,b\r\n"x\r\ny",2\n\n"q""uote",\r"open"z,3\n"never closed\n1,2\n');
  expect(records.map(({ line, lines, offset, fieldCount, filledCount, malformed, fields }) => ({ line, lines, offset, fieldCount, filledCount, malformed, fields }))).toEqual([
    { line: 1, lines: 1, offset: 0, fieldCount: 2, filledCount: 2, malformed: undefined, fields: ['a', 'b'] },
    { line: 2, lines: 2, offset: 5, fieldCount: 2, filledCount: 2, malformed: undefined, fields: ['x\r\ny', '2'] },
    { line: 5, lines: 1, offset: 15, fieldCount: 2, filledCount: 1, malformed: undefined, fields: ['q"uote', ''] },
    { line: 6, lines: 1, offset: 26, fieldCount: 2, filledCount: 2, malformed: 'text after a closing quote', fields: ['openz', '3'] },
    // An unterminated quote runs to the end of the file; the final line break starts no line.
    { line: 7, lines: 2, offset: 36, fieldCount: 1, filledCount: 1, malformed: 'unterminated quote', fields: ['never closed\n1,2\n'] },
  ]);
  expect(result).toEqual({ lines: 8, records: 5, blankLines: 1, terminators: new Set(['\r\n', '\n', '\r']) });
  // Record line breaks become \n; the quoted one stays.
  expect(normalized).toBe('a,b\n"x\r\ny",2\n\n"q""uote",\n"open"z,3\n"never closed\n1,2\n');
});

test('records straddling read chunks are seen as they were written', async () => {
  const random = seededRandom(7);
  // [as written, value, line breaks inside]
  const VALUES: [string, string, number][] = [
    ['', '', 0],
    ['abc', 'abc', 0],
    ['ü€', 'ü€', 0],
    ['x"y', 'x"y', 0],
    ['"a,b"', 'a,b', 0],
    ['"line\nbreak"', 'line\nbreak', 1],
    ['"cr\r\nlf\rcr"', 'cr\r\nlf\rcr', 2],
    ['"say ""hi"""', 'say "hi"', 0],
    [`"${'long '.repeat(30)}"`, 'long '.repeat(30), 0],
  ];
  const pieces: string[] = [];
  const expected: Pick<CsvRecord, 'line' | 'lines' | 'offset' | 'fieldCount' | 'fields'>[] = [];
  let offset = 0;
  let line = 1;
  while (offset < 300_000) {
    // A first value that is never empty: no piece is a blank line, none starts with the \n of a \r\n.
    const values = [[`r${pieces.length}`, `r${pieces.length}`, 0] as [string, string, number], ...Array.from({ length: random(4) }, () => VALUES[random(VALUES.length)])];
    const piece = values.map((v) => v[0]).join(',') + ['\n', '\r\n', '\r'][random(3)];
    const lines = 1 + values.reduce((n, v) => n + v[2], 0);
    expected.push({ line, lines, offset, fieldCount: values.length, fields: values.map((v) => v[1]) });
    pieces.push(piece);
    offset += Buffer.byteLength(piece);
    line += lines;
  }
  // Reads smaller than the default, so that about 75 of them end inside a record.
  const { records, result } = await scan(pieces.join(''), true, 4093);
  expect(records.map(({ line, lines, offset, fieldCount, fields }) => ({ line, lines, offset, fieldCount, fields }))).toEqual(expected);
  expect(records.every((r) => r.malformed === undefined)).toBe(true);
  expect(result).toMatchObject({ lines: line - 1, records: pieces.length, blankLines: 0 });
  // Without values, the same records.
  const fast = await scan(pieces.join(''), false, 65536);
  expect(fast.records.map(({ fields: _f, ...r }) => r)).toEqual(records.map(({ fields: _f, ...r }) => r));
});

/**
 * The scanner's rules written the plain way: the whole file in memory, one byte at a time, each record parsed
 * value by value. `stopAt`: visit returns false on that record (0-based).
 */
function referenceScan(bytes: Buffer, delimiter: string, stopAt = Infinity): { records: CsvRecord[]; result: CsvScan; normalized: Buffer } {
  const [QUOTE, LF, CR] = [34, 10, 13];
  const delim = delimiter.charCodeAt(0);
  const n = bytes.length;
  const records: CsvRecord[] = [];
  const result: CsvScan = { lines: 0, records: 0, blankLines: 0, terminators: new Set() };
  const normalized: number[] = [];
  let i = 0;
  let line = 1;
  const isBreak = (at: number) => bytes[at] === LF || bytes[at] === CR;
  // The line break at i ends a record or blank line: its kind, and where the next one starts.
  const lineBreak = (): { terminator: string; next: number } => {
    normalized.push(LF);
    if (bytes[i] === LF) return { terminator: '\n', next: i + 1 };
    return bytes[i + 1] === LF ? { terminator: '\r\n', next: i + 2 } : { terminator: '\r', next: i + 1 };
  };
  while (i < n) {
    const offset = i;
    if (isBreak(i)) {
      const { terminator, next } = lineBreak();
      result.terminators.add(terminator);
      result.lines++;
      result.blankLines++;
      line++;
      i = next;
      continue;
    }
    const fields: string[] = [];
    let breaks = 0;
    let filledCount = 0;
    let malformed: CsvRecord['malformed'];
    let lines = 0;
    for (;;) {
      const value: number[] = [];
      if (bytes[i] === QUOTE) {
        normalized.push(QUOTE);
        i++;
        let closed = false;
        while (i < n) {
          const c = bytes[i];
          normalized.push(c);
          if (c === QUOTE && bytes[i + 1] === QUOTE) {
            value.push(QUOTE);
            normalized.push(QUOTE);
            i += 2;
          } else if (c === QUOTE) {
            i++;
            closed = true;
            break;
          } else {
            // \r\n inside quotes is one line break.
            if (c === CR || (c === LF && bytes[i - 1] !== CR)) breaks++;
            value.push(c);
            i++;
          }
        }
        if (!closed) {
          malformed = 'unterminated quote';
          // The file's final line break inside the quote starts no line.
          lines = 1 + breaks - (isBreak(n - 1) ? 1 : 0);
        }
        if (closed && i < n && bytes[i] !== delim && !isBreak(i)) malformed ??= 'text after a closing quote';
      }
      // Unquoted, or what follows a closing quote.
      while (i < n && bytes[i] !== delim && !isBreak(i)) {
        value.push(bytes[i]);
        normalized.push(bytes[i]);
        i++;
      }
      fields.push(Buffer.from(value).toString('utf8'));
      if (value.length > 0) filledCount = fields.length;
      if (i < n && bytes[i] === delim) {
        normalized.push(delim);
        i++;
        continue;
      }
      break;
    }
    // A line break or the end of the file.
    lines ||= 1 + breaks;
    result.lines += lines;
    result.records++;
    let next = n;
    if (i < n) {
      const end = lineBreak();
      next = end.next;
      // A \r is told from \r\n only once the scanner reads on, which it does not after a stop.
      if (end.terminator === '\n' || records.length !== stopAt) result.terminators.add(end.terminator);
    }
    records.push({ line, lines, offset, fieldCount: fields.length, filledCount, malformed, fields });
    if (records.length - 1 === stopAt) break;
    line += lines;
    i = next;
  }
  return { records, result, normalized: Buffer.from(normalized) };
}

/** Random CSV text from pieces that exercise every rule, with multi-byte characters and a stray invalid byte. */
function randomCsv(random: (n: number) => number, pieces: number): Buffer {
  const PIECES = ['a', 'bc', '12.5', ' ', 'ü', '€', '長', '😀', 'é', '"', '""', '"q"', '"a,b"', '"x\ny"', '"r\r\n"', '"cr\r"', ',', ',', ';', '\t', '|', '\n', '\n', '\r\n', '\r', '\n\n'];
  const out: Buffer[] = [];
  for (let k = 0; k < pieces; k++) out.push(random(50) === 0 ? Buffer.from([0xe9]) : Buffer.from(PIECES[random(PIECES.length)]));
  return Buffer.concat(out);
}

test('every field of every record, the totals and the normalized copy agree with the byte-by-byte reference', async () => {
  const random = seededRandom(20261208);
  const file = path.join(dir, 'r.csv');
  for (let round = 0; round < 600; round++) {
    const readBytes = [1, 2, 3, 7, 64, 4096, undefined][random(7)];
    // Long texts too, but not a byte or three at a time (a read each: slow).
    const text = randomCsv(random, random(4) === 0 && (readBytes ?? 7) >= 7 ? random(2000) : random(60));
    const delimiter = [',', ',', ';', '\t', 'é', '€'][random(6)];
    const fields = random(3) > 0;
    const stopAt = random(5) === 0 ? random(10) : Infinity;
    fs.writeFileSync(file, text);
    const records: CsvRecord[] = [];
    // Without a copy to write, the scanner reuses its read buffer; with one, it cannot.
    const out = random(2) ? fs.createWriteStream(path.join(dir, 'rn.csv')) : undefined;
    const result = await scanCsv(file, delimiter, (r) => records.push({ ...r }) !== stopAt + 1, { fields, normalized: out, readBytes });
    await new Promise((resolve) => (out ? out.end(resolve) : resolve(undefined)));
    const expected = referenceScan(text, delimiter, stopAt);
    const context = `round ${round}: ${JSON.stringify(text.toString('latin1'))}, delimiter ${JSON.stringify(delimiter)}, read ${readBytes}, stop at ${stopAt}`;
    expect({ context, records, result }).toEqual({
      context,
      records: expected.records.map((r) => ({ ...r, fields: fields ? r.fields : undefined })),
      result: expected.result,
    });
    expect([...result.terminators]).toEqual([...expected.result.terminators]);
    // After a stop the copy is left unfinished.
    if (out && stopAt === Infinity) expect(fs.readFileSync(path.join(dir, 'rn.csv')).equals(expected.normalized)).toBe(true);
  }
});
