// Evaluator: predicts an eval split with the candidate model (and the baseline, the latest blessed model,
// when there is one) through the serving prediction path, computes metrics per slice (runtime/evaluation),
// checks TFMA-style value and change thresholds and writes ModelEvaluation (evaluation.json) and
// ModelBlessing (an empty BLESSED or NOT_BLESSED file; properties blessed, current and baseline model).
// A vocabulary the Transform flagged (out-of-vocabulary rate over its max_oov_rate) is a failure reason too.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Examples, Model, ModelBlessing, ModelEvaluation } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { splitParquetFiles } from '../../data/duckdb';
import {
  blessingFile, buildEvaluation, EvalConfig, EVALUATION_FILE, evaluationJson, metricsAccumulator, validateMetrics,
  type EvalExample, type MetricsAccumulator,
} from '../../evaluation';
import { selectBackend } from '../../ml/backend';
import { encodeLabel } from '../../ml/model-inputs';
import { parquetSource, predictExamples } from '../../ml/predict-examples';
import { loadServingBundle, type Prediction, type ServingBundle } from '../../ml/serving-bundle';
import { BASELINE_MODEL_ID, BASELINE_MODEL_URI, CURRENT_MODEL_ID, CURRENT_MODEL_URI } from '../../ml/blessing';
import { outOfVocabularyFailures } from '../../transform/out-of-vocabulary';

/** The number the metrics read from a prediction: P(positive), the class probabilities, or the value. */
function scoreOf(p: Prediction, task: string): number | number[] {
  if ('predictions' in p) return p.predictions[0];
  return task === 'binary' ? p.probabilities[1] : p.probabilities;
}

export const Evaluator = defineComponent({
  name: 'Evaluator',
  version: '1',
  description: 'Computes metrics per slice, checks thresholds against the baseline model and blesses or not.',
  inputs: {
    examples: { type: Examples },
    model: { type: Model },
    baseline_model: { type: Model, optional: true, description: 'The latest blessed model, for change thresholds' },
  },
  outputs: {
    evaluation: { type: ModelEvaluation },
    blessing: { type: ModelBlessing },
  },
  parameters: z.object({
    eval_config: EvalConfig.describe('TFMA-style EvalConfig: label, task, slicing specs, metrics, thresholds'),
    split: z.string().min(1).default('eval').describe('Split to evaluate on'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const config = parameters.eval_config;
    await selectBackend();
    const model = inputs.model[0];
    const baselineArtifact = inputs.baseline_model[0];
    const current = await loadServingBundle(model.path);
    // A model compared with itself (no new blessing since) is no baseline.
    const baseline = baselineArtifact && baselineArtifact.uri !== model.uri ? await loadServingBundle(baselineArtifact.path) : undefined;
    const { signature } = current;
    if (signature.task !== config.task) throw new UserError(`Evaluator: eval_config.task is ${config.task} but model ${model.uri} is a ${signature.task} model`);
    if (signature.label.key !== config.label_key) log(`note: eval_config.label_key ${config.label_key} differs from the model's label ${signature.label.key}`);
    const classNames = signature.label.classes;
    const accumulators: [ServingBundle, MetricsAccumulator][] = [[current, metricsAccumulator(config, { classNames })]];
    if (baseline) accumulators.push([baseline, metricsAccumulator(config, { classNames })]);
    const files = splitParquetFiles(inputs.examples[0].path, parameters.split);
    let used = 0;
    let skipped = 0;
    for (const [bundle, acc] of accumulators) {
      for await (const { rows, predictions } of predictExamples(bundle, parquetSource(files))) {
        rows.forEach((row, i) => {
          const label = encodeLabel(signature, row[config.label_key]);
          if (label === undefined) {
            if (bundle === current) skipped++;
            return;
          }
          if (bundle === current) used++;
          const weight = config.example_weight_key ? Number(row[config.example_weight_key]) : undefined;
          const example: EvalExample = { label, prediction: scoreOf(predictions[i], config.task), weight, features: row };
          acc.add(example);
        });
      }
    }
    const slices = accumulators[0][1].result();
    const baselineSlices = accumulators[1]?.[1].result();
    const checked = validateMetrics(slices, baselineSlices, config);
    const oovFailures = current.graph ? outOfVocabularyFailures(current.graph) : [];
    const validation = { ...checked, blessed: checked.blessed && oovFailures.length === 0, failures: [...checked.failures, ...oovFailures] };
    const evaluation = buildEvaluation({
      config,
      slices,
      validation,
      model: { uri: model.uri },
      baselineModel: baseline ? { uri: baselineArtifact.uri } : undefined,
      classNames,
    });
    await fs.promises.writeFile(path.join(outputs.evaluation.path, EVALUATION_FILE), evaluationJson(evaluation));
    await fs.promises.writeFile(path.join(outputs.blessing.path, blessingFile(validation.blessed)), '');
    const overall = slices[0]?.metrics ?? {};
    const headline = Object.fromEntries(Object.entries(overall).filter(([, v]) => Number.isFinite(v)).slice(0, 12));
    outputs.evaluation.properties = { ...headline, examples: used, skipped_examples: skipped, slices: slices.length };
    outputs.blessing.properties = {
      blessed: validation.blessed ? 1 : 0,
      [CURRENT_MODEL_URI]: model.uri,
      ...(model.id === undefined ? {} : { [CURRENT_MODEL_ID]: model.id }),
      ...(baseline ? { [BASELINE_MODEL_URI]: baselineArtifact.uri } : {}),
      ...(baseline && baselineArtifact.id !== undefined ? { [BASELINE_MODEL_ID]: baselineArtifact.id } : {}),
    };
    for (const f of validation.failures) log(`threshold failed: ${f}`);
    log(`${validation.blessed ? 'BLESSED' : 'NOT_BLESSED'}: ${used} examples, ${slices.length} slices${baseline ? `, baseline ${baselineArtifact.uri}` : ', no baseline'}${skipped ? `, ${skipped} without a usable label skipped` : ''}`);
    current.model.dispose();
    baseline?.model.dispose();
  },
});
