// The `run_finished` line of MlMonitoring's LOG_CONTRACT (constructs/ml-monitoring.ts), which the failed-run
// alert counts. The local runner writes it to run.log; a cloud run's exit step (`mlp monitor run-finished`:
// an Argo workflow's onExit, an Airflow DAG's last task, a KFP exit handler's task) writes it to its container's
// stderr, where Cloud Logging reads it.

export type RunState = 'COMPLETE' | 'FAILED' | 'CANCELED';

/** The contract's fields (runId comes from the run log's bindings there, from the caller here). */
export function runFinishedFields(pipeline: string, state: RunState, durationMs: number): { event: 'run_finished'; pipeline: string; state: RunState; durationMs: number } {
  return { event: 'run_finished', pipeline, state, durationMs };
}

/**
 * Our states and the engines' words for a finished run: Argo's {{workflow.status}} is Succeeded, Failed or
 * Error; KFP's PipelineTaskFinalStatus state SUCCEEDED, FAILED or CANCELLED. A canceled run (KFP's CANCELLED,
 * a local run stopped by SIGINT/SIGTERM) is CANCELED, which the failed-run alert counts as it counts FAILED;
 * Argo reports a stopped or terminated workflow as Failed, so there it is FAILED.
 */
const STATES: Record<string, RunState> = { complete: 'COMPLETE', succeeded: 'COMPLETE', failed: 'FAILED', error: 'FAILED', canceled: 'CANCELED', cancelled: 'CANCELED' };

/**
 * The run state a finished run's status means, from a word or KFP's PipelineTaskFinalStatus JSON (its `state`);
 * undefined for anything that names no finished run.
 */
export function runStateOf(status: string): RunState | undefined {
  let word = status.trim();
  if (word.startsWith('{')) {
    try {
      const parsed = JSON.parse(word) as { state?: unknown };
      word = typeof parsed?.state === 'string' ? parsed.state : '';
    } catch {
      return undefined;
    }
  }
  return STATES[word.toLowerCase()];
}

export const RUN_STATUS_WORDS = ['COMPLETE', 'FAILED', 'CANCELED', 'Succeeded', 'Failed', 'Error', 'SUCCEEDED', 'CANCELLED'];

/** The whole line as a container writes it: Cloud Logging's `severity` (ERROR failed, WARNING canceled) and a message. */
export function runFinishedLine(run: { pipeline: string; runId: string; state: RunState; durationMs: number }): string {
  return JSON.stringify({
    severity: run.state === 'FAILED' ? 'ERROR' : run.state === 'CANCELED' ? 'WARNING' : 'INFO',
    ...runFinishedFields(run.pipeline, run.state, run.durationMs),
    runId: run.runId,
    message: `run ${run.runId} of pipeline ${run.pipeline} finished ${run.state}`,
  });
}
