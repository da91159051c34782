// Writes transformed examples (TFX Transform's `materialize`): each split's rows through applyTransform,
// streamed in chunks, as <out>/Split-<name>/part-00000.parquet with one INTEGER or FLOAT column per transform
// output, plus any raw columns asked to be kept (e.g. the label). Rows stage as JSON Lines that DuckDB types.

import * as fs from 'fs';
import * as path from 'path';
import { once } from 'events';
import { splitFolder } from '../core/artifact-types';
import { duckdb, jsonSafe, sqlIdent, sqlString, sqlStringList } from '../data/duckdb';
import { applyTransform, type RawRow } from './apply';
import type { TransformGraph } from './graph';

const CHUNK = 4096;

/** Transforms one split's Parquet files into outDir/Split-<split>/; returns the rows written. */
export async function materializeSplit(graph: TransformGraph, files: string[], split: string, outDir: string, keep: string[]): Promise<number> {
  const dir = path.join(outDir, splitFolder(split));
  await fs.promises.mkdir(dir, { recursive: true });
  const staging = path.join(dir, '.rows.jsonl');
  const out = fs.createWriteStream(staging);
  const conn = await duckdb();
  let n = 0;
  try {
    const types = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlStringList(files)})`)).getRowObjectsJson().map((r) => [String(r.column_name), String(r.column_type)]));
    const result = await conn.stream(`SELECT * FROM read_parquet(${sqlStringList(files)})`);
    let pending: RawRow[] = [];
    const flush = async () => {
      const columns = applyTransform(graph, pending);
      for (let r = 0; r < pending.length; r++) {
        const record: Record<string, unknown> = {};
        for (const k of keep) record[k] = jsonSafe(pending[r][k]);
        for (const o of graph.outputs) record[o.name] = columns[o.name][r];
        if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
      }
      n += pending.length;
      pending = [];
    };
    for await (const chunk of result.yieldRowObjectJs()) {
      pending.push(...(chunk as RawRow[]));
      if (pending.length >= CHUNK) await flush();
    }
    await flush();
    out.end();
    await once(out, 'finish');
    const columnTypes = [
      ...keep.map((k) => [k, types.get(k) ?? 'VARCHAR']),
      ...graph.outputs.map((o) => [o.name, o.dtype === 'int32' ? 'INTEGER' : 'FLOAT']),
    ];
    const spec = `{${columnTypes.map(([k, t]) => `${sqlString(k)}: ${sqlString(t)}`).join(', ')}}`;
    await conn.run(
      `COPY (SELECT ${columnTypes.map(([k]) => sqlIdent(k)).join(', ')} FROM read_json(${sqlString(staging)}, format='newline_delimited', columns=${spec})) TO ${sqlString(path.join(dir, 'part-00000.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    conn.closeSync();
    await fs.promises.rm(staging, { force: true });
  }
  return n;
}
