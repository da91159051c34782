// The Tuner as parallel pods (Argo Workflows): instead of one pod that runs every trial in its own process,
// a Tuner node compiles to rounds of
//   suggest (one pod: the oracle, replayed from the results of earlier rounds, proposes up to P trials)
//   → P trial pods (each runs one trial of the Trainer's runFn, exactly as the Tuner's trial process does)
// and a final collect step that publishes the Tuner's outputs (best_hyperparameters, tuner_results) as the
// Tuner would, recorded in the metadata store as the Tuner node's execution. Results travel as one JSON file
// per trial under a trials folder of the run (a gs:// prefix in the cloud).
//
// Batch-sequential, as Vizier does it with parallel trials: the Bayesian oracle sees every earlier round's
// results when it proposes the next round, and the median stopping rule compares a trial with the trials of
// earlier rounds (trials of one round run at the same time in different pods and cannot see each other).
// With P = max_parallel_trials the number of trials running at once is what the local Tuner allows.
//
// Entry points: `mlp component tuner suggest|trial|collect --executor-input <the Tuner's ExecutorInput>`.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AnyComponent } from '../core/component';
import { formatZodIssues, type ExecutorInput } from '../core/executor-io';
import { UserError } from '../core/errors';
import { launchComponent } from '../core/launcher';
import { splitParquetFiles } from '../data/duckdb';
import { publishTunerOutputs, Tuner, type TunerParameters } from '../components/tuner';
import { derivedColumnsOf } from '../components/example-gen/derived-columns';
import { runTrialProcess } from '../components/tuner/run-trial';
import { TRANSFORM_GRAPH_FILE } from '../transform/graph';
import { createOracle, shouldStop, type Hyperparameters, type IntermediateValue, type TrialRecord } from '../tuning';
import { oriented } from '../tuning/objective';
import { joinUri, localPathOf, storageFor } from '../storage';
import { dropUnresolved } from './step-protocol';
import { runStep, stepIsCached, type StepScope } from './cloud-step';


/** One trial's result file: <trials dir>/<trial id>.json. */
export interface TrialResultFile {
  trialId: string;
  round: number;
  hyperparameters: Hyperparameters;
  status: 'COMPLETED' | 'STOPPED' | 'FAILED';
  value?: number;
  error?: string;
  intermediate: IntermediateValue[];
}

export interface SuggestedTrial {
  trialId: string;
  round: number;
  hyperparameters: Hyperparameters;
}

/** Written by a round-1 suggest step that found a cache hit: no trial runs, collect reuses the cached outputs. */
const CACHED_MARKER = '_CACHED';

function tunerParameters(input: ExecutorInput): TunerParameters {
  const r = Tuner.parameters.safeParse(input.inputs?.parameterValues ?? {});
  if (!r.success) throw new UserError(`Tuner: invalid parameter ${formatZodIssues(r.error.issues)}`);
  return r.data;
}

/** Every trial result written so far, in trial order. */
export async function readTrialResults(trialsDir: string): Promise<TrialResultFile[]> {
  const storage = storageFor(trialsDir);
  const base = trialsDir.replace(/\/+$/, '');
  const entries = (await storage.list(base)).filter((e) => /\/trial-\d+\.json$/.test(e.uri));
  const results: TrialResultFile[] = [];
  for (const e of entries) results.push(JSON.parse((await storage.readFile(e.uri)).toString('utf8')));
  return results.sort((a, b) => a.trialId.localeCompare(b.trialId));
}

/**
 * The next round's trials: the oracle (same algorithm, objective and seed as the Tuner) replays the earlier
 * rounds — the same suggestions in the same order, then their results — and proposes up to `perRound` more.
 * Empty once the budget is spent, or when the Tuner's outputs are cached (metadata mode, round 1).
 */
export async function suggestTrials(input: ExecutorInput, opts: { trialsDir: string; round: number; perRound: number; scope?: StepScope }): Promise<SuggestedTrial[]> {
  const params = tunerParameters(input);
  const storage = storageFor(opts.trialsDir);
  const marker = joinUri(opts.trialsDir, CACHED_MARKER);
  if (await storage.exists(marker)) return [];
  if (opts.scope && opts.round === 1 && (await stepIsCached(Tuner as unknown as AnyComponent, input, opts.scope))) {
    await storage.writeFile(marker, '');
    return [];
  }
  const previous = (await readTrialResults(opts.trialsDir)).filter((t) => t.round < opts.round);
  const oracle = createOracle({ space: params.search_space, algorithm: params.algorithm, objective: params.objective, maxTrials: params.max_trials, seed: params.seed });
  for (let round = 1; round < opts.round; round++) {
    const ofRound = previous.filter((t) => t.round === round);
    const replayed = ofRound.map(() => oracle.suggest());
    ofRound.forEach((t, i) => {
      if (replayed[i]?.trialId !== t.trialId) throw new UserError(`Tuner: replaying round ${round} gave ${replayed[i]?.trialId ?? 'nothing'} where ${t.trialId} ran (trials folder ${opts.trialsDir} is from another search?)`);
      oracle.report(t.trialId, t.status === 'FAILED' ? { status: 'FAILED', error: t.error ?? 'failed', intermediate: t.intermediate } : { status: t.status, value: t.value!, intermediate: t.intermediate });
    });
  }
  const next: SuggestedTrial[] = [];
  for (let s = next.length < opts.perRound ? oracle.suggest() : undefined; s; s = next.length < opts.perRound ? oracle.suggest() : undefined) {
    next.push({ trialId: s.trialId, round: opts.round, hyperparameters: s.hyperparameters });
  }
  return next;
}

