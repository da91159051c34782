// Tuning: a TunerResults artifact's trials.json (every trial with its hyperparameters, objective value and
// status, as runtime/tuning's trialsTable writes it) and the best trial the Tuner published.

import { TRIALS_FILE } from '../../components/tuner';
import type { MetadataStore } from '../../metadata/types';
import type { Objective, TrialRow } from '../../tuning';
import type { RootFiles } from '../root-files';
import { readArtifactJson } from './artifact-files';
import { artifactOfType, producerOf, onPort } from './provenance';
import { artifactView, propertyOf, type ArtifactView } from './records';

export interface TuningView {
  artifact: ArtifactView;
  runId?: string;
  objective: Objective;
  algorithm: string;
  trials: TrialRow[];
  /** The trial whose hyperparameters the Tuner published (its HyperParameters output). */
  bestTrialId?: string;
  hyperParametersArtifactId?: number;
}

export async function tuningDetail(store: MetadataStore, files: RootFiles, id: number): Promise<TuningView> {
  const artifact = await artifactOfType(store, id, 'TunerResults');
  const [content, producer] = await Promise.all([
    readArtifactJson<{ objective: Objective; algorithm: string; trials: TrialRow[] }>(files, artifact, TRIALS_FILE),
    producerOf(store, id),
  ]);
  const best = onPort(producer?.outputs ?? [], 'best_hyperparameters');
  const bestTrialId = best && propertyOf(best, 'trial_id');
  const runId = producer?.execution.customProperties?.run_id;
  return {
    artifact: artifactView(artifact),
    ...(typeof runId === 'string' ? { runId } : {}),
    objective: content.objective,
    algorithm: content.algorithm,
    trials: content.trials ?? [],
    ...(typeof bestTrialId === 'string' ? { bestTrialId } : {}),
    ...(best ? { hyperParametersArtifactId: best.id } : {}),
  };
}
