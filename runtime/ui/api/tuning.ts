// Tuning: a TunerResults artifact's trials.json (every trial with its hyperparameters, objective value and
// status, as runtime/tuning's trialsTable writes it) and the best trial the Tuner published; and a page of
// tuning runs, each with its objective and best value.

import { TRIALS_FILE } from '../../components/tuner';
import type { MetadataStore } from '../../metadata/types';
import type { Objective, TrialRow } from '../../tuning';
import type { RootFiles } from '../root-files';
import { readArtifactJson } from './artifact-files';
import { listArtifacts } from './artifacts';
import { HttpError } from './http-error';
import { artifactOfType, producerOf, onPort } from './provenance';
import type { PageOf } from './query';
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

export interface TuningSummary {
  artifact: ArtifactView;
  runId?: string;
  objective?: Objective;
  /** The published best trial and its objective value. */
  best?: { trialId: string; value: number | null };
  /** Why this row has no objective (its trials.json could not be read): shown in its row, not hiding the others. */
  error?: string;
}

export async function listTuning(store: MetadataStore, files: RootFiles, q: URLSearchParams): Promise<PageOf<TuningSummary>> {
  const query = new URLSearchParams(q);
  query.set('type', 'TunerResults');
  const page = await listArtifacts(store, query);
  const items = await Promise.all(
    page.items.map(async (artifact): Promise<TuningSummary> => {
      try {
        const view = await tuningDetail(store, files, artifact.id);
        const best = view.trials.find((t) => t.trial_id === view.bestTrialId);
        return { artifact, ...(view.runId ? { runId: view.runId } : {}), objective: view.objective, ...(best ? { best: { trialId: best.trial_id, value: best.objective } } : {}) };
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        return { artifact, error: err.message };
      }
    }),
  );
  return { ...page, items };
}
