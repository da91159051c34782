// Predictions as flat columns, named as the BulkInferrer writes them (write-predictions.ts):
// predicted_class, predicted_class_id and probabilities for classifiers, prediction for regression. The
// request log writes them so its files read like BulkInferrer output; the static table reads them back.

import type { Prediction } from './serving-bundle';

export const CLASS_COLUMNS = ['predicted_class', 'predicted_class_id', 'probabilities'] as const;
export const REGRESSION_COLUMN = 'prediction';

export function predictionColumns(p: Prediction): Record<string, unknown> {
  if ('predictions' in p) return { [REGRESSION_COLUMN]: p.predictions[0] };
  return { predicted_class: p.classes[0], predicted_class_id: p.class_ids[0], probabilities: p.probabilities };
}

/** A prediction from a row holding the columns (which ones: `regression`); undefined when a value is unusable. */
export function predictionFromColumns(row: Record<string, unknown>, regression: boolean): Prediction | undefined {
  if (regression) {
    const v = Number(row[REGRESSION_COLUMN]);
    return row[REGRESSION_COLUMN] === null || Number.isNaN(v) ? undefined : { predictions: [v] };
  }
  const { predicted_class: cls, predicted_class_id: id, probabilities: probs } = row;
  if (typeof cls !== 'string' || id === null || !Array.isArray(probs) || !probs.every((x) => typeof x === 'number')) return undefined;
  return { probabilities: probs as number[], class_ids: [Number(id)], classes: [cls] };
}
