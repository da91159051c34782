// Reads the structured run log that runtime/runner/run-log.ts writes (pino JSON lines in
// <log dir>/run.log): the run's node list and each node's outcome. It is the only record of nodes that ran
// no execution (skipped ones, resolver nodes) and it says why a node was cached, skipped or failed.

import * as fs from 'fs';
import type { NodeState } from '../../runner/run-types';

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
  /** "node finished" entries by node id. */
  finished: Map<string, LoggedNode>;
}

/** The log's contents, or undefined when there is no log (another machine ran it, or it was cleaned up). */
export async function readRunLog(file: string): Promise<RunLogContents | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const contents: RunLogContents = { finished: new Map() };
  for (const line of text.split('\n')) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      // A line cut short by a killed runner, or an empty last line.
      continue;
    }
    if (entry.msg === 'run started' && Array.isArray(entry.nodes)) contents.nodes = entry.nodes.map(String);
    if (entry.msg === 'node finished' && typeof entry.node === 'string') contents.finished.set(entry.node, entry as unknown as LoggedNode);
  }
  return contents;
}
