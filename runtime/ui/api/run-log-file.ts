// Reads the structured run log that runtime/runner/run-log.ts writes (pino JSON lines in
// <log dir>/run.log): the run's node list, each node's upstream nodes and each node's outcome. It is the only
// record of nodes that ran no execution (skipped ones, resolver nodes) and it says why a node was cached,
// skipped or failed. Also finds a run's log files, local or (for a gs:// root) in the bucket.

import { runLogDir, runLogUri } from '../../runner/run-log';
import type { NodeState } from '../../runner/run-types';
import { joinUri, storageFor } from '../../storage';

export const RUN_LOG_FILE = 'run.log';

export interface LoggedNode {
  node: string;
  state: NodeState;
  durationMs?: number;
  attempts?: number;
  executionId?: number;
  reason?: string;
  error?: string;
  /** Output URIs by port. */
  outputs?: Record<string, string>;
}

export interface RunLogContents {
  /** Every node of the pipeline, in the runner's order ("run started"). */
  nodes?: string[];
  /** Each node's upstream node ids ("run started"); absent in logs written before the runner recorded them. */
  upstream?: Record<string, string[]>;
  /** "node finished" entries by node id. */
  finished: Map<string, LoggedNode>;
}

/**
 * Where a run's log file `name` (run.log, <node>.log) is, or undefined when it is nowhere to be read (another
 * machine ran a local-root run, or the logs were cleaned up). Looked for at `recorded` (an execution's
 * log_uri) first, then in <root>/.runs/<run id>, then in the runner's temp dir, where a gs:// root's run
 * keeps its logs until it ends (on the runner's machine only).
 */
export async function findRunLogFile(root: string | undefined, runId: string, name: string, recorded?: string): Promise<string | undefined> {
  const folders = root === undefined ? [] : [runLogUri(root, runId), runLogDir(root, runId)];
  const candidates = new Set([...(recorded === undefined ? [] : [recorded]), ...folders.map((f) => joinUri(f, name))]);
  for (const uri of candidates) if (await storageFor(uri).exists(uri)) return uri;
  return undefined;
}

/** The contents of the run log at `uri` (a local path or gs:// URI). */
export async function readRunLog(uri: string): Promise<RunLogContents> {
  const text = (await storageFor(uri).readFile(uri)).toString('utf8');
  const contents: RunLogContents = { finished: new Map() };
  for (const line of text.split('\n')) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      // A line cut short by a killed runner, or an empty last line.
      continue;
    }
    if (entry.msg === 'run started') {
      if (Array.isArray(entry.nodes)) contents.nodes = entry.nodes.map(String);
      if (isUpstreamMap(entry.upstream)) contents.upstream = entry.upstream;
    }
    if (entry.msg === 'node finished' && typeof entry.node === 'string') contents.finished.set(entry.node, entry as unknown as LoggedNode);
  }
  return contents;
}

function isUpstreamMap(v: unknown): v is Record<string, string[]> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((ids) => Array.isArray(ids) && ids.every((id) => typeof id === 'string'));
}
