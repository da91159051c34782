// Runs: the list (newest first, a page at a time, optionally one pipeline's), one run with its DAG, one node
// with its execution, and the logs. A run is MLMD's pipeline_run context; its properties say when it
// started, how long it took and how it ended (runtime/runner/local-runner.ts records them). Logs are read
// only inside the served root (root-files.ts): a gs:// root's run uploads them to the bucket when it ends.

import type { Context, Execution, MetadataStore } from '../../metadata/types';
import { CONTEXT_PIPELINE, CONTEXT_RUN } from '../../runner/mlmd-types';
import { formatDuration } from '../../runner/progress';
import type { RootFiles } from '../root-files';
import { notFound } from './http-error';
import { executionIO } from './provenance';
import { pageFrom, pageOf, type PageOf } from './query';
import { executionView, type ExecutionView } from './records';
import { buildDag, type Dag, type DagNode } from './run-dag';
import { findRunLogFile, readRunLog, RUN_LOG_FILE } from './run-log-file';

export interface RunView {
  runId: string;
  pipeline?: string;
  state?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** As `mlp run` prints it. */
  duration?: string;
}

export interface RunDetail extends RunView, Dag {
  parameters?: unknown;
  root?: string;
  runtimeVersion?: string;
  error?: string;
  /** Whether the run log could be read (else node outcomes come from executions only). */
  logAvailable: boolean;
}

export interface NodeDetail {
  run: RunView;
  node: DagNode;
  execution?: ExecutionView;
  /** For a cached node: the execution that did the work, and its run and node (where its log is). */
  cachedFrom?: { executionId: number; runId?: string; nodeId?: string };
  /** Whether the node's executor log can be read here (a cached node reused another run's work and has none). */
  logAvailable: boolean;
}

/** Logs longer than this are cut to their end: the end is where a failure is. */
const MAX_LOG_BYTES = 1 << 20;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const summaryOf = ({ runId, pipeline, state, startedAt, finishedAt, durationMs, duration }: RunView): RunView => ({ runId, pipeline, state, startedAt, finishedAt, durationMs, duration });

function runView(ctx: Context): RunView {
  const p = ctx.customProperties ?? {};
  return {
    runId: ctx.name,
    pipeline: text(p.pipeline_name),
    state: text(p.state),
    startedAt: text(p.started_at),
    finishedAt: text(p.finished_at),
    ...(typeof p.duration_ms === 'number' ? { durationMs: p.duration_ms, duration: formatDuration(p.duration_ms) } : {}),
  };
}

export async function listRuns(store: MetadataStore, q: URLSearchParams): Promise<PageOf<RunView>> {
  const page = pageOf(q);
  const pipeline = q.get('pipeline');
  const rows = await store.getContexts({
    type: CONTEXT_RUN,
    ...(pipeline ? { properties: { pipeline_name: pipeline } } : {}),
    newestFirst: true,
    limit: page.limit + 1,
    offset: page.offset,
  });
  return pageFrom(rows.map(runView), page);
}

export async function listPipelines(store: MetadataStore): Promise<string[]> {
  return (await store.getContexts({ type: CONTEXT_PIPELINE })).map((c) => c.name).sort();
}

async function runContext(store: MetadataStore, runId: string): Promise<Context> {
  const [ctx] = await store.getContexts({ type: CONTEXT_RUN, name: runId });
  if (!ctx) throw notFound(`no run ${JSON.stringify(runId)}`);
  return ctx;
}

export async function getRun(store: MetadataStore, files: RootFiles, runId: string): Promise<RunDetail> {
  const ctx = await runContext(store, runId);
  const view = runView(ctx);
  const executions = await store.getExecutions({ contextId: ctx.id });
  const io = await executionIO(store, executions);
  const p = ctx.customProperties ?? {};
  const logFile = await findRunLogFile(files, runId, RUN_LOG_FILE);
  const log = logFile === undefined ? undefined : await readRunLog(files, logFile);
  return {
    ...view,
    parameters: p.parameters,
    root: text(p.root),
    runtimeVersion: text(p.runtime_version),
    error: text(p.error),
    logAvailable: log !== undefined,
    ...buildDag([...io.values()], log, view.state === 'RUNNING'),
  };
}

interface NodeRecord {
  run: RunDetail;
  node: DagNode;
  execution?: Execution;
  /** The executor log (local path or gs:// URI) of a node that ran here (a cached node reused another run's work and has none). */
  logFile?: string;
}

async function nodeRecord(store: MetadataStore, files: RootFiles, runId: string, nodeId: string): Promise<NodeRecord> {
  const run = await getRun(store, files, runId);
  const node = run.nodes.find((n) => n.id === nodeId);
  if (!node) throw notFound(`run ${runId} has no node ${JSON.stringify(nodeId)}`);
  const [execution] = node.executionId === undefined ? [] : await store.getExecutions({ ids: [node.executionId] });
  if (!execution || node.state === 'cached') return { run, node, execution };
  const logFile = await findRunLogFile(files, runId, `${nodeId}.log`, text(execution.customProperties?.log_uri));
  return { run, node, execution, logFile };
}

export async function getNode(store: MetadataStore, files: RootFiles, runId: string, nodeId: string): Promise<NodeDetail> {
  const { run, node, execution, logFile } = await nodeRecord(store, files, runId, nodeId);
  const [found] = node.cachedFromExecution === undefined ? [] : await store.getExecutions({ ids: [node.cachedFromExecution] });
  const source = found && executionView(found);
  return {
    run: summaryOf(run),
    node,
    ...(execution ? { execution: executionView(execution) } : {}),
    ...(source ? { cachedFrom: { executionId: source.id, runId: source.runId, nodeId: source.nodeId } } : {}),
    logAvailable: logFile !== undefined,
  };
}

/** The end of a log file inside the served root, with a first line saying how much was left out. */
async function tail(files: RootFiles, uri: string, missing: string): Promise<string> {
  const found = await files.readEnd(uri, MAX_LOG_BYTES);
  // Found a moment ago: gone (or swapped) since.
  if (found === undefined) throw notFound(missing);
  return (found.start > 0 ? `[first ${found.start} bytes not shown]\n` : '') + found.end.toString('utf8');
}

export async function nodeLog(store: MetadataStore, files: RootFiles, runId: string, nodeId: string): Promise<string> {
  const { node, logFile } = await nodeRecord(store, files, runId, nodeId);
  if (node.state === 'cached') {
    throw notFound(`node ${nodeId} of run ${runId} was cached: it reused the outputs of execution ${node.cachedFromExecution}, whose run has the log`);
  }
  const missing = `no log for node ${nodeId} of run ${runId} in the pipeline root this UI serves (it ran no executor here, or the log is elsewhere)`;
  if (logFile === undefined) throw notFound(missing);
  return tail(files, logFile, missing);
}

export async function runLog(store: MetadataStore, files: RootFiles, runId: string): Promise<string> {
  await runContext(store, runId);
  const missing = `no run log for run ${runId} in the pipeline root this UI serves`;
  const file = await findRunLogFile(files, runId, RUN_LOG_FILE);
  if (file === undefined) throw notFound(missing);
  return tail(files, file, missing);
}
