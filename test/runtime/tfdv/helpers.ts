// Test helpers for the TFDV modules and data components: Examples artifacts written directly with DuckDB
// (ExampleGen's layout, Split-<name>/part-*.parquet, committed like a published artifact), statistics of a
// SQL query, and running a component through the launcher with a KFP ExecutorInput.

import * as fs from 'fs';
import * as path from 'path';
import type { AnyComponent } from '../../../runtime/core/component';
import { launchComponent } from '../../../runtime/core/launcher';
import type { ExecutorOutput } from '../../../runtime/core/executor-io';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { LocalStorage } from '../../../runtime/storage';
import { generateStatistics } from '../../../runtime/tfdv/generate-statistics';
import type { DatasetFeatureStatistics } from '../../../runtime/tfdv/statistics-proto';

export const VEGA = path.resolve(__dirname, '../../../node_modules/vega-datasets/data');
export const FLIGHTS = path.join(VEGA, 'flights-3m.parquet');
export const PENGUINS = path.join(VEGA, 'penguins.json');

export async function sql(query: string): Promise<Record<string, unknown>[]> {
  const conn = await duckdb();
  try {
    return (await conn.runAndReadAll(query)).getRowObjectsJson();
  } finally {
    conn.closeSync();
  }
}

/** Writes `select` to `file` as Parquet. */
export async function writeParquet(file: string, select: string): Promise<string> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await sql(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet)`);
  return file;
}

export interface ArtifactRef {
  uri: string;
  properties: Record<string, unknown>;
}

/**
 * A committed Examples artifact at `uri`: each split is one SELECT (one part file) or several (several part
 * files, i.e. several shards).
 */
export async function writeExamples(uri: string, splits: Record<string, string | string[]>, span = 0): Promise<ArtifactRef> {
  const staging = `${uri}.staging`;
  for (const [split, selects] of Object.entries(splits)) {
    const list = Array.isArray(selects) ? selects : [selects];
    for (const [i, select] of list.entries()) await writeParquet(path.join(staging, `Split-${split}`, `part-${String(i).padStart(5, '0')}.parquet`), select);
  }
  await new LocalStorage().publishDirectory(staging, uri);
  return { uri, properties: { span, version: 0, split_names: JSON.stringify(Object.keys(splits)) } };
}

/** A committed artifact at `uri` holding the given files (relative path → content). */
export async function publishFiles(uri: string, files: Record<string, string>, properties: Record<string, unknown> = {}): Promise<ArtifactRef> {
  const staging = `${uri}.staging`;
  for (const [rel, content] of Object.entries(files)) {
    await fs.promises.mkdir(path.dirname(path.join(staging, rel)), { recursive: true });
    await fs.promises.writeFile(path.join(staging, rel), content);
  }
  await new LocalStorage().publishDirectory(staging, uri);
  return { uri, properties };
}

/** Statistics of one SELECT (as a one-file split named `name`). */
export async function statsOf(dir: string, name: string, select: string): Promise<DatasetFeatureStatistics> {
  const file = await writeParquet(path.join(dir, `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}.parquet`), select);
  return generateStatistics(name, [file]);
}

/** Runs a component through the launcher, as the runner and containers do. */
export async function run(
  component: AnyComponent,
  inputs: Record<string, ArtifactRef | undefined>,
  outputs: Record<string, string>,
  parameters: Record<string, unknown> = {},
  log: string[] = [],
): Promise<ExecutorOutput> {
  const artifacts: Record<string, { artifacts: { uri: string; metadata: Record<string, unknown> }[] }> = {};
  for (const [port, ref] of Object.entries(inputs)) if (ref) artifacts[port] = { artifacts: [{ uri: ref.uri, metadata: ref.properties }] };
  return launchComponent(
    component,
    {
      inputs: { parameterValues: parameters, artifacts },
      outputs: { artifacts: Object.fromEntries(Object.entries(outputs).map(([port, uri]) => [port, { artifacts: [{ uri }] }])) },
    },
    { log: (line) => log.push(line) },
  );
}

/** The output artifact of a launch as an input reference for the next component. */
export function outputRef(out: ExecutorOutput, port: string): ArtifactRef {
  const a = out.artifacts![port].artifacts[0];
  return { uri: a.uri, properties: a.metadata ?? {} };
}

export function feature(stats: DatasetFeatureStatistics, name: string) {
  const f = stats.features.find((x) => x.name === name);
  if (!f) throw new Error(`no feature ${name} in statistics ${stats.name}`);
  return f;
}

/**
 * Statistics (any JSON) equal, except numbers (not int64 strings) within relative `tol`: sharded and unsharded
 * means and deviations merge in another order.
 * Weighted deviations come from power sums (Σw·x² − W·mean², shard-statistics.ts), whose cancellation on values
 * like epoch seconds leaves about 1e-8 of relative rounding that depends on how the rows were grouped.
 */
export function expectStatisticsClose(actual: unknown, expected: unknown, where: string, tol = 1e-9): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (/weighted/i.test(where)) tol = Math.max(tol, 1e-6);
    if (Math.abs(actual - expected) > tol * Math.max(1, Math.abs(expected))) throw new Error(`${where}: ${actual} is not ${expected}`);
    return;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') throw new Error(`${where}: ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`);
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const k of keys) expectStatisticsClose((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${where}.${k}`, tol);
    return;
  }
  if (actual !== expected) throw new Error(`${where}: ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`);
}
