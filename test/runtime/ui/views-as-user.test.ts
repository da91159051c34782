// mlp ui's pages as a user sees them, in headless Chromium at 1400×900 over small stores built for each page
// (no pipeline runs): what the screenshot would show is asserted on the rendered DOM and on the charts'
// canvases. Screenshots go to test-output/ui-screenshots/ (not committed).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, SummarizeNumbers } from '../../../runtime/components';
import { STANDARD_ARTIFACT_TYPES } from '../../../runtime/core/artifact-types';
import { TRIALS_FILE } from '../../../runtime/components/tuner';
import { buildEvaluation, EVALUATION_FILE, evaluationJson, parseEvalConfig } from '../../../runtime/evaluation';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { ArtifactState, EventType, ExecutionState, TypeKind, type MetadataStore } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../runtime/runner/run-types';
import { generateStatistics } from '../../../runtime/tfdv/generate-statistics';
import { anomaliesPath, schemaPath, statisticsPath, writeJson } from '../../../runtime/tfdv/artifact-files';
import type { Schema } from '../../../runtime/tfdv/schema-proto';
import { openBrowser } from '../../support/browser';
import { REPO_ROOT } from '../../support/cli';
import { FlakyCount } from '../../fixtures/pipelines/test-components';
import { uiAfterRuns, type Ui } from './helpers';

const SCREENSHOTS = path.join(REPO_ROOT, 'test-output', 'ui-screenshots');
const FLIGHTS = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

let browser: Awaited<ReturnType<typeof openBrowser>>;
let dir: string;
const uis: Ui[] = [];

beforeAll(async () => {
  browser = await openBrowser();
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-views-'));
  await fs.promises.mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  for (const ui of uis) await ui.server.close();
  await browser?.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** A UI over a fresh store in its own folder under `dir`, filled by `record` (artifact types registered). */
async function uiOver(name: string, record: (store: MetadataStore, folder: string) => Promise<void>): Promise<Ui> {
  const folder = path.join(dir, name);
  await fs.promises.mkdir(folder);
  const ui = await uiAfterRuns(folder, async (store) => {
    for (const t of STANDARD_ARTIFACT_TYPES) await store.putType({ kind: TypeKind.ARTIFACT, name: t.name, properties: { ...t.properties } });
    await record(store, folder);
  });
  uis.push(ui);
  return ui;
}

/**
 * A 1400×900 page at `hash`, once `ready` is shown; page errors fail the test. The full-page screenshot is
 * taken by finish(), after the assertions: taking it may scroll or resize what is measured.
 */
async function open(ui: Ui, hash: string, ready: string, shot: string): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`${ui.server.url}/${hash}`);
  await page.locator(ready).first().waitFor();
  opened.set(page, { shot, errors });
  return page;
}

const opened = new Map<Page, { shot: string; errors: string[] }>();

/** Screenshot of the page as the assertions left it, no page error, closed. */
async function finish(page: Page): Promise<void> {
  const { shot, errors } = opened.get(page)!;
  await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
  expect(errors).toEqual([]);
  await page.close();
}

/** Per canvas in `scope`: whether Chart.js drew a chart on it, its labels, and how many of its pixels are painted. */
function canvases(page: Page, scope: string) {
  return page.locator(`${scope} canvas`).evaluateAll((list) =>
    list.map((canvas: any) => {
      const chart = (globalThis as any).Chart.getChart(canvas);
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { drawn: !!chart, labels: chart ? (chart.data.labels as unknown[]).map(String) : [], painted };
    }),
  );
}

