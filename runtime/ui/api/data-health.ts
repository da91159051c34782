// Data health: a statistics artifact's splits (TFDV DatasetFeatureStatistics, as StatisticsGen wrote them,
// with the anomalies ExampleValidator found in them), an anomalies artifact per split (type, description,
// drift/skew measurements against thresholds), and two splits or spans side by side with the distances
// TFDV's comparators use (runtime/tfdv/comparators.ts).

import { splitFolder } from '../../core/artifact-types';
import { splitNamesOf } from '../../data/duckdb';
import type { Artifact, MetadataStore } from '../../metadata/types';
import { ANOMALY_TYPE_CODES, listAnomalies, type Anomalies, type DriftSkewInfo } from '../../tfdv/anomalies-proto';
import { ANOMALIES_FILE, SCHEMA_FILE, STATISTICS_FILE } from '../../tfdv/artifact-files';
import { jensenShannonDivergence, lInfinity, normalizedAbsDifference, type Distance } from '../../tfdv/comparators';
import type { Schema } from '../../tfdv/schema-proto';
import type { DatasetFeatureStatistics, DatasetFeatureStatisticsList, FeatureNameStatistics } from '../../tfdv/statistics-proto';
import type { RootFiles } from '../root-files';
import { readArtifactJson } from './artifact-files';
import { HttpError, badRequest, notFound } from './http-error';
import { artifactOfType, consumersOf, executionIO, onPort, producerOf } from './provenance';
import { artifactView, propertyOf, type ArtifactView } from './records';

export interface AnomalyRow {
  /** Absent for dataset-level anomalies. */
  feature?: string;
  type: string;
  code?: number;
  shortDescription: string;
  description: string;
}

export interface SplitAnomalies {
  split: string;
  anomalies: AnomalyRow[];
  driftSkew: DriftSkewInfo[];
  dataMissing: boolean;
}

export interface StatisticsView {
  artifact: ArtifactView;
  span?: number;
  splits: string[];
  split: string;
  dataset: DatasetFeatureStatistics;
  /** The ExampleAnomalies made from these statistics (newest validation), and what it found in this split. */
  anomaliesArtifactId?: number;
  anomalies: AnomalyRow[];
}

export interface FeatureComparison {
  name: string;
  type?: string;
  left?: FeatureNameStatistics;
  right?: FeatureNameStatistics;
  /** Categorical features get L∞ and the normalized absolute difference; every feature present on both sides gets JSD. */
  distances: { lInfinity?: Distance; jensenShannonDivergence?: Distance; normalizedAbsDifference?: Distance };
}

export interface StatisticsComparison {
  left: { artifact: ArtifactView; split: string; numExamples: number };
  right: { artifact: ArtifactView; split: string; numExamples: number };
  features: FeatureComparison[];
}

function splitsOf(artifact: Artifact): string[] {
  try {
    return splitNamesOf({ ...artifact.customProperties, ...artifact.properties }, `${artifact.type} artifact ${artifact.id}`);
  } catch (err) {
    throw new HttpError(500, (err as Error).message);
  }
}

function chosenSplit(artifact: Artifact, requested: string | null): { splits: string[]; split: string } {
  const splits = splitsOf(artifact);
  const split = requested || splits[0];
  if (!splits.includes(split)) throw notFound(`${artifact.type} artifact ${artifact.id} has no split ${JSON.stringify(split)} (splits: ${splits.join(', ')})`);
  return { splits, split };
}

async function readDataset(files: RootFiles, artifact: Artifact, split: string): Promise<DatasetFeatureStatistics> {
  const list = await readArtifactJson<DatasetFeatureStatisticsList>(files, artifact, splitFolder(split), STATISTICS_FILE);
  const dataset = list.datasets?.[0];
  if (!dataset) throw new HttpError(500, `statistics of split ${split} of artifact ${artifact.id} hold no dataset`);
  return dataset;
}

function anomalyRows(a: Anomalies): AnomalyRow[] {
  return listAnomalies(a).map(({ feature, reason }) => ({
    ...(feature !== undefined ? { feature } : {}),
    type: reason.type,
    code: ANOMALY_TYPE_CODES[reason.type],
    shortDescription: reason.shortDescription,
    description: reason.description,
  }));
}

async function readAnomalies(files: RootFiles, artifact: Artifact, split: string): Promise<SplitAnomalies> {
  const a = await readArtifactJson<Anomalies>(files, artifact, splitFolder(split), ANOMALIES_FILE);
  return { split, anomalies: anomalyRows(a), driftSkew: a.driftSkewInfo ?? [], dataMissing: a.dataMissing === true };
}

/** The newest ExampleAnomalies an ExampleValidator made from these statistics. */
async function anomaliesFrom(store: MetadataStore, statisticsId: number): Promise<Artifact | undefined> {
  const validators = (await consumersOf(store, statisticsId)).filter((c) => c.port === 'statistics');
  const io = await executionIO(store, validators.map((c) => c.execution));
  for (const c of validators) {
    const found = onPort(io.get(c.execution.id!)?.outputs ?? [], 'anomalies');
    if (found?.type === 'ExampleAnomalies') return found;
  }
  return undefined;
}

