// A ModelRun's training curves: metrics.jsonl as the Trainer writes it (one JSON record per epoch: loss on
// the training data, val_* on the eval split), checked line by line so a broken file is an error naming the
// line rather than a chart with holes.

import { METRICS_FILE } from '../../components/trainer/wide-deep-run-fn';
import type { MetadataStore } from '../../metadata/types';
import type { RootFiles } from '../root-files';
import { readArtifactText } from './artifact-files';
import { HttpError } from './http-error';
import { artifactOfType, producerOf } from './provenance';
import { artifactView, type ArtifactView } from './records';

export interface ModelRunView {
  artifact: ArtifactView;
  runId?: string;
  /** One record per epoch, in the file's order: epoch, step and every numeric metric. */
  epochs: Record<string, number>[];
}

function parseEpochs(text: string, where: string): Record<string, number>[] {
  const epochs: Record<string, number>[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      // JSON.parse's message quotes the line: never sent.
      throw new HttpError(500, `line ${i + 1} of ${where} is not valid JSON`);
    }
    if (typeof record !== 'object' || record === null || typeof (record as { epoch?: unknown }).epoch !== 'number') {
      throw new HttpError(500, `line ${i + 1} of ${where} is not an epoch record (an object with a numeric "epoch")`);
    }
    const numbers = Object.entries(record).filter(([, v]) => typeof v === 'number');
    epochs.push(Object.fromEntries(numbers));
  });
  return epochs;
}

export async function modelRunDetail(store: MetadataStore, files: RootFiles, id: number): Promise<ModelRunView> {
  const artifact = await artifactOfType(store, id, 'ModelRun');
  const [text, producer] = await Promise.all([readArtifactText(files, artifact, METRICS_FILE), producerOf(store, id)]);
  const runId = producer?.execution.customProperties?.run_id;
  return {
    artifact: artifactView(artifact),
    ...(typeof runId === 'string' ? { runId } : {}),
    epochs: parseEpochs(text, `${METRICS_FILE} of ModelRun artifact ${id}`),
  };
}
