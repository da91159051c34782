// Where the TFDV-shaped files live inside artifacts, and reading/writing them. TFX writes binary protos
// (Split-<name>/FeatureStats.pb, schema.pbtxt, Split-<name>/SchemaDiff.pb); we keep TFX's names and layout
// but write proto3 JSON, which json_format.Parse loads into the same messages:
//   ExampleStatistics: <uri>/Split-<name>/FeatureStats.json   (a DatasetFeatureStatisticsList, one dataset)
//   Schema:            <uri>/schema.json                        (a Schema)
//   ExampleAnomalies:  <uri>/Split-<name>/SchemaDiff.json      (an Anomalies)

import * as fs from 'fs';
import * as path from 'path';
import { splitFolder } from '../core/artifact-types';
import { UserError } from '../core/errors';
import type { Schema } from './schema-proto';
import type { DatasetFeatureStatistics, DatasetFeatureStatisticsList } from './statistics-proto';

export const STATISTICS_FILE = 'FeatureStats.json';
export const SCHEMA_FILE = 'schema.json';
export const ANOMALIES_FILE = 'SchemaDiff.json';

export function statisticsPath(artifactPath: string, split: string): string {
  return path.join(artifactPath, splitFolder(split), STATISTICS_FILE);
}

export function anomaliesPath(artifactPath: string, split: string): string {
  return path.join(artifactPath, splitFolder(split), ANOMALIES_FILE);
}

export function schemaPath(artifactPath: string): string {
  return path.join(artifactPath, SCHEMA_FILE);
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

export async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new UserError(`${what} not found: ${file}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The one dataset of a split's statistics file. */
export async function readSplitStatistics(artifactPath: string, split: string): Promise<DatasetFeatureStatistics> {
  const file = statisticsPath(artifactPath, split);
  const list = await readJson<DatasetFeatureStatisticsList>(file, `statistics of split "${split}"`);
  if (!Array.isArray(list.datasets) || list.datasets.length === 0) throw new UserError(`statistics file ${file} holds no dataset`);
  return list.datasets[0];
}

export async function readSchema(artifactPath: string): Promise<Schema> {
  return readJson<Schema>(schemaPath(artifactPath), 'schema');
}
