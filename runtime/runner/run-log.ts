// The structured run log: every run event as a JSON line (pino) in <root>/.runs/<run id>/run.log, next to
// the per-node executor logs, for machines and for debugging a run after the fact. The first line records
// the pipeline's structure (each node's upstream nodes), so the UI can draw nodes that never ran connected.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { UserError } from '../core/errors';
import { joinUri, localPathOf, storageFor } from '../storage';
import { mapLimit, walkFiles } from '../storage/common';
import { runFinishedFields } from './run-finished';
import type { NodeResult, RunReporter, RunSummary } from './run-types';

/** Log files uploaded at once. */
const UPLOAD_CONCURRENCY = 8;

/**
 * Where a run's logs are written while it runs: <root>/.runs/<run id> for a local root; a remote root's run
 * writes them in the runner's temp dir (executors append to local files) and uploadRunLogs copies them over.
 */
export function runLogDir(root: string, runId: string): string {
  return path.join(localPathOf(root) ?? path.join(os.tmpdir(), 'mlp'), '.runs', runId);
}

/** Where a run's logs are kept: <root>/.runs/<run id> (for a remote root, once the run has ended). */
export function runLogUri(root: string, runId: string): string {
  return localPathOf(root) === undefined ? joinUri(root, '.runs', runId) : runLogDir(root, runId);
}

/**
 * Copies a remote root's run folder (run.log, executor logs, ExecutorInput/Output) from the runner's temp
 * dir to runLogUri, where readers on any machine find it; the temp copy stays. Nothing to do for a local root.
 */
export async function uploadRunLogs(root: string, runId: string): Promise<void> {
  if (localPathOf(root) !== undefined) return;
  const target = runLogUri(root, runId);
  const dir = runLogDir(root, runId);
  const storage = storageFor(target);
  try {
    const files = await walkFiles(dir);
    await mapLimit(files, UPLOAD_CONCURRENCY, async (f) => storage.writeFile(joinUri(target, f.rel), await fs.promises.readFile(f.abs)));
  } catch (err) {
    throw new UserError(`uploading the logs of run ${runId} to ${target} failed (they stay in ${dir}): ${(err as Error).message}`);
  }
}

/**
 * The error a run's log recorded for the run (its failed `run_finished` line) or for one node (its failed
 * `node finished` line), the last one if several; undefined when there is none or no log on this machine.
 * Recovery reads it when the metadata store could not take the reason (e.g. it was full).
 */
export function loggedFailure(root: string, runId: string, nodeId?: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runLogDir(root, runId), 'run.log'), 'utf8');
  } catch {
    return undefined;
  }
  let found: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.includes('"error"')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line cut short by the crash
    }
    if (typeof entry.error !== 'string') continue;
    const matches = nodeId === undefined ? entry.event === 'run_finished' && entry.state === 'FAILED' : entry.msg === 'node finished' && entry.node === nodeId && entry.state === 'failed';
    if (matches) found = entry.error;
  }
  return found;
}

export class RunLogReporter implements RunReporter {
  private logger?: pino.Logger;
  private pipeline = '';
  private destination?: pino.DestinationStream & { flushSync?: () => void; end?: () => void };

  /**
   * @param logDir the run's log folder, known once the run has an id
   * @param upstreamOf a node's upstream node ids (data inputs, condition references, explicit ordering)
   */
  constructor(
    private readonly logDir: () => string,
    private readonly upstreamOf: (nodeId: string) => string[],
  ) {}

  runStarted(runId: string, pipeline: string, nodeIds: string[]): void {
    this.destination = pino.destination({ dest: path.join(this.logDir(), 'run.log'), mkdir: true, sync: true });
    this.logger = pino({ base: { runId } }, this.destination);
    this.pipeline = pipeline;
    const upstream = Object.fromEntries(nodeIds.map((id) => [id, this.upstreamOf(id)]));
    this.logger.info({ pipeline, nodes: nodeIds, upstream }, 'run started');
  }

  nodeStarted(id: string): void {
    this.logger?.info({ node: id }, 'node started');
  }

  nodeRetrying(id: string, attempt: number, error: string, delayMs: number): void {
    this.logger?.warn({ node: id, attempt, error, delayMs }, 'node attempt failed; retrying');
  }

  nodeWaiting(id: string, message: string): void {
    this.logger?.info({ node: id, message }, 'node waiting');
  }

  nodeFinished(r: NodeResult): void {
    const level = r.state === 'failed' ? 'error' : r.state === 'canceled' ? 'warn' : 'info';
    this.logger?.[level]({ node: r.id, state: r.state, durationMs: r.durationMs, attempts: r.attempts, executionId: r.executionId, reason: r.reason, error: r.error, outputs: r.outputs }, 'node finished');
  }

  runFinished(s: RunSummary): void {
    this.logger?.info(runFinishedFields(s.pipeline, s.state, s.durationMs), 'run finished');
    this.destination?.end?.();
  }

  runAborted(error: string, durationMs: number): void {
    this.logger?.error({ ...runFinishedFields(this.pipeline, 'FAILED', durationMs), error }, 'run finished');
    this.destination?.end?.();
  }
}

/** Sends every event to each reporter in turn. */
export function combineReporters(...reporters: RunReporter[]): RunReporter {
  return {
    runStarted: (...a) => reporters.forEach((r) => r.runStarted(...a)),
    nodeStarted: (...a) => reporters.forEach((r) => r.nodeStarted(...a)),
    nodeRetrying: (...a) => reporters.forEach((r) => r.nodeRetrying(...a)),
    nodeWaiting: (...a) => reporters.forEach((r) => r.nodeWaiting(...a)),
    nodeProgress: (...a) => reporters.forEach((r) => r.nodeProgress?.(...a)),
    nodeFinished: (...a) => reporters.forEach((r) => r.nodeFinished(...a)),
    runFinished: (...a) => reporters.forEach((r) => r.runFinished(...a)),
    runAborted: (...a) => reporters.forEach((r) => r.runAborted(...a)),
  };
}
