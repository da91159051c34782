// The split-wide finite [min, max] of numeric columns read from Parquet row-group statistics, before any
// data is scanned: with it the sketch scan runs alongside the summary scan instead of after it. Only used
// when every row group has usable statistics; generate-statistics.ts checks it against the exact range
// the summary finds and rescans the columns where they differ (e.g. files written without statistics).

import { sqlString } from '../data/duckdb';
import { planColumns } from './column-plans';
import { num, query } from './duckdb-statements';
import type { GridRanges } from './shard-statistics';

export async function parquetRanges(files: string[], source: string): Promise<GridRanges> {
  const plans = (await planColumns(source)).filter((p) => p.type !== 'STRING' && !p.list);
  const rows = await query(
    `SELECT path_in_schema AS col, count(*) AS groups,
       count(TRY_CAST(stats_min_value AS DOUBLE)) AS n_num, min(TRY_CAST(stats_min_value AS DOUBLE)) AS lo_num, max(TRY_CAST(stats_max_value AS DOUBLE)) AS hi_num,
       count(TRY_CAST(stats_max_value AS DOUBLE)) AS m_num,
       count(epoch(TRY_CAST(stats_min_value AS TIMESTAMP))) AS n_time, min(epoch(TRY_CAST(stats_min_value AS TIMESTAMP))) AS lo_time,
       count(epoch(TRY_CAST(stats_max_value AS TIMESTAMP))) AS m_time, max(epoch(TRY_CAST(stats_max_value AS TIMESTAMP))) AS hi_time
     FROM parquet_metadata([${files.map(sqlString).join(', ')}]) GROUP BY 1`,
  );
  const byColumn = new Map(rows.map((r) => [String(r.col), r]));
  const ranges: GridRanges = new Map();
  for (const plan of plans) {
    const r = byColumn.get(plan.name);
    if (!r) continue;
    // Numbers parse as DOUBLE; dates and timestamps (INT features from epoch()) do not, but cast to TIMESTAMP.
    const kind = num(r.n_num) === num(r.groups) && num(r.m_num) === num(r.groups) ? 'num' : 'time';
    if (num(r[`n_${kind}`]) !== num(r.groups) || num(r[`m_${kind}`]) !== num(r.groups)) continue;
    const min = Number(r[`lo_${kind}`]);
    const max = Number(r[`hi_${kind}`]);
    if (Number.isFinite(min) && Number.isFinite(max) && min <= max) ranges.set(plan.name, { min, max });
  }
  return ranges;
}
