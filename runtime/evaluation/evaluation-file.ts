// The Evaluator's artifact contents. ModelEvaluation: <uri>/evaluation.json, a versioned JSON document with
// the config, the metrics of every slice and the threshold results (TFMA writes protos; one JSON file is
// what our readers need). ModelBlessing: an empty marker file, BLESSED or NOT_BLESSED, as TFX writes it.
// NaN (a metric undefined on a slice) is written as null and read back as NaN.

import { z } from 'zod';
import { UserError } from '../core/errors';
import { formatZodIssues } from '../core/executor-io';
import { DIRECTIONS, EvalConfig } from './eval-config';
import type { SliceMetrics } from './metrics';
import type { ValidationResult } from './thresholds';

export const EVALUATION_FILE = 'evaluation.json';
export const BLESSED_FILE = 'BLESSED';
export const NOT_BLESSED_FILE = 'NOT_BLESSED';
export const EVALUATION_FORMAT = 'mlp.model_evaluation';
export const EVALUATION_VERSION = 1;

/** A model artifact: its URI and, when it is in the metadata store, its artifact id. */
export interface ModelRef {
  uri: string;
  id?: number;
}

export interface ModelEvaluation {
  format: typeof EVALUATION_FORMAT;
  version: typeof EVALUATION_VERSION;
  config: EvalConfig;
  model?: ModelRef;
  /** The model the change thresholds compared against; absent on a first run. */
  baseline_model?: ModelRef;
  /** Multiclass: class names by index. */
  class_names?: string[];
  slices: SliceMetrics[];
  validation: ValidationResult;
}

export function buildEvaluation(parts: {
  config: EvalConfig;
  slices: SliceMetrics[];
  validation: ValidationResult;
  model?: ModelRef;
  baselineModel?: ModelRef;
  classNames?: readonly string[];
}): ModelEvaluation {
  return {
    format: EVALUATION_FORMAT,
    version: EVALUATION_VERSION,
    config: parts.config,
    ...(parts.model ? { model: parts.model } : {}),
    ...(parts.baselineModel ? { baseline_model: parts.baselineModel } : {}),
    ...(parts.classNames ? { class_names: [...parts.classNames] } : {}),
    slices: parts.slices,
    validation: parts.validation,
  };
}

/** The text of evaluation.json. */
export function evaluationJson(evaluation: ModelEvaluation): string {
  return JSON.stringify(evaluation, null, 2) + '\n';
}

/** The blessing marker file to write (empty) into the ModelBlessing artifact. */
export function blessingFile(blessed: boolean): string {
  return blessed ? BLESSED_FILE : NOT_BLESSED_FILE;
}

const MetricValue = z
  .number()
  .nullable()
  .transform((v) => v ?? NaN);
const ModelRefSchema = z.object({ uri: z.string().min(1), id: z.number().int().optional() });
const Check = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('lower_bound'), bound: z.number() }),
  z.object({ kind: z.literal('upper_bound'), bound: z.number() }),
  z.object({ kind: z.literal('absolute_change'), bound: z.number(), direction: z.enum(DIRECTIONS) }),
  z.object({ kind: z.literal('relative_change'), bound: z.number(), direction: z.enum(DIRECTIONS) }),
]);

const EvaluationSchema = z.object({
  format: z.literal(EVALUATION_FORMAT),
  version: z.literal(EVALUATION_VERSION),
  config: EvalConfig,
  model: ModelRefSchema.optional(),
  baseline_model: ModelRefSchema.optional(),
  class_names: z.array(z.string()).optional(),
  slices: z.array(
    z.object({
      slice: z.string(),
      slice_key: z.array(z.tuple([z.string(), z.union([z.string(), z.number()])])),
      example_count: z.number().int().min(0),
      metrics: z.record(z.string(), MetricValue),
    }),
  ),
  validation: z.object({
    blessed: z.boolean(),
    results: z.array(
      z.object({
        slice: z.string(),
        metric: z.string(),
        threshold: Check,
        value: MetricValue,
        baseline_value: MetricValue.optional(),
        passed: z.boolean(),
        reason: z.string(),
      }),
    ),
    failures: z.array(z.string()),
  }),
});

/** Checks evaluation.json (its text, or the parsed value) is an evaluation this runtime reads, naming `where` when not. */
export function readEvaluation(json: unknown, where: string): ModelEvaluation {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new UserError(`${where} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const v = value as { format?: unknown; version?: unknown } | null;
  if (!v || typeof v !== 'object' || v.format !== EVALUATION_FORMAT) throw new UserError(`${where} is not a model evaluation (format ${EVALUATION_FORMAT})`);
  if (v.version !== EVALUATION_VERSION) throw new UserError(`${where} is model evaluation version ${String(v.version)}; this runtime reads version ${EVALUATION_VERSION}`);
  const parsed = EvaluationSchema.safeParse(value);
  if (!parsed.success) throw new UserError(`${where} is not a valid model evaluation: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}
