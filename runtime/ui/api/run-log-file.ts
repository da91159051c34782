// Reads the structured run log that runtime/runner/run-log.ts writes (pino JSON lines in
// <log dir>/run.log): the run's node list, each node's upstream nodes and each node's outcome. It is the only
// record of nodes that ran no execution (skipped ones, resolver nodes) and it says why a node was cached,
// skipped or failed. Also finds a run's log files, local or (for a gs:// root) in the bucket, inside the
// root the UI serves (root-files.ts).

import { runLogUri } from '../../runner/run-log';
import type { NodeState } from '../../runner/run-types';
import { joinUri } from '../../storage';
import type { RootFiles } from '../root-files';

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
 * Where a run's log file `name` (run.log, <node>.log) is, or undefined when it is nowhere to be read inside
 * the served root (another machine ran a local-root run, the logs were cleaned up, a gs:// root's run has
 * not ended yet, or the run's root is another one). Looked for at `recorded` (an execution's log_uri)
 * first, then in <served root>/.runs/<run id>.
 */
export async function findRunLogFile(files: RootFiles, runId: string, name: string, recorded?: string): Promise<string | undefined> {
  const candidates = new Set([...(recorded === undefined ? [] : [recorded]), joinUri(runLogUri(files.root, runId), name)]);
  for (const uri of candidates) if (await files.exists(uri)) return uri;
  return undefined;
}

/** The contents of the run log at `uri` (a local path or gs:// URI inside the served root); undefined when it cannot be read there. */
export async function readRunLog(files: RootFiles, uri: string): Promise<RunLogContents | undefined> {
  const bytes = await files.read(uri);
  if (bytes === undefined) return undefined;
  const text = bytes.toString('utf8');
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
