// Model evaluation (TFMA's role) as a pure library: the Evaluator component computes predictions with the
// model and hands examples here; this computes metrics per slice, checks thresholds against a baseline and
// produces the ModelEvaluation / ModelBlessing contents.

export type { EvalExample } from './accumulator';
export { EvalConfig, MetricThreshold, PER_CLASS_METRICS, SlicingSpec, TASKS, TASK_METRICS, parseEvalConfig } from './eval-config';
export type { Direction, EvalConfigInput, Task } from './eval-config';
export { computeMetrics, metricsAccumulator } from './metrics';
export type { MetricsAccumulator, MetricsOptions, SliceMetrics } from './metrics';
export { OVERALL, sliceMatchesSpec, sliceName, slicesOf } from './slicing';
export type { Features, SliceKey, SliceValue } from './slicing';
export { NO_THRESHOLDS, validateMetrics } from './thresholds';
export type { ThresholdCheck, ThresholdResult, ValidationResult } from './thresholds';
export {
  BLESSED_FILE,
  EVALUATION_FILE,
  EVALUATION_FORMAT,
  EVALUATION_VERSION,
  NOT_BLESSED_FILE,
  blessingFile,
  buildEvaluation,
  evaluationJson,
  readEvaluation,
} from './evaluation-file';
export type { ModelEvaluation, ModelRef } from './evaluation-file';