describe('statistics page', () => {
  let ui: Ui;
  let id: number;

  beforeAll(async () => {
    ui = await uiOver('statistics', async (store, folder) => {
      // Ten features of real flights, day_of_week an integer 1…7.
      const parquet = path.join(folder, 'flights.parquet');
      const conn = await duckdb();
      await conn.run(
        `COPY (SELECT CAST(date AS VARCHAR) AS date, delay, distance, origin, destination, isodow(date) AS day_of_week, hour(date) AS hour,
          day(date) AS day_of_month, origin || '-' || destination AS route, delay > 15 AS late_flag
          FROM read_parquet(${sqlString(FLIGHTS)}) ORDER BY hash(date, origin, destination, delay) LIMIT 2000) TO ${sqlString(parquet)} (FORMAT parquet)`,
      );
      const uri = path.join(folder, 'statistics');
      await writeJson(statisticsPath(uri, 'train'), { datasets: [await generateStatistics('train', [parquet])] });
      [id] = await store.putArtifacts([{ type: 'ExampleStatistics', uri, state: ArtifactState.LIVE, properties: { split_names: '["train"]', span: 1 } }]);
    });
  }, 60_000);

  test('every feature has its chart drawn on load, without scrolling; an integer feature has one bar per integer', async () => {
    const page = await open(ui, `#/statistics/${id}`, '.card canvas', 'statistics-on-load');
    expect(await page.evaluate(() => (globalThis as any).scrollY)).toBe(0);
    const cards = await page.locator('.card[data-feature]').evaluateAll((list) => list.map((c) => c.getAttribute('data-feature')));
    expect(cards).toHaveLength(10);
    const drawn = await canvases(page, '.card');
    expect(drawn).toHaveLength(10);
    // Drawn: a chart on every canvas, and pixels painted on it (panels below the fold too).
    for (const c of drawn) expect(c).toMatchObject({ drawn: true, painted: expect.any(Number) });
    expect(drawn.every((c) => c.painted > 100)).toBe(true);
    const [dayOfWeek] = await canvases(page, '.card[data-feature="day_of_week"]');
    expect(dayOfWeek.labels).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    // Wider integer ranges: labels are integer ranges, never fractional edges.
    const [dayOfMonth] = await canvases(page, '.card[data-feature="day_of_month"]');
    for (const label of dayOfMonth.labels) expect(label).toMatch(/^\d+(–\d+)?$/);
    await finish(page);
  }, 60_000);
});

/** Penguins-like multiclass metrics for a slice of `n` examples: 14 columns, the per-class ones named with '/'. */
function penguinMetrics(n: number, i: number): Record<string, number> {
  const m: Record<string, number> = { example_count: n, weighted_example_count: n, accuracy: 0.9876 - i / 100, log_loss: 3.12e-4 * (i + 1), precision: 0.97, recall: 0.96, macro_precision: 0.95, macro_recall: 0.9512 };
  for (const c of ['Adelie', 'Chinstrap', 'Gentoo']) Object.assign(m, { [`precision/${c}`]: 0.9 + i / 1000, [`recall/${c}`]: 0.8 + i / 1000 });
  return m;
}

/** Slices as the penguins evaluation has them: a few big ones and crossed ones of 1–2 examples. */
const SLICES: [string, number][] = [
  ['Overall', 334],
  ['island:Biscoe', 168],
  ['island:Dream', 124],
  ['island:Torgersen', 42],
  ['island:Dream,sex:.', 1],
  ['island:Biscoe,sex:NA', 2],
  ['sex:FEMALE', 165],
  ['island:Torgersen,sex:NA', 1],
];

