// The tuner loop: runs the oracle's suggestions with up to maxParallelTrials at once, stops poor trials
// with the median stopping rule as they report intermediate values, and records how each trial ended.
// How a trial runs (in process, in a child process) is the caller's runTrial.

import { UserError } from '../core/errors';
import { shouldStop, type MedianStoppingOptions } from './median-stopping';
import type { IntermediateValue } from './objective';
import type { Oracle } from './oracle';
import type { ScoredTrial, TrialRecord, TrialResult, TrialSuggestion } from './trial';

export type StopDecision = 'continue' | 'stop';

export interface TrialContext {
  /**
   * Records the objective metric's value at a step (e.g. an epoch) and says whether the trial should go on.
   * Once 'stop', always 'stop'. A non-finite value (a diverged loss) is not recorded; it stops the trial
   * and marks it FAILED.
   */
  reportIntermediate(step: number, value: number): StopDecision;
}

export interface SearchOptions {
  oracle: Oracle;
  /** Trials running at the same time. Default 1. */
  maxParallelTrials?: number;
  /** The median stopping rule's settings, or false to let every trial run to its end. Default: the rule's defaults. */
  earlyStopping?: MedianStoppingOptions | false;
  /**
   * Runs one trial and resolves to its final objective value, or undefined to take its last intermediate
   * value (e.g. when it stopped early). Throwing, or no value at all, marks the trial FAILED.
   */
  runTrial(suggestion: TrialSuggestion, context: TrialContext): Promise<number | undefined>;
  /** Called once a trial's outcome is recorded in the oracle (e.g. to report progress). */
  onTrialEnded?(trialId: string): void;
}

export interface SearchResult {
  trials: TrialRecord[];
  best: ScoredTrial;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runSearch(options: SearchOptions): Promise<SearchResult> {
  const { oracle, runTrial, earlyStopping = {} } = options;
  const parallel = options.maxParallelTrials ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new UserError(`maxParallelTrials must be an integer >= 1, got ${parallel}`);
  const { metric, goal } = oracle.objective;

  async function run(suggestion: TrialSuggestion): Promise<TrialResult> {
    const intermediate: IntermediateValue[] = [];
    let stopped = false;
    let diverged: string | undefined;
    const context: TrialContext = {
      reportIntermediate(step, value) {
        if (!Number.isFinite(value)) {
          diverged ??= `${metric} was ${value} at step ${step}`;
          stopped = true;
        } else {
          intermediate.push({ step, value });
          if (!stopped && earlyStopping) {
            const completed = oracle.trials().flatMap((t) => (t.status === 'COMPLETED' ? [t.intermediate] : []));
            stopped = shouldStop(intermediate, completed, goal, earlyStopping);
          }
        }
        return stopped ? 'stop' : 'continue';
      },
    };
    try {
      const value = (await runTrial(suggestion, context)) ?? intermediate.at(-1)?.value;
      if (diverged) return { status: 'FAILED', error: diverged, intermediate };
      if (value === undefined || !Number.isFinite(value)) {
        return { status: 'FAILED', error: `the trial gave ${value === undefined ? 'no value' : `the value ${value}`} for ${metric}`, intermediate };
      }
      return { status: stopped ? 'STOPPED' : 'COMPLETED', value, intermediate };
    } catch (error) {
      return { status: 'FAILED', error: errorMessage(error), intermediate };
    }
  }

  // Each worker takes the next suggestion as soon as its trial ends, so the Bayesian oracle sees every
  // result that is in when it suggests.
  const worker = async () => {
    for (let suggestion = oracle.suggest(); suggestion; suggestion = oracle.suggest()) {
      oracle.report(suggestion.trialId, await run(suggestion));
      options.onTrialEnded?.(suggestion.trialId);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));

  const trials = oracle.trials();
  const best = oracle.best();
  if (!best) {
    // Only when every trial failed: the stopping rule stops a trial only after others have completed.
    const failures = trials.flatMap((t) => (t.status === 'FAILED' ? [`${t.trialId}: ${t.error}`] : []));
    throw new UserError(`all ${failures.length} tuning trials failed; the first, ${failures[0]}`);
  }
  return { trials, best };
}
