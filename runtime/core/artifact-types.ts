// The standard artifact types, with TFX's names and declared properties, and how each maps to a KFP v2
// schemaTitle. Components declare their ports with these; the metadata store registers them as MLMD types.

import { PropertyType, type SystemBaseType } from '../metadata/types';

export interface ArtifactType<Name extends string = string> {
  readonly name: Name;
  /** Properties declared on the MLMD type (TFX's PROPERTIES); anything else is a custom property. */
  readonly properties: Readonly<Record<string, PropertyType>>;
  /** KFP v2 artifact schemaTitle used when compiling to Vertex AI Pipelines. */
  readonly kfpSchemaTitle: string;
  readonly description: string;
  /** MLMD system base type, recorded through ParentType as TFX records its TYPE_ANNOTATION. */
  readonly baseType?: SystemBaseType;
}

function artifactType<Name extends string>(
  name: Name,
  kfpSchemaTitle: string,
  description: string,
  properties: Record<string, PropertyType> = {},
  baseType?: SystemBaseType,
): ArtifactType<Name> {
  return Object.freeze({ name, kfpSchemaTitle, description, properties: Object.freeze(properties), ...(baseType ? { baseType } : {}) });
}

/** TFX's standard_artifacts PROPERTIES: Examples declare span, version, split_names; statistics and anomalies span and split_names. */
const SPAN_PROPS = { span: PropertyType.INT, version: PropertyType.INT, split_names: PropertyType.STRING };
const SPAN_SPLIT_PROPS = { span: PropertyType.INT, split_names: PropertyType.STRING };

export const Examples = artifactType('Examples', 'system.Dataset', 'Split examples: <uri>/Split-<name>/part-*.parquet', SPAN_PROPS, 'Dataset');
export const ExampleStatistics = artifactType('ExampleStatistics', 'system.Statistics', 'Per-split statistics (TFDV DatasetFeatureStatisticsList JSON)', SPAN_SPLIT_PROPS, 'Statistics');
export const Schema = artifactType('Schema', 'system.Artifact', 'A tensorflow_metadata Schema (proto3 JSON)');
export const ExampleAnomalies = artifactType('ExampleAnomalies', 'system.Artifact', 'Per-split anomalies (TFDV Anomalies JSON)', SPAN_SPLIT_PROPS);
export const TransformGraph = artifactType('TransformGraph', 'system.Artifact', 'The preprocessing spec with every analyzer result');
export const Model = artifactType('Model', 'system.Model', 'A serving bundle: model, transform graph and signature', {}, 'Model');
export const ModelRun = artifactType('ModelRun', 'system.Artifact', 'Training logs, checkpoints and metrics of one training run');
export const HyperParameters = artifactType('HyperParameters', 'system.Artifact', 'Chosen hyperparameters (JSON)');
export const TunerResults = artifactType('TunerResults', 'system.Artifact', 'All tuning trials and their objective values');
export const ModelEvaluation = artifactType('ModelEvaluation', 'system.Metrics', 'Metrics per slice and threshold results');
export const ModelBlessing = artifactType('ModelBlessing', 'system.Artifact', 'BLESSED / NOT_BLESSED marker from the Evaluator');
export const InfraBlessing = artifactType('InfraBlessing', 'system.Artifact', 'INFRA_BLESSED / INFRA_NOT_BLESSED marker from the InfraValidator');
export const PushedModel = artifactType('PushedModel', 'system.Model', 'Where and as which version a model was pushed', {}, 'Model');
export const InferenceResult = artifactType('InferenceResult', 'system.Artifact', 'Batch predictions over an examples split');
/** A generic artifact for components whose output fits no standard type. */
export const GenericArtifact = artifactType('Artifact', 'system.Artifact', 'A generic artifact');

export const STANDARD_ARTIFACT_TYPES: readonly ArtifactType[] = [
  Examples, ExampleStatistics, Schema, ExampleAnomalies, TransformGraph, Model, ModelRun, HyperParameters,
  TunerResults, ModelEvaluation, ModelBlessing, InfraBlessing, PushedModel, InferenceResult, GenericArtifact,
];

/** Folder of one split inside a split-aware artifact, as TFX lays it out. */
export function splitFolder(split: string): string {
  return `Split-${split}`;
}