describe('evaluation pages', () => {
  let ui: Ui;
  let id: number;

  beforeAll(async () => {
    ui = await uiOver('evaluations', async (store, folder) => {
      await store.putType({ kind: TypeKind.EXECUTION, name: 'Evaluator' });
      const headline = penguinMetrics(334, 0);
      const result = await store.putExecution(
        { type: 'Evaluator', lastKnownState: ExecutionState.COMPLETE, customProperties: { run_id: 'run-eval', node_id: 'evaluator' } },
        [
          { artifact: { type: 'Model', uri: path.join(folder, 'model'), state: ArtifactState.LIVE }, event: { type: EventType.INPUT, path: [{ key: 'model' }, { index: 0 }] } },
          {
            artifact: { type: 'ModelEvaluation', uri: path.join(folder, 'evaluation'), state: ArtifactState.LIVE, customProperties: { ...Object.fromEntries(Object.entries(headline).filter(([k]) => !k.includes('/'))), examples: 334, slices: SLICES.length } },
            event: { type: EventType.OUTPUT, path: [{ key: 'evaluation' }, { index: 0 }] },
          },
        ],
        [],
      );
      id = result.artifactIds[1];
      const config = parseEvalConfig({ label_key: 'species', task: 'multiclass', slicing_specs: [{}], thresholds: { accuracy: { value_threshold: { lower_bound: 0.5 } } } });
      const slices = SLICES.map(([slice, n], i) => ({ slice, slice_key: [], example_count: n, metrics: penguinMetrics(n, i) }));
      const validation = { blessed: true, results: [{ slice: 'Overall', metric: 'accuracy', threshold: { kind: 'lower_bound' as const, bound: 0.5 }, value: 0.9876, passed: true, reason: 'ok' }], failures: [] };
      await fs.promises.mkdir(path.join(folder, 'evaluation'), { recursive: true });
      await fs.promises.writeFile(path.join(folder, 'evaluation', EVALUATION_FILE), evaluationJson(buildEvaluation({ config, slices, validation, classNames: ['Adelie', 'Chinstrap', 'Gentoo'] })));
    });
  }, 60_000);

  /** The page fits a 1400 px window, the header bar spans it, and no number cell wraps or shows an exponent. */
  async function expectFitsAndReadable(page: Page): Promise<void> {
    const widths = await page.evaluate(() => {
      const doc = (globalThis as any).document;
      return { page: doc.documentElement.scrollWidth, header: doc.querySelector('header').getBoundingClientRect().width };
    });
    expect(widths).toEqual({ page: 1400, header: 1400 });
    const cells = await page.locator('main td.num').evaluateAll((list) =>
      list.map((td: any) => ({ text: td.innerText as string })),
    );
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) {
      expect(c.text).not.toMatch(/e[-+]\d/);
      expect(c.text).not.toContain('\n');
    }
    const heights = await page.locator('main td.num').evaluateAll((list) => list.map((td) => td.getClientRects().length));
    expect(heights.every((h) => h === 1)).toBe(true);
  }

  test('the evaluation page fits the window and writes small numbers out', async () => {
    const page = await open(ui, `#/evaluations/${id}`, 'table.metrics tbody tr', 'evaluation-fits');
    await expectFitsAndReadable(page);
    // The 15-column table fits too (its names break after '_' and '/'), rather than scrolling in its box.
    expect(await page.locator('table.metrics').evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth)).toBe(true);
    const overall = page.locator('table.metrics tbody tr', { hasText: /^Overall/ });
    expect(await overall.innerText()).toContain('0.000312');
    await finish(page);
  }, 60_000);

  test('slices are listed largest first; slices of 1–2 examples are folded away under the table', async () => {
    const page = await open(ui, `#/evaluations/${id}`, 'table.metrics tbody tr', 'evaluation-slices');
    const first = (rows: string[]) => rows.map((r) => r.split('\t')[0]);
    expect(first(await page.locator('table.metrics tbody tr').allInnerTexts())).toEqual(['Overall', 'island:Biscoe', 'sex:FEMALE', 'island:Dream', 'island:Torgersen']);
    const chart = await page.locator('.chart-wide canvas').evaluate((c) => (globalThis as any).Chart.getChart(c).data.labels);
    expect(chart).toEqual(['Overall', 'island:Biscoe', 'sex:FEMALE', 'island:Dream', 'island:Torgersen']);
    const folded = page.locator('details.tiny-slices');
    expect(await folded.locator('summary').innerText()).toBe('3 slices with fewer than 10 examples (too few to read metrics from)');
    expect(await folded.locator('table').isVisible()).toBe(false);
    await folded.locator('summary').click();
    expect(first(await folded.locator('tbody tr').allInnerTexts())).toEqual(['island:Biscoe,sex:NA', 'island:Dream,sex:.', 'island:Torgersen,sex:NA']);
    await finish(page);
  }, 60_000);

  test('the evaluations list fits the window and writes small numbers out', async () => {
    const page = await open(ui, '#/evaluations', 'main table tbody tr', 'evaluations-list-fits');
    await expectFitsAndReadable(page);
    expect(await page.locator('main table tbody tr').first().innerText()).toContain('0.000312');
    await finish(page);
  }, 60_000);
});

