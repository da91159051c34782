// The data report opened in headless Chromium: statistics of the real penguins data set (with its missing
// values) render a chart per feature, anomalies appear as highlighted rows, drift rows show distance and
// threshold, and the page needs no network. A screenshot goes to test-output/ (git-ignored) for people.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { duckdb, sqlString } from '../../../runtime/data/duckdb';
import { generateStatistics } from '../../../runtime/tfdv/generate-statistics';
import { anomalyInfo, type Anomalies } from '../../../runtime/tfdv/anomalies-proto';
import { percentOf, renderDataReport } from '../../../runtime/reports/data-report';
import { openBrowser } from '../../support/browser';
import { REPO_ROOT } from '../../support/cli';

const PENGUINS = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'penguins.json');

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-report-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function penguinStats(split: string, where: string) {
  const file = path.join(dir, `${split}.parquet`);
  const conn = await duckdb();
  await conn.run(`COPY (SELECT * FROM read_json_auto(${sqlString(PENGUINS)}) WHERE ${where}) TO ${sqlString(file)} (FORMAT parquet)`);
  return generateStatistics(split, [file]);
}

test('the report renders statistics, anomalies and drift in headless Chromium, offline', async () => {
  const train = await penguinStats('train', "Species <> 'Gentoo'");
  const evalDs = await penguinStats('eval', 'true');
  const anomalies: Anomalies = {
    baseline: { feature: [] },
    anomalyInfo: {
      Species: anomalyInfo([{ type: 'ENUM_TYPE_UNEXPECTED_STRING_VALUES', shortDescription: 'Unexpected string values', description: 'Examples contain values missing from the schema: Gentoo (~36%).' }], 'Species'),
    },
    driftSkewInfo: [{ path: { step: ['Species'] }, driftMeasurements: [{ type: 'L_INFTY', value: 0.36, threshold: 0.1 }] }],
  };
  const html = renderDataReport({ title: 'penguins data report', statistics: { datasets: [evalDs] }, baseline: { datasets: [train] }, anomalies: [{ split: 'eval', anomalies }] });
  const file = path.join(dir, 'report.html');
  fs.writeFileSync(file, html);

  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    expect(await page.title()).toBe('penguins data report');
    // One card and one chart with bars per feature of the data set.
    const features = await page.locator('.feature').evaluateAll((els) => els.map((e) => e.getAttribute('data-feature')));
    expect(features.sort()).toEqual(['Beak Depth (mm)', 'Beak Length (mm)', 'Body Mass (g)', 'Flipper Length (mm)', 'Island', 'Sex', 'Species'].sort());
    const barsPerChart = await page.locator('svg.chart').evaluateAll((svgs) => svgs.map((s) => s.querySelectorAll('rect.bar').length));
    expect(barsPerChart).toHaveLength(7);
    expect(barsPerChart.every((n) => n > 0)).toBe(true);
    // The rendered bars have real size (the SVG laid out, not just present in the DOM).
    const box = await page.locator('svg.chart rect.bar').first().boundingBox();
    expect(box!.height).toBeGreaterThan(0);
    // Every bar is labelled (every category, every bucket's range), and each chart has a y-axis from 0 with
    // its title, all drawn inside the chart.
    const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
      svgs.map((svg: any) => {
        const box = svg.getBoundingClientRect();
        const texts = (sel: string) => [...svg.querySelectorAll(sel)] as any[];
        const inside = (t: any) => {
          const r = t.getBoundingClientRect();
          return r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
        };
        return {
          feature: svg.closest('.feature').getAttribute('data-feature') as string,
          bars: texts('rect.bar').map((r) => r.querySelector('title').textContent as string),
          labels: texts('text.x-label').map((t) => t.textContent as string),
          yTicks: texts('text.y-tick').map((t) => Number(String(t.textContent).replace(/k$/, '000'))),
          yTitle: texts('text.axis-title').map((t) => t.textContent as string),
          allInside: texts('text').every(inside),
        };
      }),
    );
    for (const c of charts) {
      expect(c.labels).toHaveLength(c.bars.length);
      expect(c.labels.every((l) => l.length > 0)).toBe(true);
      expect(c.yTicks[0]).toBe(0);
      expect(c.yTicks.length).toBe(3);
      expect(c.yTitle).toContain('examples');
      expect(c.allInside).toBe(true);
    }
    const island = charts.find((c) => c.feature === 'Island')!;
    expect([...island.labels].sort()).toEqual(['Biscoe', 'Dream', 'Torgersen']);
    const flipper = charts.find((c) => c.feature === 'Flipper Length (mm)')!;
    for (const label of flipper.labels) expect(label).toMatch(/^[\d.]+–[\d.]+$/);
    // Missing values of the real data set show in the summary line, as a percentage of the examples.
    const sex = evalDs.features.find((f) => f.name === 'Sex')!;
    const missing = Number((sex.stringStats ?? sex.numStats)!.commonStats.numMissing);
    expect(await page.locator('.feature[data-feature="Sex"] .meta').innerText()).toContain(`missing ${Number(((100 * missing) / Number(evalDs.numExamples)).toFixed(1))}%`);
    // Anomaly rows, highlighted, and the flagged feature's card marked.
    const row = page.locator('#anomalies tr.anomaly');
    expect(await row.count()).toBe(1);
    expect(await row.innerText()).toContain('ENUM_TYPE_UNEXPECTED_STRING_VALUES');
    expect(await page.locator('.feature.has-anomaly').getAttribute('data-feature')).toBe('Species');
    expect(await page.locator('#drift tr.flagged').innerText()).toMatch(/Species\s+drift\s+L_INFTY\s+0\.36\s+0\.1\s+above threshold/);
    // The baseline is drawn as outlines on the charts.
    expect(await page.locator('svg.chart rect.baseline').count()).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await fs.promises.mkdir(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: path.join(REPO_ROOT, 'test-output', 'data-report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('a report without anomalies says so', () => {
  const html = renderDataReport({ title: 't', statistics: { datasets: [{ name: 'train', numExamples: '0', features: [] }] } });
  expect(html).toContain('<p class="ok" id="no-anomalies">No anomalies found.</p>');
  expect(html).toContain('No drift or skew comparisons were configured.');
});

test('shares are written as percentages people read', () => {
  expect(percentOf(1, 269)).toBe('0.37%');
  expect(percentOf(11, 344)).toBe('3.2%');
  expect(percentOf(1, 3)).toBe('33.3%');
  expect(percentOf(0, 10)).toBe('0%');
  expect(percentOf(1, 1_000_000)).toBe('<0.01%');
  expect(percentOf(5, 5)).toBe('100%');
});
