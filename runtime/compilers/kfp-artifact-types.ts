// The KFP v2 artifact type (schemaTitle, schemaVersion) each of our artifact types compiles to, in the KFP IR's
// input/output definitions and in the ExecutorInput every Argo and Airflow step carries. `system.*` titles only
// where our type is one of KFP's own system types; TFX's titles on KFP (`tfx.<TypeName>`, the titles of TFX's
// Kubeflow V2 artifact type schemas) for the rest. The table is docs/architecture.md's "KFP artifact types".

import type { ArtifactType } from '../core/artifact-types';
import { UserError } from '../core/errors';

/** KFP's system artifact types (kfp.dsl.types.artifact_types), all at schema version 0.0.1. */
export const KFP_SYSTEM_TITLES: readonly string[] = [
  'system.Artifact',
  'system.Dataset',
  'system.Model',
  'system.Metrics',
  'system.ClassificationMetrics',
  'system.SlicedClassificationMetrics',
  'system.HTML',
  'system.Markdown',
];

/** The schema version KFP's system types and the KFP SDK's own artifact classes declare. */
export const KFP_SCHEMA_VERSION = '0.0.1';

/** Our standard artifact types by name → the schemaTitle they compile to. */
const TITLES: Readonly<Record<string, string>> = {
  // Split Parquet data: a dataset (TFX annotates Examples as the Dataset base type), so KFP components taking
  // Input[Dataset] can be wired to it.
  Examples: 'system.Dataset',
  ExampleStatistics: 'tfx.ExampleStatistics',
  Schema: 'tfx.Schema',
  ExampleAnomalies: 'tfx.ExampleAnomalies',
  TransformGraph: 'tfx.TransformGraph',
  // The model files (serving bundle) themselves: a model.
  Model: 'system.Model',
  ModelRun: 'tfx.ModelRun',
  HyperParameters: 'tfx.HyperParameters',
  TunerResults: 'tfx.TunerResults',
  // Its metadata holds the overall slice's scalar metrics, as a KFP Metrics artifact's does (the UIs show them).
  ModelEvaluation: 'system.Metrics',
  ModelBlessing: 'tfx.ModelBlessing',
  InfraBlessing: 'tfx.InfraBlessing',
  // A record of where a model was pushed (pushed.json), not model files: TFX's title, not system.Model.
  PushedModel: 'tfx.PushedModel',
  InferenceResult: 'tfx.InferenceResult',
  Artifact: 'system.Artifact',
};

export interface KfpArtifactType {
  schemaTitle: string;
  schemaVersion: string;
}

/**
 * The KFP artifact type of one of our artifact types. A type outside our standard ones keeps the schemaTitle it
 * declares unless that title claims a `system.` type KFP does not define (an error naming the type and `where`).
 */
export function kfpArtifactType(type: ArtifactType, where: string): KfpArtifactType {
  const schemaTitle = TITLES[type.name] ?? type.kfpSchemaTitle;
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(schemaTitle)) {
    throw new UserError(`${where}: artifact type ${type.name} declares schemaTitle ${JSON.stringify(schemaTitle)}, which is not a KFP schema title such as tfx.${type.name}`);
  }
  if (schemaTitle.startsWith('system.') && !KFP_SYSTEM_TITLES.includes(schemaTitle)) {
    throw new UserError(`${where}: artifact type ${type.name} declares schemaTitle ${schemaTitle}, which is not a KFP system type (${KFP_SYSTEM_TITLES.join(', ')}); give it its own namespace, e.g. tfx.${type.name}`);
  }
  return { schemaTitle, schemaVersion: KFP_SCHEMA_VERSION };
}