describe('a failed run', () => {
  let ui: Ui;
  let run: RunSummary;

  beforeAll(async () => {
    ui = await uiOver('failed-run', async (store, folder) => {
      // flaky fails every attempt; after-flaky and its summary never run.
      const p = new Pipeline({ name: 'fails' });
      const produce = p.add('produce', ProduceNumbers, { parameters: { count: 4 } });
      const flaky = p.add('flaky', FlakyCount, { inputs: { numbers: produce.outputs.numbers }, parameters: { failAttempts: 99 } });
      p.add('after-flaky', SummarizeNumbers, { inputs: { numbers: produce.outputs.numbers }, after: [flaky] });
      run = await runPipeline(p, { root: folder, store, modules: [path.join(__dirname, '../../fixtures/pipelines/test-components.ts')] });
    });
    expect(run.nodes.map((n) => [n.id, n.state])).toEqual([['produce', 'executed'], ['flaky', 'failed'], ['after-flaky', 'upstream_failed']]);
  }, 120_000);

  test("the DAG shows the failed node's error and marks the nodes it kept from running apart from it", async () => {
    const page = await open(ui, `#/runs/${run.runId}`, 'svg.graph a[data-node="flaky"]', 'run-failed');
    const box = (node: string) =>
      page.locator(`svg.graph a[data-node="${node}"]`).evaluate((a: any) => {
        const rect = (globalThis as any).getComputedStyle(a.querySelector('rect.box'));
        return { fill: rect.fill, dashed: rect.strokeDasharray !== 'none', sub: a.querySelector('text.sub').textContent as string, title: a.querySelector('title').textContent as string };
      });
    const failed = await box('flaky');
    const skipped = await box('after-flaky');
    expect(failed.fill).toBe('rgb(201, 42, 42)');
    // The red box says failed; its second line gives the error (the title has it whole).
    expect(failed.sub).toMatch(/^deliberate failure/);
    expect(failed.title).toContain('deliberate failure');
    expect(failed.title).not.toContain('cache miss');
    expect(skipped.fill).not.toBe(failed.fill);
    expect(skipped.dashed).toBe(true);
    expect(failed.dashed).toBe(false);

    const why = async (node: string) => page.locator('main table tbody tr', { has: page.locator(`a[href$="/nodes/${node}"]`) }).locator('td').last().innerText();
    expect(await why('flaky')).toContain('deliberate failure on attempt');
    expect(await why('flaky')).not.toContain('cache miss');
    const badges = await page.locator('main table tbody .badge').evaluateAll((list) => list.map((b) => [b.textContent, (globalThis as any).getComputedStyle(b).backgroundColor]));
    const colour = Object.fromEntries(badges);
    expect(colour.upstream_failed).not.toBe(colour.failed);
    await finish(page);
  }, 60_000);
});

