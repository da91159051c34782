// Tuner: searches hyperparameters for the Trainer's runFn (random, grid or Bayesian search from
// runtime/tuning), running up to max_parallel_trials trials at once, each in its own process, and stopping
// poor trials early with the median stopping rule, and reporting each trial's start and end as progress (trial
// i/N, its state, the best objective so far). Publishes the best trial's values (HyperParameters, which
// a Trainer takes as input) and every trial (TunerResults).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent, type OutputArtifact } from '../../core/component';
import { Examples, HyperParameters, Schema, TransformGraph, TunerResults } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { splitParquetFiles } from '../../data/duckdb';
import { TRANSFORM_GRAPH_FILE } from '../../transform/graph';
import { derivedColumnsOf } from '../example-gen/derived-columns';
import { checkHyperparameters, createOracle, hyperParametersContent, runSearch, SearchSpace, trialsTable, type ScoredTrial, type TrialRecord } from '../../tuning';
import { writeBestHyperparameters } from '../../tuning/hyperparameters-file';
import { runTrialProcess } from './run-trial';
import { tunerStatus } from './status';

export const TRIALS_FILE = 'trials.json';

export const TunerParameters = z.object({
  module_file: z.string().min(1).optional().describe('Module exporting runFn(fnArgs); default: the bundled wide & deep trainer'),
  search_space: SearchSpace.describe('Hyperparameters to search: discrete, int or double (linear or log)'),
  algorithm: z.enum(['random', 'grid', 'bayesian']).default('bayesian').describe('Search algorithm: random sampling, a grid over the space, or Bayesian optimization (Gaussian process + expected improvement)'),
  objective: z.object({ metric: z.string().min(1).default('val_loss').describe('Metric a trial reports to be compared on (e.g. val_loss, val_accuracy, val_rmse)'), goal: z.enum(['MAXIMIZE', 'MINIMIZE']).default('MINIMIZE').describe('Whether a higher or a lower value is better') }).default({ metric: 'val_loss', goal: 'MINIMIZE' }).describe('What the best trial is best at'),
  max_trials: z.number().int().min(1).max(1000).default(10).describe('Trials to run at most'),
  max_parallel_trials: z.number().int().min(1).max(64).default(1).describe('Trials running at once, each in its own process'),
  early_stopping: z.boolean().default(true).describe('Stop trials worse than the median of completed ones (median stopping rule)'),
  seed: z.number().int().default(0).describe('Seed of the search (same seed, same trials)'),
  hyperparameters: z.record(z.string(), z.unknown()).default({}).describe('Fixed hyperparameters for every trial; values of searched ones are ignored unless inside the space'),
  custom_config: z.record(z.string(), z.unknown()).default({}).describe('Free-form configuration passed to runFn in every trial (the bundled trainer needs label_key and task)'),
  train_split: z.string().min(1).default('train').describe('Split the trials train on'),
  eval_split: z.string().min(1).default('eval').describe('Split the objective metric is measured on'),
});
export type TunerParameters = z.output<typeof TunerParameters>;

/**
 * Writes the Tuner's outputs from finished trials: best_hyperparameters.json (the fixed hyperparameters with
 * the best trial's values over them) and trials.json, with their properties. Shared with the Argo fan-out's
 * collect step, which gathers trials that ran as separate pods.
 */
export async function publishTunerOutputs(
  outputs: { best_hyperparameters: OutputArtifact; tuner_results: OutputArtifact },
  parameters: TunerParameters,
  trials: TrialRecord[],
  best: ScoredTrial,
  log: (line: string) => void,
): Promise<void> {
  const table = trialsTable(trials);
  for (const row of table) log(`${row.trial_id} ${row.status}${row.objective !== null ? ` ${parameters.objective.metric}=${row.objective.toFixed(4)}` : ''}${row.error ? ` (${row.error})` : ''}`);
  const content = hyperParametersContent(best, parameters.objective);
  await writeBestHyperparameters(outputs.best_hyperparameters.path, { ...content, values: { ...parameters.hyperparameters, ...content.values } });
  await fs.promises.writeFile(path.join(outputs.tuner_results.path, TRIALS_FILE), JSON.stringify({ objective: parameters.objective, algorithm: parameters.algorithm, trials: table }, null, 2));
  outputs.best_hyperparameters.properties = { trial_id: content.trial_id, objective: content.objective.value };
  outputs.tuner_results.properties = { trials: table.length, completed: table.filter((t) => t.status === 'COMPLETED').length, stopped: table.filter((t) => t.stopped_early).length };
  log(`best ${content.trial_id}: ${parameters.objective.metric}=${content.objective.value} with ${JSON.stringify(content.values)}`);
}

export const Tuner = defineComponent({
  name: 'Tuner',
  version: '1',
  description: "Searches hyperparameters for a Trainer's runFn and outputs the best ones.",
  inputs: {
    examples: { type: Examples },
    transform_graph: { type: TransformGraph },
    schema: { type: Schema },
  },
  outputs: {
    best_hyperparameters: { type: HyperParameters },
    tuner_results: { type: TunerResults },
  },
  parameters: TunerParameters,
  executor: async ({ inputs, outputs, parameters, log, progress }) => {
    // A fixed value given for a searched hyperparameter must be a point of the space: it is a mistake otherwise.
    const searchedFixed = Object.fromEntries(Object.entries(parameters.hyperparameters).filter(([k]) => k in parameters.search_space));
    const partial = Object.fromEntries(Object.entries(parameters.search_space).filter(([k]) => k in searchedFixed));
    checkHyperparameters(partial, searchedFixed, 'Tuner parameter hyperparameters');

    const examples = inputs.examples[0];
    const oracle = createOracle({ space: parameters.search_space, algorithm: parameters.algorithm, objective: parameters.objective, maxTrials: parameters.max_trials, seed: parameters.seed });
    const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-tuner-'));
    const base = {
      moduleFile: parameters.module_file,
      trainFiles: splitParquetFiles(examples.path, parameters.train_split),
      evalFiles: splitParquetFiles(examples.path, parameters.eval_split),
      schemaDir: inputs.schema[0].path,
      transformGraphPath: path.join(inputs.transform_graph[0].path, TRANSFORM_GRAPH_FILE),
      customConfig: parameters.custom_config,
      derivedColumns: derivedColumnsOf(examples.properties, `examples ${examples.uri}`),
    };
    const report = (trialId: string) => progress(tunerStatus(trialId, oracle.trials(), parameters.max_trials, oracle.best(), parameters.objective.metric));
    let result;
    try {
      result = await runSearch({
        oracle,
        maxParallelTrials: parameters.max_parallel_trials,
        earlyStopping: parameters.early_stopping ? {} : false,
        onTrialEnded: report,
        runTrial: async (s, context) => {
          report(s.trialId);
          const workDir = path.join(scratch, s.trialId);
          try {
            return await runTrialProcess({ ...base, hyperparameters: { ...parameters.hyperparameters, ...s.hyperparameters }, workDir }, parameters.objective.metric, parameters.objective.goal, context, log);
          } finally {
            await fs.promises.rm(workDir, { recursive: true, force: true });
          }
        },
      });
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`Tuner: ${err.message}`);
      throw err;
    } finally {
      await fs.promises.rm(scratch, { recursive: true, force: true });
    }
    await publishTunerOutputs(outputs, parameters, result.trials, result.best, log);
  },
});
