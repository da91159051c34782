// `mlp lineage` after cached reruns: the real `mlp run spine-demo` three times on one root. The reruns are
// cache hits, recorded in MLMD as CACHED executions with their INPUT and OUTPUT events (as TFX records
// them); the lineage shows each producing execution once with its cached reuses counted (--json: listed),
// so it does not grow with reruns.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import { ExecutionState, EventType } from '../../../runtime/metadata/types';
import { runCli } from '../../support/cli';

interface Summary {
  runId: string;
  nodes: { id: string; state: string; executionId: number; outputs: Record<string, string> }[];
}

let root: string;
beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cli-lineage-'));
});
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

async function run(): Promise<Summary> {
  const r = await runCli(['run', 'spine-demo', '--root', root, '--param', 'count=20', '--json']);
  if (r.code !== 0) throw new Error(`spine-demo failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function lineage(uri: string, ...flags: string[]): Promise<string> {
  const r = await runCli(['lineage', uri, '--root', root, ...flags]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return r.stdout;
}

test('cached reruns are folded into the execution that produced the outputs: a count on its line, the list in --json', async () => {
  const first = await run();
  const output = (node: string, port: string) => first.nodes.find((n) => n.id === node)!.outputs[port];
  const numbers = output('produce', 'numbers');
  const summary = output('summarize-scaled', 'summary');
  // Upstream of the numbers is the producing side (OUTPUT events), downstream the consuming side (INPUT events).
  const once = { numbers: await lineage(numbers), summary: await lineage(summary, '--direction', 'upstream') };
  expect(once.numbers).not.toContain('reused by');

  const reruns = [await run(), await run()];
  for (const r of reruns) expect(r.nodes.map((n) => n.state)).toEqual(['cached', 'cached', 'cached', 'cached']);
  const thrice = { numbers: await lineage(numbers), summary: await lineage(summary, '--direction', 'upstream') };

  // The same tree, line for line; each execution only says it was reused twice.
  for (const key of ['numbers', 'summary'] as const) {
    expect(thrice[key].split('\n')).toHaveLength(once[key].split('\n').length);
    expect(thrice[key].replace(/, reused by 2 cached executions$/gm, '')).toBe(once[key]);
    const executionLines = thrice[key].split('\n').filter((l) => /^\s*[←→] execution /.test(l));
    expect(executionLines.length).toBeGreaterThan(0);
    for (const line of executionLines) expect(line).toMatch(/ COMPLETE, .*, reused by 2 cached executions$/);
  }
  // numbers ← produce; numbers → scale → scaled → summarize-scaled, numbers → summarize-raw
  expect(thrice.numbers.match(/execution \d+ /g)).toHaveLength(4);
  expect(thrice.summary.match(/execution \d+ /g)).toHaveLength(3);

  const json = JSON.parse(await lineage(numbers, '--json'));
  const reusedBy = (node: string) => reruns.map((r) => ({ executionId: r.nodes.find((n) => n.id === node)!.executionId, runId: r.runId, nodeId: node }));
  const shown = (direction: 'upstream' | 'downstream') =>
    Object.fromEntries(json[direction].executions.map((e: { customProperties: { node_id: string }; reusedBy: unknown }) => [e.customProperties.node_id, e.reusedBy]));
  expect(shown('upstream')).toEqual({ produce: reusedBy('produce') });
  expect(shown('downstream')).toEqual({ scale: reusedBy('scale'), 'summarize-raw': reusedBy('summarize-raw'), 'summarize-scaled': reusedBy('summarize-scaled') });
  // No event of a folded execution is left pointing at an execution not shown.
  for (const direction of ['upstream', 'downstream']) {
    const ids = new Set(json[direction].executions.map((e: { id: number }) => e.id));
    for (const e of json[direction].events) expect(ids.has(e.executionId)).toBe(true);
  }
}, 120_000);

test('the metadata store keeps every CACHED execution with its events, as TFX writes them', async () => {
  const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.sqlite')}`);
  try {
    const executions = await store.getExecutions({});
    expect(executions.filter((e) => e.lastKnownState === ExecutionState.COMPLETE)).toHaveLength(4);
    const cached = executions.filter((e) => e.lastKnownState === ExecutionState.CACHED);
    expect(cached).toHaveLength(8);
    const events = await store.getEvents({ executionIds: executions.map((e) => e.id!) });
    for (const c of cached) {
      const source = executions.find((e) => e.id === c.customProperties!.cached_from_execution)!;
      expect(source.lastKnownState).toBe(ExecutionState.COMPLETE);
      // The same artifacts in and out as the execution that ran.
      const links = (id: number) =>
        events
          .filter((e) => e.executionId === id && e.type !== EventType.PENDING_OUTPUT)
          .map((e) => `${e.type}:${e.artifactId}`)
          .sort();
      expect(links(c.id!)).toEqual(links(source.id!));
      expect(links(c.id!).length).toBeGreaterThan(0);
    }
  } finally {
    await store.close();
  }
});
