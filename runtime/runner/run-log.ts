// The structured run log: every run event as a JSON line (pino) in <root>/.runs/<run id>/run.log, next to
// the per-node executor logs, for machines and for debugging a run after the fact.

import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { localPathOf } from '../storage';
import type { NodeResult, RunReporter, RunSummary } from './run-types';

/** A run's log folder: <root>/.runs/<run id>; a remote root keeps its logs in the runner's temp dir. */
export function runLogDir(root: string, runId: string): string {
  return path.join(localPathOf(root) ?? path.join(os.tmpdir(), 'mlp'), '.runs', runId);
}

export class RunLogReporter implements RunReporter {
  private logger?: pino.Logger;
  private destination?: pino.DestinationStream & { flushSync?: () => void; end?: () => void };

  /** @param logDir the run's log folder, known once the run has an id */
  constructor(private readonly logDir: () => string) {}

  runStarted(runId: string, pipeline: string, nodeIds: string[]): void {
    this.destination = pino.destination({ dest: path.join(this.logDir(), 'run.log'), mkdir: true, sync: true });
    this.logger = pino({ base: { runId } }, this.destination);
    this.logger.info({ pipeline, nodes: nodeIds }, 'run started');
  }

  nodeStarted(id: string): void {
    this.logger?.info({ node: id }, 'node started');
  }

  nodeRetrying(id: string, attempt: number, error: string, delayMs: number): void {
    this.logger?.warn({ node: id, attempt, error, delayMs }, 'node attempt failed; retrying');
  }

  nodeFinished(r: NodeResult): void {
    const level = r.state === 'failed' ? 'error' : 'info';
    this.logger?.[level]({ node: r.id, state: r.state, durationMs: r.durationMs, attempts: r.attempts, executionId: r.executionId, reason: r.reason, error: r.error, outputs: r.outputs }, 'node finished');
  }

  runFinished(s: RunSummary): void {
    // The fields of MlMonitoring's LOG_CONTRACT.runFinished (failed-run alerts match on them).
    this.logger?.info({ event: 'run_finished', pipeline: s.pipeline, state: s.state, durationMs: s.durationMs }, 'run finished');
    this.destination?.end?.();
  }
}

/** Sends every event to each reporter in turn. */
export function combineReporters(...reporters: RunReporter[]): RunReporter {
  return {
    runStarted: (...a) => reporters.forEach((r) => r.runStarted(...a)),
    nodeStarted: (...a) => reporters.forEach((r) => r.nodeStarted(...a)),
    nodeRetrying: (...a) => reporters.forEach((r) => r.nodeRetrying(...a)),
    nodeFinished: (...a) => reporters.forEach((r) => r.nodeFinished(...a)),
    runFinished: (...a) => reporters.forEach((r) => r.runFinished(...a)),
  };
}
