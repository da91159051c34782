// The CSV scanner: records, their physical lines and byte offsets, values and malformations, the same whether a
// record sits inside one read chunk or straddles several (files of many chunks built from records scanned alone).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scanCsv, type CsvRecord, type CsvScan } from '../../../runtime/data/csv-records';

let dir = '';
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-csv-records-'));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function scan(text: string | Buffer, fields = true): Promise<{ records: CsvRecord[]; result: CsvScan; normalized: string }> {
  const file = path.join(dir, 'f.csv');
  fs.writeFileSync(file, text);
  const records: CsvRecord[] = [];
  const out = fs.createWriteStream(path.join(dir, 'n.csv'));
  const result = await scanCsv(file, ',', (r) => void records.push(r), { fields, normalized: out });
  await new Promise((resolve) => out.end(resolve));
  return { records, result, normalized: fs.readFileSync(path.join(dir, 'n.csv'), 'latin1') };
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
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 48271) % 2147483647;
    return seed % n;
  };
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
  const { records, result } = await scan(pieces.join(''));
  expect(records.map(({ line, lines, offset, fieldCount, fields }) => ({ line, lines, offset, fieldCount, fields }))).toEqual(expected);
  expect(records.every((r) => r.malformed === undefined)).toBe(true);
  expect(result).toMatchObject({ lines: line - 1, records: pieces.length, blankLines: 0 });
  // Without values, the same records.
  const fast = await scan(pieces.join(''), false);
  expect(fast.records.map(({ fields: _f, ...r }) => r)).toEqual(records.map(({ fields: _f, ...r }) => r));
});