/** A local folder with an input artifact's files (downloaded when remote). */
async function localInput(input: ExecutorInput, port: string, cleanups: string[]): Promise<string> {
  const [a] = input.inputs?.artifacts?.[port]?.artifacts ?? [];
  if (!a) throw new UserError(`Tuner trial: missing input artifact for port "${port}"`);
  const local = localPathOf(a.uri);
  if (local) return local;
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-trial-input-'));
  cleanups.push(dir);
  await storageFor(a.uri).downloadTree(a.uri, dir);
  return dir;
}

/**
 * Runs one trial as the Tuner's trial process does (runtime/components/tuner/run-trial.ts) and writes its
 * result file. A failing trial is a FAILED result, not a failed step: the search goes on without it.
 */
export async function runTrial(input: ExecutorInput, opts: { trialsDir: string; trial: SuggestedTrial; log?: (line: string) => void }): Promise<TrialResultFile> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const params = tunerParameters(input);
  const { metric, goal } = params.objective;
  const completed = (await readTrialResults(opts.trialsDir)).filter((t) => t.round < opts.trial.round && t.status === 'COMPLETED').map((t) => t.intermediate);
  const cleanups: string[] = [];
  const intermediate: IntermediateValue[] = [];
  let stopped = false;
  let diverged: string | undefined;
  let result: TrialResultFile;
  const base = { trialId: opts.trial.trialId, round: opts.trial.round, hyperparameters: opts.trial.hyperparameters };
  try {
    const examples = await localInput(input, 'examples', cleanups);
    const workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-trial-'));
    cleanups.push(workDir);
    const job = {
      moduleFile: params.module_file,
      trainFiles: splitParquetFiles(examples, params.train_split),
      evalFiles: splitParquetFiles(examples, params.eval_split),
      schemaDir: await localInput(input, 'schema', cleanups),
      transformGraphPath: path.join(await localInput(input, 'transform_graph', cleanups), TRANSFORM_GRAPH_FILE),
      customConfig: params.custom_config,
      derivedColumns: derivedColumnsOf(input.inputs?.artifacts?.examples?.artifacts?.[0]?.metadata ?? {}, 'Tuner trial: examples'),
      hyperparameters: { ...params.hyperparameters, ...opts.trial.hyperparameters },
      workDir,
    };
    const context = {
      reportIntermediate(step: number, value: number): 'continue' | 'stop' {
        if (!Number.isFinite(value)) {
          diverged ??= `${metric} was ${value} at step ${step}`;
          stopped = true;
        } else {
          intermediate.push({ step, value });
          if (!stopped && params.early_stopping) stopped = shouldStop(intermediate, completed, goal);
        }
        return stopped ? 'stop' : 'continue';
      },
    };
    const value = (await runTrialProcess(job, metric, goal, context, log)) ?? intermediate.at(-1)?.value;
    if (diverged) result = { ...base, status: 'FAILED', error: diverged, intermediate };
    else if (value === undefined || !Number.isFinite(value)) result = { ...base, status: 'FAILED', error: `the trial gave ${value === undefined ? 'no value' : `the value ${value}`} for ${metric}`, intermediate };
    else result = { ...base, status: stopped ? 'STOPPED' : 'COMPLETED', value, intermediate };
  } catch (err) {
    result = { ...base, status: 'FAILED', error: (err as Error).message.split('\n')[0], intermediate };
  } finally {
    for (const dir of cleanups) await fs.promises.rm(dir, { recursive: true, force: true });
  }
  await storageFor(opts.trialsDir).writeFile(joinUri(opts.trialsDir, `${result.trialId}.json`), JSON.stringify(result, null, 2));
  log(`${result.trialId} ${result.status}${result.value !== undefined ? ` ${metric}=${result.value.toFixed(4)}` : ''}${result.error ? ` (${result.error})` : ''}`);
  return result;
}

/**
 * The Tuner with an executor that publishes the trials' results instead of running them: same name and
 * version, so its cache key and its execution type are the Tuner's, and the same output files.
 */
export function collectingTuner(trialsDir: string): AnyComponent {
  return {
    ...(Tuner as unknown as AnyComponent),
    executor: async ({ outputs, parameters, log }) => {
      const params = parameters as TunerParameters;
      const results = await readTrialResults(trialsDir);
      const records: TrialRecord[] = results.map((t) =>
        t.status === 'FAILED'
          ? { trialId: t.trialId, hyperparameters: t.hyperparameters, intermediate: t.intermediate, status: 'FAILED', error: t.error ?? 'failed' }
          : { trialId: t.trialId, hyperparameters: t.hyperparameters, intermediate: t.intermediate, status: t.status, value: t.value! },
      );
      let best: Extract<TrialRecord, { value: number }> | undefined;
      for (const t of records) if (t.status === 'COMPLETED' && (!best || oriented(params.objective.goal, t.value) > oriented(params.objective.goal, best.value))) best = t;
      if (!best) {
        const failures = records.flatMap((t) => (t.status === 'FAILED' ? [`${t.trialId}: ${t.error}`] : []));
        throw new UserError(`Tuner: all ${records.length} tuning trials failed or stopped${failures.length ? `; the first failure, ${failures[0]}` : ''} (trials folder ${trialsDir})`);
      }
      await publishTunerOutputs(outputs as Parameters<typeof publishTunerOutputs>[0], params, records, best, log);
    },
  };
}

/** The collect step: the Tuner's outputs from the trial results, as a cloud step (cache, lineage) or plainly. */
export async function collectTrials(input: ExecutorInput, opts: { trialsDir: string; scope?: StepScope }): Promise<void> {
  const component = collectingTuner(opts.trialsDir);
  if (opts.scope) await runStep(component, input, opts.scope);
  else await launchComponent(component, dropUnresolved(input));
}