describe('a ModelRun page', () => {
  let ui: Ui;
  const ids: Record<string, number> = {};
  // As the Trainer writes metrics.jsonl: loss on the training data, val_* on the eval split.
  const EPOCHS = [1, 2, 3, 4, 5].map((epoch) => ({ epoch, step: epoch * 10, loss: 1 / epoch, val_loss: 1.2 / epoch + 0.05, val_accuracy: 0.5 + epoch / 12, examples_per_second: 900 }));

  beforeAll(async () => {
    ui = await uiOver('model-run', async (store, folder) => {
      await store.putType({ kind: TypeKind.EXECUTION, name: 'Trainer' });
      const write = async (name: string, text: string) => {
        await fs.promises.mkdir(path.join(folder, name), { recursive: true });
        await fs.promises.writeFile(path.join(folder, name, 'metrics.jsonl'), text);
      };
      await write('model_run', EPOCHS.map((e) => JSON.stringify(e)).join('\n') + '\n');
      await write('broken', `${JSON.stringify(EPOCHS[0])}\n{"epoch": 2, "loss":\n`);
      const result = await store.putExecution(
        { type: 'Trainer', lastKnownState: ExecutionState.COMPLETE, customProperties: { run_id: 'run-train', node_id: 'trainer' } },
        [{ artifact: { type: 'ModelRun', uri: path.join(folder, 'model_run'), state: ArtifactState.LIVE }, event: { type: EventType.OUTPUT, path: [{ key: 'model_run' }, { index: 0 }] } }],
        [],
      );
      ids.good = result.artifactIds[0];
      [ids.broken] = await store.putArtifacts([{ type: 'ModelRun', uri: path.join(folder, 'broken'), state: ArtifactState.LIVE }]);
    });
  }, 60_000);

  test('the API reads metrics.jsonl per epoch; a broken line is an error naming it', async () => {
    expect((await ui.get(`/api/artifacts/${ids.good}/model-run`)).body).toMatchObject({ runId: 'run-train', epochs: EPOCHS });
    expect(await ui.get(`/api/artifacts/${ids.broken}/model-run`)).toMatchObject({ status: 500, body: { error: `line 2 of metrics.jsonl of ModelRun artifact ${ids.broken} is not valid JSON` } });
  });

  test('loss and each metric are drawn per epoch, training and eval on the same chart', async () => {
    const page = await open(ui, `#/artifacts/${ids.good}`, '.curve canvas', 'model-run-curves');
    const curves = await page.locator('.curve').evaluateAll((list) =>
      list.map((box) => {
        const chart = (globalThis as any).Chart.getChart(box.querySelector('canvas'));
        return { metric: box.getAttribute('data-metric'), labels: chart.data.labels, lines: chart.data.datasets.map((d: { label: string; data: number[] }) => [d.label, d.data]) };
      }),
    );
    expect(curves).toEqual([
      { metric: 'loss', labels: [1, 2, 3, 4, 5], lines: [['train loss', EPOCHS.map((e) => e.loss)], ['eval loss', EPOCHS.map((e) => e.val_loss)]] },
      { metric: 'accuracy', labels: [1, 2, 3, 4, 5], lines: [['eval accuracy', EPOCHS.map((e) => e.val_accuracy)]] },
    ]);
    for (const c of await canvases(page, '.curve')) expect(c.painted).toBeGreaterThan(100);
    await finish(page);

    const broken = await open(ui, `#/artifacts/${ids.broken}`, 'main h2', 'model-run-broken');
    expect(await broken.locator('main p.error').innerText()).toBe(`line 2 of metrics.jsonl of ModelRun artifact ${ids.broken} is not valid JSON`);
    await finish(broken);
  }, 60_000);
});

