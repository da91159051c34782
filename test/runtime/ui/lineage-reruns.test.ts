// An artifact's lineage in `mlp ui` after cached reruns: the real `mlp run spine-demo` three times on one
// root. Through the JSON API, the graph after three runs is the graph after one (same nodes, edges and
// places), each execution listing the CACHED executions that reused its outputs; in Chromium, each
// execution box carries the count and the table under the graph links to the runs that reused it.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openBrowser } from '../../support/browser';
import { runCli } from '../../support/cli';
import { startUi, type Ui } from './helpers';

interface Summary {
  runId: string;
  nodes: { id: string; executionId: number; outputs: Record<string, string> }[];
}
interface LineageNode {
  key: string;
  kind: string;
  id: number;
  nodeId?: string;
  state: string;
  layer: number;
  order: number;
  reusedBy?: { executionId: number; runId: string; nodeId: string }[];
}

let root: string;
let first: Summary;
let reruns: Summary[];

async function run(): Promise<Summary> {
  const r = await runCli(['run', 'spine-demo', '--root', root, '--param', 'count=20', '--json']);
  if (r.code !== 0) throw new Error(`spine-demo failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The UI over the root's store for one look, closed again so the next run writes to a store nobody holds. */
async function withUi<T>(look: (ui: Ui) => Promise<T>): Promise<T> {
  const ui = await startUi(`sqlite:${path.join(root, 'metadata.sqlite')}`);
  try {
    return await look(ui);
  } finally {
    await ui.server.close();
  }
}

async function numbersId(ui: Ui): Promise<number> {
  const items = (await ui.get('/api/artifacts?type=Examples')).body.items as { id: number; uri: string }[];
  return items.find((a) => a.uri === first.nodes.find((n) => n.id === 'produce')!.outputs.numbers)!.id;
}

/** Both directions from the produced numbers: the producer (outputs side) and every consumer (inputs side). */
const lineageOfNumbers = (ui: Ui) => numbersId(ui).then(async (id) => (await ui.get(`/api/artifacts/${id}/lineage`)).body);

let once: { nodes: LineageNode[]; edges: unknown[] };
let thrice: { nodes: LineageNode[]; edges: unknown[] };
let detail: { producer: { execution: { nodeId: string }; reusedBy: unknown }; consumers: { execution: { nodeId: string }; reusedBy: unknown }[] };

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-lineage-'));
  first = await run();
  once = await withUi(lineageOfNumbers);
  reruns = [await run(), await run()];
  thrice = await withUi(lineageOfNumbers);
  detail = await withUi(async (ui) => (await ui.get(`/api/artifacts/${await numbersId(ui)}`)).body);
}, 180_000);

afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true });
});

const executions = (nodes: LineageNode[]) => nodes.filter((n) => n.kind === 'execution');
const withoutReuses = (nodes: LineageNode[]) => nodes.map(({ reusedBy, ...rest }) => rest);

test('the API answers the same graph after three runs as after one, each execution with its cached reuses', () => {
  expect(executions(once.nodes).map((n) => [n.nodeId, n.state, n.reusedBy])).toEqual(
    expect.arrayContaining([['produce', 'COMPLETE', undefined], ['scale', 'COMPLETE', undefined], ['summarize-raw', 'COMPLETE', undefined], ['summarize-scaled', 'COMPLETE', undefined]]),
  );
  expect(thrice.nodes).toHaveLength(once.nodes.length);
  expect(withoutReuses(thrice.nodes)).toEqual(withoutReuses(once.nodes));
  expect(thrice.edges).toEqual(once.edges);
  for (const n of executions(thrice.nodes)) {
    expect(n.reusedBy).toEqual(reruns.map((r) => ({ executionId: r.nodes.find((x) => x.id === n.nodeId)!.executionId, runId: r.runId, nodeId: n.nodeId })));
  }
  expect(executions(thrice.nodes)).toHaveLength(4);
});

test("the artifact's page lists its producer and consumers once, each with the cached runs that reused it", () => {
  const reusedBy = (node: string) => reruns.map((r) => ({ executionId: r.nodes.find((x) => x.id === node)!.executionId, runId: r.runId, nodeId: node }));
  expect(detail.producer).toMatchObject({ execution: { nodeId: 'produce' }, reusedBy: reusedBy('produce') });
  expect(detail.consumers.map((c) => [c.execution.nodeId, c.reusedBy]).sort()).toEqual([
    ['scale', reusedBy('scale')],
    ['summarize-raw', reusedBy('summarize-raw')],
  ]);
});

test('in the browser: a count on each execution box, and the runs that reused it in the table under the graph', async () => {
  const browser = await openBrowser();
  try {
    await withUi(async (ui) => {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${ui.server.url}/#/artifacts/${await numbersId(ui)}`);
      await page.locator('table [data-reused-execution]').first().waitFor();

      const boxes = page.locator('svg.graph a[data-execution]');
      expect(await boxes.count()).toBe(4);
      for (const box of await boxes.all()) {
        expect(await box.getAttribute('data-reused')).toBe('2');
        expect(await box.locator('text.count').textContent()).toBe('2 cached');
        expect(await box.locator('title').textContent()).toContain(`2 cached reuses: run ${reruns[0].runId}, run ${reruns[1].runId}`);
      }
      const facts = await page.locator('main table.kv').first().innerText();
      expect(facts).toMatch(/made by\s+produce \(run .*\) → numbers \+ 2 cached reuses/);
      expect(facts.match(/\+ 2 cached reuses/g)).toHaveLength(3);
      const rows = page.locator('table [data-reused-execution]');
      expect(await rows.count()).toBe(4);
      const scale = page.locator(`table [data-reused-execution="${first.nodes.find((n) => n.id === 'scale')!.executionId}"]`);
      expect(await scale.innerText()).toMatch(/scale\s+2\s+run .*, run /);
      const links = await scale.locator('td').last().locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(links).toEqual(reruns.map((r) => `#/runs/${encodeURIComponent(r.runId)}/nodes/scale`));
      expect(errors).toEqual([]);
    });
  } finally {
    await browser.close();
  }
}, 120_000);
