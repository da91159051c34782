// mlp ui over the penguins quick start (what `npm start` runs, through the real CLI, once for this file):
// the evaluation, models and tuning API on a real blessed, pushed model — with a model server's live status —
// and then the pages in Chromium (playwright-core): the runs page, the penguins run's DAG, a node, lineage
// from the pushed model back to the examples, the statistics and the evaluation. Screenshots go to
// test-output/ui-screenshots/ (not committed).

import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { openBrowser } from '../../support/browser';
import { REPO_ROOT, runCli } from '../../support/cli';
import { freeLoopbackPort } from '../../support/ports';
import { startUi, type Ui } from './helpers';

const SCREENSHOTS = path.join(REPO_ROOT, 'test-output', 'ui-screenshots');

let root: string;
let ui: Ui;
let modelServer: http.Server;
let summary: { runId: string; nodes: { id: string; state: string; outputs: Record<string, string> }[] };
let pushedVersion: string;
const output = (node: string, port: string) => summary.nodes.find((n) => n.id === node)!.outputs[port];

/** A stand-in plain TF Serving answering its status endpoints for the pushed version, labelled stable (404 for our status extension). */
function startModelServer(model: string, version: string): Promise<http.Server> {
  const status = { model_version_status: [{ version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
  const server = http.createServer((req, res) => {
    const known = req.url === `/v1/models/${model}` || req.url === `/v1/models/${model}/labels/stable`;
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(known ? status : { error: `Could not find ${req.url}` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-penguins-'));
  const run = await runCli(['run', 'penguins', '--root', root, '--json']);
  if (run.code !== 0) throw new Error(`penguins failed: ${run.stderr}`);
  summary = JSON.parse(run.stdout);
  pushedVersion = String(JSON.parse(fs.readFileSync(path.join(output('pusher', 'pushed_model'), 'pushed.json'), 'utf8')).version);
  modelServer = await startModelServer('penguins', pushedVersion);
  ui = await startUi(`sqlite:${path.join(root, 'metadata.sqlite')}`, {
    url: `http://127.0.0.1:${(modelServer.address() as AddressInfo).port}`,
    labels: ['stable', 'canary'],
  });
}, 300_000);

afterAll(async () => {
  await ui?.server.close();
  await new Promise((resolve) => modelServer?.close(resolve));
  await fs.promises.rm(root, { recursive: true, force: true });
});

async function artifactAt(uri: string): Promise<{ id: number; type: string; customProperties?: Record<string, unknown> }> {
  return (await ui.get('/api/artifacts?limit=500')).body.items.find((a: { uri: string }) => a.uri === uri);
}

describe('API', () => {
  test('an evaluation: metrics per slice, thresholds with pass/fail, the blessing and the model', async () => {
    const evaluation = await artifactAt(output('evaluator', 'evaluation'));
    const view = (await ui.get(`/api/artifacts/${evaluation.id}/evaluation`)).body;
    expect(view).toMatchObject({
      runId: summary.runId,
      blessing: { artifactId: (await artifactAt(output('evaluator', 'blessing'))).id, blessed: true },
      model: { artifactId: (await artifactAt(output('trainer', 'model'))).id, uri: output('trainer', 'model') },
      evaluation: { config: { label_key: 'Species', task: 'multiclass' }, validation: { blessed: true } },
    });
    // The first run has no blessed model to compare with.
    expect(view.baseline).toBeUndefined();
    const overall = view.evaluation.slices.find((s: { slice: string }) => s.slice === 'Overall');
    expect(overall.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(view.evaluation.slices.map((s: { slice: string }) => s.slice)).toEqual(expect.arrayContaining(['Island:Biscoe', 'Sex:FEMALE']));
    expect(view.evaluation.validation.results).toContainEqual(
      expect.objectContaining({ slice: 'Overall', metric: 'accuracy', threshold: { kind: 'lower_bound', bound: 0.9 }, passed: true }),
    );
  });

  test('models: the pushed version with the run, blessings and evaluation it came from, and what the server serves', async () => {
    const models = (await ui.get('/api/models')).body;
    expect(models.serverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(models.items).toEqual([
      {
        name: 'penguins',
        basePath: path.join(root, 'serving', 'penguins'),
        versions: [
          expect.objectContaining({
            version: pushedVersion,
            destination: path.join(root, 'serving', 'penguins', pushedVersion),
            runId: summary.runId,
            model: { artifactId: (await artifactAt(output('trainer', 'model'))).id, uri: output('trainer', 'model') },
            blessing: { artifactId: (await artifactAt(output('evaluator', 'blessing'))).id, blessed: true },
            infraBlessing: { artifactId: (await artifactAt(output('infra-validator', 'blessing'))).id, blessed: true },
            evaluation: { artifactId: (await artifactAt(output('evaluator', 'evaluation'))).id, metrics: expect.objectContaining({ accuracy: expect.any(Number) }) },
          }),
        ],
        live: { versions: [{ version: pushedVersion, state: 'AVAILABLE' }], labels: { stable: pushedVersion }, note: 'this server does not report traffic weights' },
      },
    ]);
  });

  test('a model server that is down is reported, not fatal', async () => {
    const port = await freeLoopbackPort();
    const other = await startUi(`sqlite:${path.join(root, 'metadata.sqlite')}`, { url: `http://127.0.0.1:${port}`, labels: ['stable'] });
    try {
      const [model] = (await other.get('/api/models')).body.items;
      expect(model.versions).toHaveLength(1);
      expect(model.live).toMatchObject({ versions: [], labels: {}, error: expect.stringContaining(`cannot reach the model server at http://127.0.0.1:${port}`) });
    } finally {
      await other.server.close();
    }
  });

  test('tuning: every trial with its hyperparameters and objective, and the best one', async () => {
    const results = await artifactAt(output('tuner', 'tuner_results'));
    const view = (await ui.get(`/api/artifacts/${results.id}/tuning`)).body;
    const best = await artifactAt(output('tuner', 'best_hyperparameters'));
    expect(view).toMatchObject({
      runId: summary.runId,
      objective: { metric: 'val_loss', goal: 'MINIMIZE' },
      algorithm: 'bayesian',
      bestTrialId: best.customProperties!.trial_id,
      hyperParametersArtifactId: best.id,
    });
    expect(view.trials).toHaveLength(4);
    expect(view.trials[0]).toMatchObject({ trial_id: 'trial-1', status: 'COMPLETED', hyperparameters: { learning_rate: expect.any(Number), hidden_units: expect.any(String) } });
  });

  test('lineage from the pushed model reaches the examples and the hyperparameters that made it', async () => {
    const pushed = await artifactAt(output('pusher', 'pushed_model'));
    const lineage = (await ui.get(`/api/artifacts/${pushed.id}/lineage?direction=upstream`)).body;
    const types = lineage.nodes.filter((n: { kind: string }) => n.kind === 'artifact').map((n: { type: string }) => n.type);
    expect(types).toEqual(expect.arrayContaining(['PushedModel', 'Model', 'ModelBlessing', 'InfraBlessing', 'HyperParameters', 'TransformGraph', 'Schema', 'Examples']));
    expect(lineage.truncated).toBe(false);
  });
});

describe('in Chromium', () => {
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const errors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  /** Waits until Chart.js has drawn a chart on the canvas the selector finds. */
  const chartDrawn = (selector: string) =>
    page.waitForFunction((s) => {
      // Runs in the page; this file is type-checked without the DOM library, hence the shape of what it uses.
      const win = globalThis as unknown as { document: { querySelector(s: string): unknown }; Chart: { getChart(canvas: unknown): unknown } };
      const canvas = win.document.querySelector(s);
      return !!canvas && win.Chart.getChart(canvas) !== undefined;
    }, selector);

  beforeAll(async () => {
    await fs.promises.mkdir(SCREENSHOTS, { recursive: true });
    browser = await openBrowser();
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('runs → the penguins run → a node → lineage to the examples → statistics → evaluation', async () => {
    await page.goto(`${ui.server.url}/#/runs`);
    const runLink = page.locator(`main a[href="#/runs/${summary.runId}"]`);
    await runLink.waitFor();
    await shot('1-runs');
    expect(await page.locator('main table').innerText()).toMatch(new RegExp(`${summary.runId}\\s+penguins\\s+\\S+ \\S+\\s+\\S+\\s+COMPLETE`));

    await runLink.click();
    await page.locator('svg.graph a[data-node="trainer"]').waitFor();
    await shot('2-run');
    const states = Object.fromEntries(
      await page.locator('svg.graph a[data-node]').evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-node'), n.getAttribute('data-state')])),
    );
    expect(states).toEqual(Object.fromEntries(summary.nodes.map((n) => [n.id, n.state])));
    expect(states['latest-blessed-model']).toBe('resolved');
    expect(await page.locator('svg.graph a[data-node="trainer"]').textContent()).toContain('executed');

    await page.locator('svg.graph a[data-node="trainer"]').click();
    await page.getByRole('heading', { name: /Node trainer/ }).waitFor();
    await page.locator('pre.log').waitFor();
    await shot('3-node');
    const node = await page.locator('main').innerText();
    expect(node).toContain('Trainer');
    expect(node).toMatch(/model\s+#\d+\s+Model\s+LIVE/);
    expect(node).toMatch(/hyperparameters\s+#\d+\s+HyperParameters/);

    await page.locator('header a[data-section="models"]').click();
    const pushedLink = page.locator('main a', { hasText: /^PushedModel #\d+$/ });
    await pushedLink.waitFor();
    const models = await page.locator('main section[data-model="penguins"]').innerText();
    expect(models).toContain(`version ${pushedVersion} AVAILABLE (stable)`);
    expect(models).toContain('Traffic: this server does not report traffic weights.');
    await shot('4-models');
    await pushedLink.click();
    const examples = page.locator('svg.graph a[data-type="Examples"]');
    await examples.first().waitFor();
    await shot('5-lineage');
    expect(await page.locator('svg.graph a[data-type="HyperParameters"]').count()).toBe(1);
    await examples.first().click();
    await page.getByRole('heading', { name: /^Examples #\d+/ }).waitFor();
    expect(await page.locator('main').innerText()).toContain(output('example-gen', 'examples'));
    await shot('6-examples');

    await page.locator('header a[data-section="data"]').click();
    const statistics = await artifactAt(output('statistics-gen', 'statistics'));
    await page.locator(`main a[href="#/statistics/${statistics.id}"]`).click();
    await chartDrawn('.card[data-feature="Island"] canvas');
    const features = await page.locator('.card h3').allTextContents();
    expect(features).toEqual(expect.arrayContaining(['Beak Length (mm)', 'Body Mass (g)', 'Flipper Length (mm)', 'Island', 'Sex', 'Species']));
    expect(await page.locator('.card[data-feature="Island"]').innerText()).toMatch(/STRING · present 100%/);
    await page.locator('#compare-with').selectOption(`${statistics.id}:eval`);
    await page.locator('.card[data-feature="Island"] [data-distance="L∞"]').waitFor();
    await shot('7-statistics');

    await page.locator('header a[data-section="evaluations"]').click();
    await page.locator('main a', { hasText: /^ModelEvaluation #\d+$/ }).click();
    await page.locator('#blessing').waitFor();
    expect(await page.locator('#blessing').innerText()).toBe('BLESSED');
    const evaluation = JSON.parse(fs.readFileSync(path.join(output('evaluator', 'evaluation'), 'evaluation.json'), 'utf8'));
    const accuracy = evaluation.slices.find((s: { slice: string }) => s.slice === 'Overall').metrics.accuracy as number;
    const metrics = page.locator('table.metrics');
    expect(await metrics.locator('tbody tr').first().innerText()).toContain(String(Number(accuracy.toPrecision(4))));
    // Sorting by a column puts the best slice first.
    await metrics.locator('th', { hasText: /^accuracy$/ }).click();
    expect(await metrics.locator('tbody tr').first().locator('td').nth(3).innerText()).toBe('1');
    await chartDrawn('main .chart-wide canvas');
    await shot('8-evaluation');

    await page.locator('header a[data-section="tuning"]').click();
    await page.locator('main a', { hasText: /^TunerResults #\d+$/ }).click();
    await page.locator('main tr.best').waitFor();
    await chartDrawn('main .chart-wide canvas');
    await shot('9-tuning');
    expect(errors).toEqual([]);
  });
});
