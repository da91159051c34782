// A streaming RFC 4180 CSV record reader that knows each record's starting line number. DuckDB reads the data;
// this is only used to locate rows DuckDB cannot attribute to a line (values that fail a schema type check).

import * as fs from 'fs';

export interface CsvRecord {
  /** 1-based line of the file on which the record starts (the header is line 1). */
  line: number;
  fields: string[];
}

/**
 * Records of a CSV file, with `"` quoting and `""` escapes; a record's fields end at an unquoted newline
 * (a trailing \r is dropped). Blank lines yield no record. An unterminated quote ends the file's last record.
 */
export async function* csvRecords(file: string, delimiter: string): AsyncGenerator<CsvRecord> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoteSeen = false; // a '"' inside quotes, waiting for the next char to tell "" from a closing quote
  let line = 1;
  let recordLine = 1;
  let empty = true; // nothing read in the current record yet
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const out: CsvRecord[] = [];
    for (const c of chunk as string) {
      if (quoteSeen) {
        quoteSeen = false;
        if (c === '"') {
          field += '"';
          continue;
        }
        inQuotes = false;
      }
      if (inQuotes) {
        if (c === '"') quoteSeen = true;
        else {
          if (c === '\n') line++;
          field += c;
        }
      } else if (c === '"' && field === '') {
        inQuotes = true;
        empty = false;
      } else if (c === delimiter) {
        fields.push(field);
        field = '';
        empty = false;
      } else if (c === '\n') {
        if (!empty || field !== '') {
          fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
          if (!(fields.length === 1 && fields[0] === '')) out.push({ line: recordLine, fields });
        }
        fields = [];
        field = '';
        empty = true;
        line++;
        recordLine = line;
      } else field += c;
    }
    yield* out;
  }
  if (!empty || field !== '') yield { line: recordLine, fields: [...fields, field] };
}
