// Where the TFDV-shaped files live inside artifacts, and reading/writing them. TFX writes binary protos
// (Split-<name>/FeatureStats.pb, schema.pbtxt, Split-<name>/SchemaDiff.pb); we keep TFX's names and layout
// but write proto3 JSON, which json_format.Parse loads into the same messages:
//   ExampleStatistics: <uri>/Split-<name>/FeatureStats.json   (a DatasetFeatureStatisticsList, one dataset)
//   Schema:            <uri>/schema.json                        (a Schema)
//   ExampleAnomalies:  <uri>/Split-<name>/SchemaDiff.json      (an Anomalies)
// Executors get local folders, so the *Path functions use fs and path.join; the *Uri ones go through the storage
// layer for callers handed artifact URIs that may be gs:// (`mlp monitor skew`), and share the parsing and errors.

import * as fs from 'fs';
import * as path from 'path';
import { splitFolder } from '../core/artifact-types';
import { UserError } from '../core/errors';
import { joinUri, storageFor } from '../storage';
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

/** statisticsPath for an artifact URI of any scheme: path.join would turn gs://b into gs:/b. */
export function statisticsUri(artifactUri: string, split: string): string {
  return joinUri(artifactUri, splitFolder(split), STATISTICS_FILE);
}

export function anomaliesUri(artifactUri: string, split: string): string {
  return joinUri(artifactUri, splitFolder(split), ANOMALIES_FILE);
}

export function schemaUri(artifactUri: string): string {
  return joinUri(artifactUri, SCHEMA_FILE);
}

function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, jsonText(value));
}

/** writeJson to a local path, file:// or gs:// URI. */
export async function writeJsonUri(uri: string, value: unknown): Promise<void> {
  await storageFor(uri).writeFile(uri, jsonText(value));
}

/** Parses what `read` returns; `read` resolves undefined when the file is missing. Errors name `where`. */
async function parseJsonFrom<T>(where: string, what: string, read: () => Promise<Buffer | string | undefined>): Promise<T> {
  const text = await read();
  if (text === undefined) throw new UserError(`${what} not found: ${where}`);
  try {
    return JSON.parse(text.toString()) as T;
  } catch (e) {
    throw new UserError(`${what} ${where} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function readJson<T>(file: string, what: string): Promise<T> {
  return parseJsonFrom<T>(file, what, () => fs.promises.readFile(file, 'utf8').catch(() => undefined));
}

/**
 * readJson from a local path, file:// or gs:// URI. Only a missing file is "not found": other failures (permission
 * denied, a missing bucket) keep the storage layer's one-line error, which names the URI too.
 */
export async function readJsonUri<T>(uri: string, what: string): Promise<T> {
  const storage = storageFor(uri);
  return parseJsonFrom<T>(uri, what, () =>
    storage.readFile(uri).catch(async (err: unknown) => {
      if (await storage.exists(uri)) throw err;
      return undefined;
    }),
  );
}

/** The one dataset of a split's statistics file, read with readJson or readJsonUri. */
async function readStatisticsFile(file: string, split: string, read: typeof readJson): Promise<DatasetFeatureStatistics> {
  const list = await read<DatasetFeatureStatisticsList>(file, `statistics of split "${split}"`);
  if (!Array.isArray(list.datasets) || list.datasets.length === 0) throw new UserError(`statistics file ${file} holds no dataset`);
  return list.datasets[0];
}

/** The one dataset of a split's statistics file. */
export async function readSplitStatistics(artifactPath: string, split: string): Promise<DatasetFeatureStatistics> {
  return readStatisticsFile(statisticsPath(artifactPath, split), split, readJson);
}

/** readSplitStatistics for an ExampleStatistics artifact URI of any scheme (gs:// too). */
export async function readSplitStatisticsUri(artifactUri: string, split: string): Promise<DatasetFeatureStatistics> {
  return readStatisticsFile(statisticsUri(artifactUri, split), split, readJsonUri);
}

export async function readSchema(artifactPath: string): Promise<Schema> {
  return readJson<Schema>(schemaPath(artifactPath), 'schema');
}
