// Evaluations: a ModelEvaluation's evaluation.json (read and checked by runtime/evaluation's
// readEvaluation) with the blessing the same Evaluator execution wrote, the model it evaluated, and the
// baseline model's own evaluation for a side-by-side comparison per slice.

import { EVALUATION_FILE, readEvaluation, type ModelEvaluation, type SliceMetrics } from '../../evaluation';
import type { Artifact, MetadataStore } from '../../metadata/types';
import type { RootFiles } from '../root-files';
import { readArtifactJson } from './artifact-files';
import { HttpError } from './http-error';
import { artifactOfType, consumersOf, executionIO, onPort, producerOf } from './provenance';
import { artifactView, propertyOf, type ArtifactView } from './records';

export interface EvaluationView {
  artifact: ArtifactView;
  evaluation: ModelEvaluation;
  runId?: string;
  blessing?: { artifactId: number; blessed: boolean };
  model?: { artifactId: number; uri: string };
  /** The baseline model and, when it was evaluated too, that evaluation's metrics per slice. */
  baseline?: { artifactId: number; uri: string; evaluationArtifactId?: number; slices?: SliceMetrics[] };
}

async function loadEvaluation(files: RootFiles, artifact: Artifact): Promise<ModelEvaluation> {
  try {
    return readEvaluation(await readArtifactJson<unknown>(files, artifact, EVALUATION_FILE), `${EVALUATION_FILE} of artifact ${artifact.id}`);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(500, (err as Error).message);
  }
}

/** The newest evaluation an Evaluator made of this model (its `model` input). */
async function evaluationOfModel(store: MetadataStore, modelId: number): Promise<Artifact | undefined> {
  const evaluators = (await consumersOf(store, modelId)).filter((c) => c.port === 'model');
  const io = await executionIO(store, evaluators.map((c) => c.execution));
  for (const c of evaluators) {
    const found = onPort(io.get(c.execution.id!)?.outputs ?? [], 'evaluation');
    if (found?.type === 'ModelEvaluation') return found;
  }
  return undefined;
}

export async function evaluationDetail(store: MetadataStore, files: RootFiles, id: number): Promise<EvaluationView> {
  const artifact = await artifactOfType(store, id, 'ModelEvaluation');
  const [evaluation, producer] = await Promise.all([loadEvaluation(files, artifact), producerOf(store, id)]);
  const blessing = onPort(producer?.outputs ?? [], 'blessing');
  const model = onPort(producer?.inputs ?? [], 'model');
  const baselineModel = onPort(producer?.inputs ?? [], 'baseline_model');
  let baseline: EvaluationView['baseline'];
  if (baselineModel) {
    const baselineEvaluation = await evaluationOfModel(store, baselineModel.id!);
    baseline = { artifactId: baselineModel.id!, uri: baselineModel.uri };
    if (baselineEvaluation) baseline = { ...baseline, evaluationArtifactId: baselineEvaluation.id, slices: (await loadEvaluation(files, baselineEvaluation)).slices };
  }
  const runId = producer?.execution.customProperties?.run_id;
  const blessed = blessing && propertyOf(blessing, 'blessed');
  return {
    artifact: artifactView(artifact),
    evaluation,
    ...(typeof runId === 'string' ? { runId } : {}),
    ...(blessing ? { blessing: { artifactId: blessing.id!, blessed: blessed === undefined ? evaluation.validation.blessed : blessed === 1 || blessed === true } } : {}),
    ...(model ? { model: { artifactId: model.id!, uri: model.uri } } : {}),
    ...(baseline ? { baseline } : {}),
  };
}
