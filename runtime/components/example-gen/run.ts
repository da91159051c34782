// ExampleGen's executor body: resolve the input spans, stage remote files, read them with the format's reader,
// assign each good row to a split (hash of its key, or its predefined input split) and write each split as
// Parquet through DuckDB in one streaming COPY per input split; bad rows are counted, located and quarantined.
// Which split a row lands in never varies; the order of rows inside a split's file may vary between runs when
// DuckDB reads the input in parallel (a partitioned COPY does not keep insertion order).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { splitFolder } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import type { Properties } from '../../metadata/types';
import { duckdb, queryRows, sqlString } from '../../data/duckdb';
import { withHashSplitSql, type SplitKey } from '../../data/hash-split';
import { stageLocally } from '../../data/stage';
import { resolveInputs } from './input-patterns';
import { rangeOf, type ExampleGenParameters } from './parameters';
import { readCsv } from './read-csv';
import { readJsonl } from './read-jsonl';
import { readParquet } from './read-parquet';
import { whereOf, type BadRow, type InputFile, type OpenedSource, type Reader } from './source';

/** Where quarantined rows go, inside the Examples artifact (next to the Split-* folders). */
export const REJECTS_FILE = 'rejects.jsonl';
const BAD_PARTITION = '__bad';

const READERS: Record<'csv' | 'jsonl' | 'parquet', Reader> = { csv: readCsv, jsonl: readJsonl, parquet: readParquet };
const EXTENSIONS: [RegExp, keyof typeof READERS][] = [
  [/\.csv$/i, 'csv'],
  [/\.(jsonl|ndjson|json)$/i, 'jsonl'],
  [/\.parquet$/i, 'parquet'],
];

function formatOf(format: ExampleGenParameters['format'], files: string[]): keyof typeof READERS {
  if (format !== 'auto') return format;
  const found = new Set(files.map((f) => EXTENSIONS.find(([re]) => re.test(f))?.[1] ?? `unknown (${path.basename(f)})`));
  if (found.size !== 1) throw new UserError(`cannot pick an input format from the file names (${[...found].join(', ')}); set format to csv, jsonl or parquet`);
  return [...found][0] as keyof typeof READERS;
}

