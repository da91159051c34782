// What a run reports: per-node outcomes and the run summary printed by `mlp run --json`.

/** `canceled`: the run was canceled (SIGINT/SIGTERM) while the node ran, waited, or before it started. */
export type NodeState = 'executed' | 'cached' | 'resolved' | 'failed' | 'skipped' | 'upstream_failed' | 'canceled';

export interface NodeResult {
  id: string;
  component: string;
  state: NodeState;
  durationMs: number;
  attempts: number;
  /** MLMD execution id (absent when nothing was recorded). */
  executionId?: number;
  /** Output URIs by port (executed or cached nodes). */
  outputs: Record<string, string>;
  /** Why the node ran, was reused or was skipped (what `--explain` prints). */
  reason: string;
  error?: string;
  logFile?: string;
}

export interface RunSummary {
  runId: string;
  pipeline: string;
  /** CANCELED: a signal stopped the run before every node ended (`canceledBy` names it). */
  state: 'COMPLETE' | 'FAILED' | 'CANCELED';
  canceledBy?: string;
  startedAt: string;
  durationMs: number;
  root: string;
  parameters: Record<string, unknown>;
  /** Folder with the run log (run.log, JSON lines) and each node's executor log and ExecutorInput/Output. */
  logDir: string;
  nodes: NodeResult[];
}

/** Progress callbacks; the CLI renders them as lines or a live view. */
export interface RunReporter {
  runStarted(runId: string, pipeline: string, nodeIds: string[]): void;
  nodeStarted(id: string): void;
  nodeRetrying(id: string, attempt: number, error: string, delayMs: number): void;
  /** The node waits for another runner executing the same work (same cache key); `message` says whose. */
  nodeWaiting(id: string, message: string): void;
  /** A running node's executor says how far it is (e.g. the Tuner's trial i/N and best objective so far). */
  nodeProgress?(id: string, status: string): void;
  nodeFinished(result: NodeResult): void;
  runFinished(summary: RunSummary): void;
  /** The run stopped early because the metadata store failed; `error` names the store and the cause. */
  runAborted(error: string, durationMs: number): void;
}