export async function statistics(store: MetadataStore, files: RootFiles, id: number, q: URLSearchParams): Promise<StatisticsView> {
  const artifact = await artifactOfType(store, id, 'ExampleStatistics');
  const { splits, split } = chosenSplit(artifact, q.get('split'));
  const dataset = await readDataset(files, artifact, split);
  const anomaliesArtifact = await anomaliesFrom(store, id);
  let anomalies: AnomalyRow[] = [];
  if (anomaliesArtifact && splitsOf(anomaliesArtifact).includes(split)) anomalies = (await readAnomalies(files, anomaliesArtifact, split)).anomalies;
  const span = propertyOf(artifact, 'span');
  return {
    artifact: artifactView(artifact),
    ...(typeof span === 'number' ? { span } : {}),
    splits,
    split,
    dataset,
    ...(anomaliesArtifact ? { anomaliesArtifactId: anomaliesArtifact.id } : {}),
    anomalies,
  };
}

/** One drift or skew comparison the schema asks for: a feature, the distance and its threshold. */
export interface ComparatorCheck {
  feature: string;
  distance: string;
  threshold: number;
}

/** What a validation compared, so a page with no anomalies can say what passed. */
export interface ValidationChecks {
  statistics?: StatisticsRef;
  schema?: { artifactId: number; features: number; drift: ComparatorCheck[]; skew: ComparatorCheck[] };
  /** Drift is measured against this (the previous span's statistics); without it there is no drift check. */
  baseline?: StatisticsRef;
  /** Skew is measured against this (serving statistics); without it there is no skew check. */
  serving?: StatisticsRef;
}

interface StatisticsRef {
  artifactId: number;
  span?: number;
}

function statisticsRef(a: Artifact | undefined): StatisticsRef | undefined {
  if (!a) return undefined;
  const span = propertyOf(a, 'span');
  return { artifactId: a.id!, ...(typeof span === 'number' ? { span } : {}) };
}

function comparatorChecks(schema: Schema, which: 'driftComparator' | 'skewComparator'): ComparatorCheck[] {
  return (schema.feature ?? []).flatMap((f) =>
    Object.entries(f[which] ?? {}).flatMap(([distance, c]) => (c && typeof c.threshold === 'number' ? [{ feature: f.name, distance, threshold: c.threshold }] : [])),
  );
}

/** The inputs of the ExampleValidator that made these anomalies, with the comparisons its schema configures. */
async function validationChecks(store: MetadataStore, files: RootFiles, id: number): Promise<ValidationChecks> {
  const producer = await producerOf(store, id);
  const inputs = producer?.inputs ?? [];
  const schemaArtifact = onPort(inputs, 'schema');
  let schema: ValidationChecks['schema'];
  if (schemaArtifact) {
    const content = await readArtifactJson<Schema>(files, schemaArtifact, SCHEMA_FILE);
    schema = { artifactId: schemaArtifact.id!, features: (content.feature ?? []).length, drift: comparatorChecks(content, 'driftComparator'), skew: comparatorChecks(content, 'skewComparator') };
  }
  const refs = { statistics: statisticsRef(onPort(inputs, 'statistics')), baseline: statisticsRef(onPort(inputs, 'baseline_statistics')), serving: statisticsRef(onPort(inputs, 'serving_statistics')) };
  return { ...Object.fromEntries(Object.entries(refs).filter(([, v]) => v !== undefined)), ...(schema ? { schema } : {}) };
}

export async function anomalies(store: MetadataStore, files: RootFiles, id: number): Promise<{ artifact: ArtifactView; splits: SplitAnomalies[]; checks: ValidationChecks }> {
  const artifact = await artifactOfType(store, id, 'ExampleAnomalies');
  const [splits, checks] = await Promise.all([Promise.all(splitsOf(artifact).map((s) => readAnomalies(files, artifact, s))), validationChecks(store, files, id)]);
  return { artifact: artifactView(artifact), splits, checks };
}

/** "12:train" → artifact 12, split train. */
function sideOf(q: URLSearchParams, name: string): { id: number; split: string } {
  const m = /^(\d+):(.+)$/.exec(q.get(name) ?? '');
  if (!m) throw badRequest(`${name}=${q.get(name) ?? ''}: expected <statistics artifact id>:<split>, e.g. ${name}=12:train`);
  return { id: Number(m[1]), split: m[2] };
}

function compareFeature(name: string, left?: FeatureNameStatistics, right?: FeatureNameStatistics): FeatureComparison {
  const distances: FeatureComparison['distances'] = {};
  if (left && right) {
    distances.jensenShannonDivergence = jensenShannonDivergence(left, right);
    if (left.stringStats && right.stringStats) {
      distances.lInfinity = lInfinity(left, right);
      distances.normalizedAbsDifference = normalizedAbsDifference(left, right);
    }
  }
  return { name, type: left?.type ?? right?.type, ...(left ? { left } : {}), ...(right ? { right } : {}), distances };
}

export async function compareStatistics(store: MetadataStore, files: RootFiles, q: URLSearchParams): Promise<StatisticsComparison> {
  const sides = await Promise.all(
    [sideOf(q, 'left'), sideOf(q, 'right')].map(async ({ id, split }) => {
      const artifact = await artifactOfType(store, id, 'ExampleStatistics');
      chosenSplit(artifact, split);
      return { artifact, split, dataset: await readDataset(files, artifact, split) };
    }),
  );
  const [l, r] = sides;
  const leftFeatures = new Map(l.dataset.features.map((f) => [f.name, f]));
  const rightFeatures = new Map(r.dataset.features.map((f) => [f.name, f]));
  const names = [...new Set([...leftFeatures.keys(), ...rightFeatures.keys()])];
  const side = (s: (typeof sides)[number]) => ({ artifact: artifactView(s.artifact), split: s.split, numExamples: Number(s.dataset.numExamples) });
  return { left: side(l), right: side(r), features: names.map((n) => compareFeature(n, leftFeatures.get(n), rightFeatures.get(n))) };
}