/** Runs ExampleGen into the local folder `outDir` and returns the Examples artifact's properties. */
export async function runExampleGen(p: ExampleGenParameters, outDir: string, log: (line: string) => void): Promise<Properties> {
  const resolved = await resolveInputs(p.input_base, p.input_splits, rangeOf(p));
  const hashing = resolved.splits.length === 1;
  const splitNames = hashing ? p.output_splits.map((s) => s.name) : resolved.splits.map((s) => s.name);
  const duplicate = splitNames.find((n, i) => splitNames.indexOf(n) !== i);
  if (duplicate) throw new UserError(`split "${duplicate}" is named twice`);
  if (!hashing && p.partition_feature) throw new UserError('partition_feature applies to hash splitting; it cannot be used with predefined input splits');

  const uris = resolved.splits.flatMap((s) => s.files);
  const format = formatOf(p.format, uris);
  log(`reading ${uris.length} ${format} file(s), span(s) ${resolved.spans.join(', ')} version ${resolved.version}`);
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-example-gen-'));
  const conn = await duckdb();
  let source: OpenedSource | undefined;
  try {
    const locals = await stageLocally(uris, path.join(tmp, 'staged'));
    const fileOf = new Map(uris.map((u, i): [string, InputFile] => [u, { local: locals[i], display: u }]));
    const groups = resolved.splits.map((s) => ({ name: s.name, files: s.files.map((u) => fileOf.get(u)!) }));
    source = await READERS[format](conn, [...fileOf.values()], { schema: p.schema ?? {}, csvDelimiter: p.csv_delimiter }, tmp);
    const { columns } = source;
    let key: SplitKey = { record: columns };
    if (p.partition_feature) {
      const feature = columns.find((c) => c.name === p.partition_feature);
      if (!feature) throw new UserError(`partition_feature "${p.partition_feature}" is not a column (columns: ${columns.map((c) => c.name).join(', ')})`);
      key = { feature };
    }

    const bad: BadRow[] = [];
    for (const [i, group] of groups.entries()) {
      const select = source.selectSql(group.files);
      const split = hashing ? withHashSplitSql(select, key, p.output_splits) : `SELECT *, ${sqlString(group.name)} AS __split FROM (${select})`;
      const parts = path.join(outDir, `.parts-${i}`);
      // One streaming pass: good rows to their split's partition, bad ones to a partition that is only counted.
      await conn.run(
        `COPY (SELECT * EXCLUDE (__bad, __split), CASE WHEN __bad IS NULL THEN __split ELSE '${BAD_PARTITION}' END AS __split FROM (${split})) ` +
          `TO ${sqlString(parts)} (FORMAT parquet, PARTITION_BY (__split), FILENAME_PATTERN 'part-{i}')`,
      );
      const badValues = await countRows(conn, path.join(parts, `__split=${BAD_PARTITION}`));
      bad.push(...(await source.badRows(group.files, badValues)));
      for (const name of hashing ? splitNames : [group.name]) {
        const from = path.join(parts, `__split=${name}`);
        const to = path.join(outDir, splitFolder(name));
        if (fs.existsSync(from)) await fs.promises.rename(from, to);
        else await writeEmptySplit(conn, select, to);
      }
      await fs.promises.rm(parts, { recursive: true, force: true });
    }

    const counts: Record<string, number> = {};
    for (const name of splitNames) counts[name] = await countRows(conn, path.join(outDir, splitFolder(name)));
    const good = Object.values(counts).reduce((a, b) => a + b, 0);
    bad.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? a.row ?? 0) - (b.line ?? b.row ?? 0));
    if (bad.length) {
      await fs.promises.writeFile(path.join(outDir, REJECTS_FILE), bad.map((b) => JSON.stringify(b)).join('\n') + '\n');
      // The log keeps a few examples even when the node fails and the artifact (with the rejects file) is dropped.
      log(`quarantined ${bad.length} bad row(s) in ${REJECTS_FILE}; the first ones:`);
      for (const b of bad.slice(0, 5)) log(`  ${whereOf(b)}: ${b.reason}`);
    }
    checkBadRows(bad, good, p.max_bad_rows_fraction);
    log(`wrote ${good} rows: ${splitNames.map((n) => `${n} ${counts[n]}`).join(', ')}`);
    return {
      span: resolved.spans[resolved.spans.length - 1],
      version: resolved.version,
      split_names: JSON.stringify(splitNames),
      spans: JSON.stringify(resolved.spans),
      row_count: good,
      split_row_counts: JSON.stringify(counts),
      bad_row_count: bad.length,
    };
  } finally {
    await source?.close?.();
    conn.closeSync();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/** Fails when bad rows (sorted by location) exceed the tolerated fraction of all rows read, naming the count and the first. */
function checkBadRows(bad: BadRow[], good: number, maxFraction: number): void {
  const total = good + bad.length;
  if (bad.length === 0 || bad.length / total <= maxFraction) return;
  throw new UserError(
    `${bad.length} of ${total} rows are bad (${((100 * bad.length) / total).toFixed(2)}%, max_bad_rows_fraction ${maxFraction}); ` +
      `first bad row: ${whereOf(bad[0])}: ${bad[0].reason}`,
  );
}

async function countRows(conn: DuckDBConnection, dir: string): Promise<number> {
  if (!fs.existsSync(dir)) return 0;
  const [r] = await queryRows(conn, `SELECT count(*) AS n FROM read_parquet(${sqlString(path.join(dir, '*.parquet'))})`);
  return Number(r.n);
}

/** A split no row hashed into still gets a (zero-row) Parquet file with the right columns, so readers find it. */
async function writeEmptySplit(conn: DuckDBConnection, select: string, dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await conn.run(`COPY (SELECT * EXCLUDE (__bad) FROM (${select}) LIMIT 0) TO ${sqlString(path.join(dir, 'part-0.parquet'))} (FORMAT parquet)`);
}