describe('an anomalies page with no anomalies', () => {
  let ui: Ui;
  const ids: Record<string, number> = {};
  const SCHEMA: Schema = {
    feature: [
      { name: 'origin', type: 'BYTES', driftComparator: { infinityNorm: { threshold: 0.1 } } },
      { name: 'delay', type: 'INT', driftComparator: { jensenShannonDivergence: { threshold: 0.2 } } },
      { name: 'distance', type: 'INT' },
    ],
  };

  beforeAll(async () => {
    ui = await uiOver('anomalies', async (store, folder) => {
      await store.putType({ kind: TypeKind.EXECUTION, name: 'ExampleValidator' });
      await writeJson(schemaPath(path.join(folder, 'schema')), SCHEMA);
      const [schemaId, span1, span2] = await store.putArtifacts([
        { type: 'Schema', uri: path.join(folder, 'schema'), state: ArtifactState.LIVE },
        { type: 'ExampleStatistics', uri: path.join(folder, 'stats-1'), state: ArtifactState.LIVE, properties: { span: 1, split_names: '["train"]' } },
        { type: 'ExampleStatistics', uri: path.join(folder, 'stats-2'), state: ArtifactState.LIVE, properties: { span: 2, split_names: '["train"]' } },
      ]);
      const [schema, first, second] = await store.getArtifacts({ ids: [schemaId, span1, span2] });
      const validate = async (name: string, baseline?: typeof first) => {
        const uri = path.join(folder, name);
        // Clean: drift measured within its threshold.
        await writeJson(anomaliesPath(uri, 'train'), { baseline: SCHEMA, anomalyInfo: {}, driftSkewInfo: baseline ? [{ path: { step: ['origin'] }, driftMeasurements: [{ type: 'L_INFTY', value: 0.04, threshold: 0.1 }] }] : [] });
        const input = (artifact: typeof first, key: string) => ({ artifact, event: { type: EventType.INPUT, path: [{ key }, { index: 0 }] } });
        const result = await store.putExecution(
          { type: 'ExampleValidator', lastKnownState: ExecutionState.COMPLETE, customProperties: { run_id: `run-${name}`, node_id: 'example-validator' } },
          [
            input(second, 'statistics'),
            input(schema, 'schema'),
            ...(baseline ? [input(baseline, 'baseline_statistics')] : []),
            { artifact: { type: 'ExampleAnomalies', uri, state: ArtifactState.LIVE, properties: { span: 2, split_names: '["train"]' }, customProperties: { blessed: 1 } }, event: { type: EventType.OUTPUT, path: [{ key: 'anomalies' }, { index: 0 }] } },
          ],
          [],
        );
        ids[name] = result.artifactIds.at(-1)!;
      };
      await validate('with-baseline', first);
      await validate('without-baseline');
      ids.schema = schemaId;
      ids.span1 = span1;
      ids.span2 = span2;
    });
  }, 60_000);

  test('the API says what the validation compared', async () => {
    expect((await ui.get(`/api/artifacts/${ids['with-baseline']}/anomalies`)).body.checks).toEqual({
      statistics: { artifactId: ids.span2, span: 2 },
      baseline: { artifactId: ids.span1, span: 1 },
      schema: {
        artifactId: ids.schema,
        features: 3,
        drift: [
          { feature: 'origin', distance: 'infinityNorm', threshold: 0.1 },
          { feature: 'delay', distance: 'jensenShannonDivergence', threshold: 0.2 },
        ],
        skew: [],
      },
    });
  });

  test('the page names the schema, each drift comparator with its threshold, and the baseline — or why drift was not checked', async () => {
    const page = await open(ui, `#/anomalies/${ids['with-baseline']}`, '#checked', 'anomalies-none-checked');
    const check = (kind: string) => page.locator(`#checked [data-check="${kind}"]`).innerText();
    expect(await page.locator('main h2', { hasText: 'Split train' }).innerText()).toContain('no anomalies');
    expect(await check('schema')).toBe(`Each split of statistics #${ids.span2} (span 2) against schema #${ids.schema} (3 features: presence, type, domain, value counts).`);
    expect(await check('drift')).toBe(`drift: against statistics #${ids.span1} (span 1) — origin infinityNorm ≤ 0.1, delay jensenShannonDivergence ≤ 0.2.`);
    expect(await check('skew')).toBe('skew: not checked — the schema sets no skew comparator.');
    await finish(page);

    const without = await open(ui, `#/anomalies/${ids['without-baseline']}`, '#checked', 'anomalies-none-no-baseline');
    expect(await without.locator('#checked [data-check="drift"]').innerText()).toBe(
      'drift: not checked — the schema sets 2 comparators (origin infinityNorm ≤ 0.1, delay jensenShannonDivergence ≤ 0.2) but the validator was given no baseline statistics (previous span).',
    );
    await finish(without);
  }, 60_000);
});

describe('the tuning list', () => {
  let ui: Ui;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    ui = await uiOver('tuning', async (store, folder) => {
      await store.putType({ kind: TypeKind.EXECUTION, name: 'Tuner' });
      const tune = async (name: string, goal: 'MINIMIZE' | 'MAXIMIZE', values: number[], best: number) => {
        const uri = path.join(folder, name);
        const trials = values.map((objective, i) => ({ trial_id: `trial-${i}`, hyperparameters: { units: 8 * (i + 1) }, objective, status: 'COMPLETED', steps: 3, stopped_early: false }));
        await fs.promises.mkdir(uri, { recursive: true });
        await fs.promises.writeFile(path.join(uri, TRIALS_FILE), JSON.stringify({ objective: { metric: goal === 'MINIMIZE' ? 'val_loss' : 'val_accuracy', goal }, algorithm: 'random', trials }));
        const result = await store.putExecution(
          { type: 'Tuner', lastKnownState: ExecutionState.COMPLETE, customProperties: { run_id: `run-${name}`, node_id: 'tuner' } },
          [
            { artifact: { type: 'TunerResults', uri, state: ArtifactState.LIVE, customProperties: { trials: values.length, completed: values.length, stopped: 0 } }, event: { type: EventType.OUTPUT, path: [{ key: 'tuner_results' }, { index: 0 }] } },
            { artifact: { type: 'HyperParameters', uri: `${uri}-best`, state: ArtifactState.LIVE, customProperties: { trial_id: `trial-${best}`, objective: values[best] } }, event: { type: EventType.OUTPUT, path: [{ key: 'best_hyperparameters' }, { index: 0 }] } },
          ],
          [],
        );
        ids[name] = result.artifactIds[0];
      };
      await tune('loss', 'MINIMIZE', [0.52, 0.000213, 0.31], 1);
      await tune('accuracy', 'MAXIMIZE', [0.81, 0.93, 0.88], 1);
      // Its trials.json is gone: its row says so, the others still show.
      [ids.missing] = await store.putArtifacts([{ type: 'TunerResults', uri: path.join(folder, 'missing'), state: ArtifactState.LIVE, customProperties: { trials: 2, completed: 2, stopped: 0 } }]);
    });
  }, 60_000);

  test('each tuning run shows its objective and best value, newest first', async () => {
    const page = await open(ui, '#/tuning', 'main table tbody tr', 'tuning-list');
    const headers = await page.locator('main table thead th').allInnerTexts();
    expect(headers.map((h) => h.replace(/\s+/g, ' '))).toEqual(['Tuner results', 'Run', 'Created', 'Objective', 'Best', 'Best trial', 'Trials', 'Completed', 'Stopped early']);
    const rows = (await page.locator('main table tbody tr').allInnerTexts()).map((r) => r.split('\t'));
    expect(rows.map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual([
      [`TunerResults #${ids.missing}`, '', `TunerResults artifact ${ids.missing} has no trials.json in the pipeline root this UI serves`, '', ''],
      [`TunerResults #${ids.accuracy}`, 'run-accuracy', 'val_accuracy (maximize)', '0.93', 'trial-1'],
      [`TunerResults #${ids.loss}`, 'run-loss', 'val_loss (minimize)', '0.000213', 'trial-1'],
    ]);
    await finish(page);
  }, 60_000);
});
