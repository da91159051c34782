// mlp ui's front end: a hash-routed single page in plain JavaScript (no build step) that draws each view from
// the JSON API (/api/...) with the DOM, SVG for graphs (positions come from the API) and Chart.js for charts.
// Text from the store only ever reaches the page as text nodes, never as HTML.
'use strict';

const main = document.getElementById('main');
/** Charts of the current view, destroyed when the view changes so they release their canvases. */
let charts = [];
/** Bumped on every navigation: an answer that arrives after the user moved on is dropped. */
let generation = 0;

// ---- small helpers ----

/** An element with attributes (on* keys become listeners) and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) if (value !== undefined) node.setAttribute(key, String(value));
  return append(node, children);
}

async function api(path) {
  const res = await fetch(`/api${path}`);
  const type = res.headers.get('content-type') || '';
  const body = type.startsWith('application/json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(typeof body === 'object' && body && body.error ? body.error : `HTTP ${res.status}`);
  return body;
}

/**
 * A number as a person reads it: integers as they are, others to 4 significant digits written out
 * (0.000312, not 3.120e-4), thousands grouped from a million on; exponents only below a millionth.
 */
function fmtNumber(value) {
  if (value === null || value === undefined || value === '') return '';
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (Number.isInteger(n) && Math.abs(n) < 1e6) return String(n);
  if (Math.abs(n) >= 1e6) return n.toLocaleString('en-US', { maximumSignificantDigits: 4 });
  if (n !== 0 && Math.abs(n) < 1e-6) return n.toExponential(2);
  return String(Number(n.toPrecision(4)));
}

function fmtTime(value) {
  if (value === undefined || value === null) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const pad = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const percent = (part, whole) => (whole > 0 ? `${Number(((100 * part) / whole).toFixed(1))}%` : '');
const badge = (state) => el('span', { class: `badge state-${state}` }, state);
const verdict = (ok, yes, no) => el('span', { class: `badge ${ok ? 'pass' : 'fail'}` }, ok ? yes : no);
const empty = (message) => el('p', { class: 'empty' }, message);
const anomalyCount = (n) => (n ? el('span', { class: 'badge fail' }, `${n} ${n === 1 ? 'anomaly' : 'anomalies'}`) : el('span', { class: 'badge pass' }, 'no anomalies'));
const propertyOf = (a, name) => (a.properties && a.properties[name] !== undefined ? a.properties[name] : (a.customProperties || {})[name]);

/** An artifact's split names: TFX stores them as a JSON list in the split_names property. */
function splitNames(a) {
  try {
    const names = JSON.parse(propertyOf(a, 'split_names') || '[]');
    return Array.isArray(names) ? names : [];
  } catch {
    return [];
  }
}

/** A name that may break after '_', '/' and ',' (weighted_example_count, precision/Chinstrap, island:Dream,sex:NA): wide tables fit. */
const breakable = (name) => String(name).split(/(?<=[_/,])/).flatMap((part, i) => (i ? [el('wbr'), part] : [part]));

/** A wide table scrolls sideways in its own box: the page keeps the window's width (and the header bar spans it). */
const scrollBox = (t) => el('div', { class: 'table-scroll' }, t);

function table(headers, rows, rowAttrs) {
  return scrollBox(el(
    'table',
    {},
    el('thead', {}, el('tr', {}, headers.map((h) => (typeof h === 'object' ? el('th', { class: h.class }, breakable(h.label)) : el('th', {}, breakable(h)))))),
    el('tbody', {}, rows.map((cells, i) => el('tr', rowAttrs ? rowAttrs(i) : {}, cells.map((c) => (c instanceof Node && c.nodeName === 'TD' ? c : el('td', {}, c)))))),
  ));
}

const num = (value) => el('td', { class: 'num' }, fmtNumber(value));

function keyValues(pairs) {
  return el('table', { class: 'kv' }, el('tbody', {}, pairs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v)))));
}

function json(value) {
  return el('pre', {}, JSON.stringify(value, null, 2));
}

function pager(page, hrefFor) {
  const older = page.next !== undefined ? el('a', { href: hrefFor(page.next), class: 'next' }, 'Next page →') : null;
  const newer = page.offset > 0 ? el('a', { href: hrefFor(Math.max(0, page.offset - page.limit)), class: 'prev' }, '← Previous page') : null;
  const shown = page.items.length ? `${page.offset + 1}–${page.offset + page.items.length}${page.total !== undefined ? ` of ${page.total}` : ''}` : '';
  return el('div', { class: 'pager' }, newer, el('span', { class: 'meta' }, shown), older);
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const runLink = (runId) => el('a', { href: `#/runs/${encodeURIComponent(runId)}` }, runId);
const nodeHref = (runId, nodeId) => `#/runs/${encodeURIComponent(runId)}/nodes/${encodeURIComponent(nodeId)}`;
const artifactLink = (id, label) => el('a', { href: `#/artifacts/${id}` }, label || `#${id}`);

/** The page that shows an artifact's contents, for the types that have one. */
function contentsHref(type, id) {
  return {
    ExampleStatistics: `#/statistics/${id}`,
    ExampleAnomalies: `#/anomalies/${id}`,
    ModelEvaluation: `#/evaluations/${id}`,
    TunerResults: `#/tuning/${id}`,
    PushedModel: '#/models',
  }[type];
}

function newChart(canvas, config) {
  charts.push(new Chart(canvas, { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options } }));
}

/** Charts built with the view, drawn once the view is on the page (Chart.js sizes a canvas from its box). */
let pendingCharts = [];

/** A box holding one chart, drawn as soon as the view is shown: every panel has its chart in a screenshot or print. */
function chartBox(className, config) {
  const canvas = el('canvas');
  pendingCharts.push({ canvas, config });
  return el('div', { class: className }, canvas);
}

// ---- graphs (run DAGs and lineage): boxes placed by the layer/order the API computed, top to bottom ----

const BOX_W = 168;
const BOX_H = 42;
const GAP_X = 28;
const GAP_Y = 34;

function graph(nodes, edges, describe) {
  const layers = new Map();
  for (const n of nodes) layers.set(n.layer, Math.max(layers.get(n.layer) || 0, n.order + 1));
  const widest = Math.max(1, ...layers.values());
  const width = widest * (BOX_W + GAP_X) + GAP_X;
  const height = (Math.max(0, ...nodes.map((n) => n.layer)) + 1) * (BOX_H + GAP_Y) + GAP_Y;
  const position = new Map();
  for (const n of nodes) {
    const inLayer = layers.get(n.layer);
    const left = (width - inLayer * (BOX_W + GAP_X) + GAP_X) / 2;
    position.set(n.key, { x: left + n.order * (BOX_W + GAP_X), y: GAP_Y + n.layer * (BOX_H + GAP_Y) });
  }
  const picture = svg('svg', { class: 'graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  for (const e of edges) {
    const a = position.get(e.from);
    const b = position.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + BOX_W / 2;
    const y1 = a.y + BOX_H;
    const x2 = b.x + BOX_W / 2;
    const y2 = b.y;
    const mid = (y1 + y2) / 2;
    picture.append(svg('path', { class: 'edge', d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}` }, e.port ? svg('title', {}, e.port) : null));
  }
  for (const n of nodes) {
    const { x, y } = position.get(n.key);
    const d = describe(n);
    const clip = (s) => (s.length > 24 ? `${s.slice(0, 23)}…` : s);
    picture.append(
      svg(
        'a',
        { href: d.href, class: d.className, 'data-key': n.key, ...d.data },
        svg('title', {}, d.title),
        svg('rect', { class: `box ${d.boxClass || ''}`, x, y, width: BOX_W, height: BOX_H, rx: 6 }),
        svg('text', { x: x + 8, y: y + 17 }, clip(d.label)),
        svg('text', { x: x + 8, y: y + 33, class: 'sub' }, clip(d.sub)),
        // A count in the box's top-right corner (a lineage execution's cached reuses).
        d.count ? [svg('rect', { class: 'count', x: x + BOX_W - 58, y: y - 8, width: 64, height: 16, rx: 8 }), svg('text', { class: 'count', x: x + BOX_W - 26, y: y + 4, 'text-anchor': 'middle' }, d.count)] : null,
      ),
    );
  }
  return picture;
}

// ---- views ----

async function runsView(q) {
  const offset = q.get('offset') || 0;
  const pipeline = q.get('pipeline') || '';
  const [page, pipelines] = await Promise.all([api(`/runs${query({ offset, pipeline })}`), api('/pipelines')]);
  const choose = el(
    'select',
    { id: 'pipeline-filter', onchange: (e) => (location.hash = `#/runs${query({ pipeline: e.target.value })}`) },
    el('option', { value: '' }, 'all pipelines'),
    pipelines.map((p) => el('option', { value: p, selected: p === pipeline }, p)),
  );
  const rows = page.items.map((r) => [runLink(r.runId), r.pipeline || '', fmtTime(r.startedAt), el('td', { class: 'num' }, r.duration || ''), badge(r.state || 'unknown')]);
  return [
    el('h1', {}, 'Runs'),
    el('div', { class: 'controls' }, choose),
    page.items.length ? table(['Run', 'Pipeline', 'Started', { label: 'Duration', class: 'num' }, 'State'], rows) : empty('No runs in this metadata store yet. Run a pipeline (npm start) and reload.'),
    pager(page, (o) => `#/runs${query({ offset: o, pipeline })}`),
  ];
}

const firstLine = (text) => String(text).split('\n').find((l) => l.trim()) || '';

/** Why a node ended as it did: a failed node's error (its reason says only why it ran), else the runner's reason. */
const why = (n) => (n.state === 'failed' && n.error ? firstLine(n.error) : n.reason || '');

async function runView(runId) {
  const run = await api(`/runs/${encodeURIComponent(runId)}`);
  const dag = graph(
    run.nodes.map((n) => ({ ...n, key: n.id })),
    run.edges,
    (n) => ({
      href: nodeHref(run.runId, n.id),
      className: 'node',
      boxClass: `state-${n.state}`,
      data: { 'data-node': n.id, 'data-state': n.state },
      label: n.id,
      sub: n.state === 'failed' && n.error ? firstLine(n.error) : `${n.state}${n.duration ? ` · ${n.duration}` : ''}`,
      title: `${n.id} (${n.component || 'no execution'}): ${n.state}${why(n) ? ` — ${why(n)}` : ''}`,
    }),
  );
  const rows = run.nodes.map((n) => [
    el('a', { href: nodeHref(run.runId, n.id) }, n.id),
    n.component || '',
    badge(n.state),
    el('td', { class: 'num' }, n.duration || ''),
    n.state === 'failed' && n.error ? el('td', { class: 'why-error' }, firstLine(n.error)) : n.reason || '',
  ]);
  return [
    el('h1', {}, `Run ${run.runId}`),
    keyValues([
      ['pipeline', run.pipeline],
      ['state', badge(run.state || 'unknown')],
      ['started', fmtTime(run.startedAt)],
      ['finished', fmtTime(run.finishedAt)],
      ['duration', run.duration],
      ['error', run.error],
      ['root', run.root && el('span', { class: 'uri' }, run.root)],
      ['run log', run.logAvailable ? el('a', { href: `/api/runs/${encodeURIComponent(run.runId)}/log`, target: '_blank' }, 'run.log') : 'not found in the pipeline root this UI serves'],
    ]),
    el('h2', {}, 'Pipeline graph'),
    dag,
    el('h2', {}, 'Nodes'),
    table(['Node', 'Component', 'State', { label: 'Duration', class: 'num' }, 'Why'], rows),
    run.parameters ? [el('h2', {}, 'Parameters'), json(run.parameters)] : null,
  ];
}

function portTable(list) {
  if (!list.length) return empty('none');
  return table(
    ['Port', 'Artifact', 'Type', 'State', 'URI'],
    list.map((p) => [p.port, artifactLink(p.artifactId), p.type, badge(p.state), el('span', { class: 'uri' }, p.uri)]),
  );
}

async function nodeView(runId, nodeId) {
  const base = `/runs/${encodeURIComponent(runId)}/nodes/${encodeURIComponent(nodeId)}`;
  const detail = await api(base);
  const n = detail.node;
  const log = detail.logAvailable ? await api(`${base}/log`) : undefined;
  return [
    el('p', { class: 'meta' }, 'Run ', runLink(runId)),
    el('h1', {}, `Node ${n.id} `, badge(n.state)),
    keyValues([
      ['component', n.component],
      ['execution', n.executionId],
      ['duration', n.duration],
      ['attempts', n.attempts],
      ['why', n.reason],
      ['cached from', detail.cachedFrom ? (detail.cachedFrom.runId && detail.cachedFrom.nodeId ? el('a', { href: nodeHref(detail.cachedFrom.runId, detail.cachedFrom.nodeId) }, `execution ${detail.cachedFrom.executionId} in run ${detail.cachedFrom.runId}`) : `execution ${detail.cachedFrom.executionId}`) : undefined],
    ]),
    n.error ? [el('h2', {}, 'Error'), el('pre', { class: 'error' }, n.error)] : null,
    el('h2', {}, 'Inputs'),
    portTable(n.inputs),
    el('h2', {}, 'Outputs'),
    portTable(n.outputs),
    n.parameters !== undefined ? [el('h2', {}, 'Parameters'), json(n.parameters)] : null,
    el('h2', {}, 'Log'),
    log !== undefined ? el('pre', { class: 'log' }, log || '(empty)') : empty(n.state === 'cached' ? 'Cached: this node reused earlier outputs and ran nothing.' : 'No executor log for this node in the pipeline root this UI serves.'),
  ];
}

async function artifactsView(q) {
  const type = q.get('type') || '';
  const state = q.get('state') || '';
  const offset = q.get('offset') || 0;
  const [types, page] = await Promise.all([api('/artifact-types'), api(`/artifacts${query({ type, state, offset })}`)]);
  const go = (changes) => (location.hash = `#/artifacts${query({ type, state, ...changes })}`);
  const controls = el(
    'div',
    { class: 'controls' },
    el('select', { id: 'type-filter', onchange: (e) => go({ type: e.target.value }) }, el('option', { value: '' }, 'all types'), types.map((t) => el('option', { value: t.name, selected: t.name === type }, `${t.name} (${t.count})`))),
    el(
      'select',
      { id: 'state-filter', onchange: (e) => go({ state: e.target.value }) },
      el('option', { value: '' }, 'any state'),
      ['LIVE', 'PENDING', 'ABANDONED', 'DELETED', 'MARKED_FOR_DELETION', 'REFERENCE'].map((s) => el('option', { value: s, selected: s === state }, s)),
    ),
  );
  const rows = page.items.map((a) => [artifactLink(a.id), a.type, badge(a.state), fmtTime(a.createTimeSinceEpoch), el('span', { class: 'uri' }, a.uri)]);
  return [
    el('h1', {}, 'Artifacts'),
    controls,
    page.items.length ? table(['Id', 'Type', 'State', 'Created', 'URI'], rows) : empty('No artifacts match.'),
    pager(page, (o) => `#/artifacts${query({ type, state, offset: o })}`),
  ];
}

// The CACHED executions folded into an execution: "2 cached reuses: run a, run b".
const reuses = (n) => `${n.reusedBy.length} cached reuse${n.reusedBy.length === 1 ? '' : 's'}`;
const reusedNote = (x) => (x.reusedBy ? ` + ${reuses(x)}` : '');

function lineageGraph(lineage) {
  return graph(lineage.nodes, lineage.edges, (n) =>
    n.kind === 'artifact'
      ? {
          href: `#/artifacts/${n.id}`,
          className: `artifact${n.id === lineage.root ? ' root' : ''}`,
          data: { 'data-artifact': n.id, 'data-type': n.type },
          label: `${n.type} #${n.id}`,
          sub: n.state,
          title: `${n.type} #${n.id} (${n.state}) ${n.uri || ''}`,
        }
      : {
          href: n.runId && n.nodeId ? nodeHref(n.runId, n.nodeId) : '#/runs',
          className: 'execution',
          boxClass: `state-${n.state}`,
          data: { 'data-execution': n.id, 'data-reused': n.reusedBy ? n.reusedBy.length : 0 },
          label: n.nodeId || `${n.type} #${n.id}`,
          sub: `${n.type} · ${n.state}`,
          count: n.reusedBy ? `${n.reusedBy.length} cached` : '',
          title: `execution ${n.id} ${n.type} ${n.state}${n.runId ? ` in run ${n.runId}` : ''}${n.reusedBy ? `; ${reuses(n)}: ${n.reusedBy.map((r) => (r.runId ? `run ${r.runId}` : `execution ${r.executionId}`)).join(', ')}` : ''}`,
        },
  );
}

/** The executions whose outputs later runs reused from the cache, each with the runs that did. */
function cachedReuses(lineage) {
  const reused = lineage.nodes.filter((n) => n.reusedBy);
  if (!reused.length) return null;
  const link = (x) => (x.runId && x.nodeId ? el('a', { href: nodeHref(x.runId, x.nodeId) }, `run ${x.runId}`) : `execution ${x.executionId}`);
  return [
    el('h3', {}, 'Reused from the cache'),
    table(
      ['Execution', 'Node', { label: 'Reuses', class: 'num' }, 'Reused by (CACHED)'],
      reused.map((n) => [
        n.runId && n.nodeId ? el('a', { href: nodeHref(n.runId, n.nodeId) }, `#${n.id} (run ${n.runId})`) : `#${n.id}`,
        n.nodeId || n.type,
        el('td', { class: 'num' }, String(n.reusedBy.length)),
        n.reusedBy.map((r, i) => [i ? ', ' : '', link(r)]),
      ]),
      (i) => ({ 'data-reused-execution': reused[i].id }),
    ),
  ];
}

// ---- training curves ----

const TRAIN_COLOUR = '#2680c2';
const EVAL_COLOUR = '#e12d39';

/**
 * One line chart per metric of a ModelRun's epochs: the training value (loss) and the eval split's (val_loss)
 * on the same axes, so over- and underfitting show. Epoch, step and throughput are not curves to compare.
 */
function trainingCurves(epochs) {
  const keys = [...new Set(epochs.flatMap((e) => Object.keys(e)))].filter((k) => !['epoch', 'step', 'examples_per_second'].includes(k));
  const metrics = [...new Set(keys.map((k) => k.replace(/^val_/, '')))];
  return metrics.map((m) => {
    const line = (key, label, colour) => (keys.includes(key) ? [{ label, data: epochs.map((e) => (e[key] === undefined ? null : e[key])), borderColor: colour, backgroundColor: colour, pointRadius: 3 }] : []);
    const config = () => ({
      type: 'line',
      data: { labels: epochs.map((e) => e.epoch), datasets: [...line(m, `train ${m}`, TRAIN_COLOUR), ...line(`val_${m}`, `eval ${m}`, EVAL_COLOUR)] },
      options: { plugins: { legend: { display: true }, title: { display: true, text: m } }, scales: { x: { title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: m } } } },
    });
    return el('div', { class: 'curve', 'data-metric': m }, chartBox('chart-wide', config));
  });
}

async function modelRunSection(id) {
  let view;
  try {
    view = await api(`/artifacts/${id}/model-run`);
  } catch (err) {
    return [el('h2', {}, 'Training curves'), el('p', { class: 'error' }, err.message)];
  }
  return [
    el('h2', {}, 'Training curves'),
    view.epochs.length ? [el('p', { class: 'meta' }, `${view.epochs.length} epochs: training data and eval split per epoch, from metrics.jsonl`), trainingCurves(view.epochs)] : empty('metrics.jsonl holds no epoch.'),
  ];
}

async function artifactView(id, q) {
  const direction = q.get('direction') || 'both';
  const hops = q.get('hops') || '';
  const [detail, lineage] = await Promise.all([api(`/artifacts/${id}`), api(`/artifacts/${id}/lineage${query({ direction, hops })}`)]);
  const a = detail.artifact;
  const curves = a.type === 'ModelRun' ? await modelRunSection(a.id) : null;
  const contents = contentsHref(a.type, a.id);
  const properties = { ...a.customProperties, ...a.properties };
  const producer = detail.producer;
  // The API allows up to 100 hops.
  const more = Math.min(100, lineage.hops * 5);
  const execLink = (x) => (x.runId && x.nodeId ? el('a', { href: nodeHref(x.runId, x.nodeId) }, `${x.nodeId} (run ${x.runId})`) : `${x.type} #${x.id}`);
  const choose = el(
    'select',
    { id: 'lineage-direction', onchange: (e) => (location.hash = `#/artifacts/${id}${query({ direction: e.target.value, hops })}`) },
    ['both', 'upstream', 'downstream'].map((d) => el('option', { value: d, selected: d === direction }, d)),
  );
  return [
    el('h1', {}, `${a.type} #${a.id} `, badge(a.state)),
    keyValues([
      ['uri', el('span', { class: 'uri' }, a.uri)],
      ['created', fmtTime(a.createTimeSinceEpoch)],
      ['made by', producer ? [execLink(producer.execution), ` → ${producer.port}`, reusedNote(producer)] : 'nothing recorded (imported)'],
      ['used by', detail.consumers.length ? detail.consumers.map((c, i) => [i ? ', ' : '', execLink(c.execution), ` (${c.port})`, reusedNote(c)]) : undefined],
      ['contents', contents ? el('a', { href: contents }, `open the ${a.type} view`) : undefined],
    ]),
    curves,
    el('h2', {}, 'Lineage'),
    el(
      'div',
      { class: 'controls' },
      'Direction ',
      choose,
      lineage.truncated
        ? el('span', { class: 'meta' }, `showing ${lineage.hops} hops; the lineage goes on`, more > lineage.hops ? [' — ', el('a', { href: `#/artifacts/${id}${query({ direction, hops: more })}` }, `show ${more} hops`)] : null)
        : null,
    ),
    lineageGraph(lineage),
    cachedReuses(lineage),
    el('h2', {}, 'Properties'),
    Object.keys(properties).length ? keyValues(Object.entries(properties).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])) : empty('none'),
  ];
}

// ---- data health ----

async function dataView() {
  const [stats, anomalies] = await Promise.all([api('/artifacts?type=ExampleStatistics&limit=50'), api('/artifacts?type=ExampleAnomalies&limit=50')]);
  const splits = (a) => splitNames(a).join(', ');
  return [
    el('h1', {}, 'Data health'),
    el('h2', {}, 'Statistics'),
    stats.items.length
      ? table(
          ['Statistics', 'Span', 'Splits', 'Created'],
          stats.items.map((a) => [el('a', { href: `#/statistics/${a.id}` }, `ExampleStatistics #${a.id}`), fmtNumber(propertyOf(a, 'span')), splits(a), fmtTime(a.createTimeSinceEpoch)]),
        )
      : empty('No statistics yet.'),
    el('h2', {}, 'Anomalies'),
    anomalies.items.length
      ? table(
          ['Anomalies', 'Span', 'Splits', 'Verdict', 'Created'],
          anomalies.items.map((a) => [
            el('a', { href: `#/anomalies/${a.id}` }, `ExampleAnomalies #${a.id}`),
            fmtNumber(propertyOf(a, 'span')),
            splits(a),
            propertyOf(a, 'blessed') === undefined ? '' : verdict(propertyOf(a, 'blessed') === 1, 'no anomalies', 'anomalies'),
            fmtTime(a.createTimeSinceEpoch),
          ]),
        )
      : empty('No validations yet.'),
  ];
}

function featureSummary(f, numExamples) {
  const s = f.numStats || f.stringStats || {};
  const common = s.commonStats || {};
  const present = Number(common.numNonMissing || 0);
  const parts = [`${f.type}`, `present ${percent(present, numExamples)}`, `missing ${common.numMissing || 0}`];
  if (f.numStats) parts.push(`mean ${fmtNumber(s.mean)}`, `std ${fmtNumber(s.stdDev)}`, `min ${fmtNumber(s.min)}`, `median ${fmtNumber(s.median)}`, `max ${fmtNumber(s.max)}`, `zeros ${s.numZeros || 0}`);
  if (f.stringStats) parts.push(`unique ${s.unique}`, `avg length ${fmtNumber(s.avgLength)}`);
  return parts.join(' · ');
}

/**
 * An integer feature's equal-width buckets relabelled by the integers each holds ([low, high), the last one
 * closed): buckets that hold the same integers merge, buckets between two integers (always empty) go. So
 * day-of-week shows 7 bars 1…7, not 10 buckets 1–1.6, 1.6–2.2, ….
 */
function integerBars(buckets) {
  const bars = [];
  buckets.forEach((b, i) => {
    const last = i === buckets.length - 1 || b.highValue === b.lowValue;
    const from = Math.ceil(b.lowValue);
    const to = last ? Math.floor(b.highValue) : Math.ceil(b.highValue) - 1;
    const count = Number(b.sampleCount);
    // A non-empty bucket holding no integer cannot be relabelled: keep its edges rather than hide its count.
    if (from > to) {
      if (count) bars.push({ label: `${fmtNumber(b.lowValue)}–${fmtNumber(b.highValue)}`, value: count });
      return;
    }
    const label = from === to ? String(from) : `${from}–${to}`;
    const previous = bars[bars.length - 1];
    if (previous && previous.label === label) previous.value += count;
    else bars.push({ label, value: count });
  });
  return bars;
}

/** Bars of one feature: the standard histogram of a numeric feature, the top values of a string one. */
function featureBars(f) {
  if (f.numStats) {
    const h = (f.numStats.histograms || []).find((x) => x.type === 'STANDARD') || { buckets: [] };
    if (f.type === 'INT') return integerBars(h.buckets);
    return h.buckets.map((b) => ({ label: `${fmtNumber(b.lowValue)}–${fmtNumber(b.highValue)}`, value: b.sampleCount }));
  }
  return ((f.stringStats && f.stringStats.topValues) || []).slice(0, 20).map((t) => ({ label: t.value, value: t.frequency }));
}

function barConfig(bars, label, horizontal) {
  return {
    type: 'bar',
    data: { labels: bars.map((b) => b.label), datasets: [{ label, data: bars.map((b) => b.value), backgroundColor: '#2680c2' }] },
    options: { indexAxis: horizontal ? 'y' : 'x', plugins: { legend: { display: false }, title: { display: !!label, text: label } }, scales: { x: { ticks: { autoSkip: true } } } },
  };
}

/** String features of two sides as grouped bars of shares, over the union of their top values. */
function shareConfig(left, right, leftLabel, rightLabel) {
  const share = (f) => {
    const bars = featureBars(f);
    const total = Number(((f.stringStats || {}).commonStats || {}).totNumValues || 0) || bars.reduce((t, b) => t + b.value, 0) || 1;
    return new Map(bars.map((b) => [b.label, b.value / total]));
  };
  const l = share(left);
  const r = share(right);
  const labels = [...new Set([...l.keys(), ...r.keys()])].slice(0, 20);
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: leftLabel, data: labels.map((v) => l.get(v) || 0), backgroundColor: '#2680c2' },
        { label: rightLabel, data: labels.map((v) => r.get(v) || 0), backgroundColor: '#e12d39' },
      ],
    },
    options: { indexAxis: 'y', plugins: { legend: { display: true } } },
  };
}

function distanceLine(d) {
  const parts = [];
  if (d.jensenShannonDivergence) parts.push(['Jensen-Shannon divergence', d.jensenShannonDivergence]);
  if (d.lInfinity) parts.push(['L∞', d.lInfinity]);
  if (d.normalizedAbsDifference) parts.push(['normalized abs. difference', d.normalizedAbsDifference]);
  if (!parts.length) return el('div', { class: 'distances meta' }, 'only on one side');
  return el(
    'div',
    { class: 'distances' },
    parts.map(([name, x], i) => [i ? ' · ' : '', `${name} `, el('b', { 'data-distance': name }, fmtNumber(x.value)), x.worst ? el('span', { class: 'meta' }, ` (most: ${x.worst})`) : null]),
  );
}

async function statisticsView(id, q) {
  const split = q.get('split') || '';
  const compare = q.get('compare') || '';
  const view = await api(`/artifacts/${id}/statistics${query({ split })}`);
  const others = await api('/artifacts?type=ExampleStatistics&limit=50');
  const comparison = compare ? await api(`/statistics/compare${query({ left: `${id}:${view.split}`, right: compare })}`) : undefined;
  const flagged = new Map();
  for (const a of view.anomalies) if (a.feature) flagged.set(a.feature, [...(flagged.get(a.feature) || []), a]);
  const go = (changes) => (location.hash = `#/statistics/${id}${query({ split: view.split, compare, ...changes })}`);
  const choices = [];
  for (const a of others.items) {
    for (const s of splitNames(a)) if (!(a.id === view.artifact.id && s === view.split)) choices.push({ value: `${a.id}:${s}`, label: `#${a.id} ${s}${propertyOf(a, 'span') !== undefined ? ` (span ${propertyOf(a, 'span')})` : ''}` });
  }
  const controls = el(
    'div',
    { class: 'controls' },
    'Split ',
    view.splits.map((s) => (s === view.split ? el('b', { class: 'split current' }, s) : el('a', { href: '#', class: 'split', onclick: (e) => (e.preventDefault(), go({ split: s })) }, s))),
    ' Compare with ',
    el('select', { id: 'compare-with', onchange: (e) => go({ compare: e.target.value }) }, el('option', { value: '' }, 'nothing'), choices.map((c) => el('option', { value: c.value, selected: c.value === compare }, c.label))),
  );
  const numExamples = Number(view.dataset.numExamples);
  const byName = new Map(((comparison && comparison.features) || []).map((f) => [f.name, f]));
  const rightLabel = comparison ? `#${comparison.right.artifact.id} ${comparison.right.split}` : '';
  const leftLabel = `#${view.artifact.id} ${view.split}`;
  const cards = view.dataset.features.map((f) => {
    const notes = flagged.get(f.name) || [];
    const other = byName.get(f.name);
    let chart;
    if (other && other.right && f.stringStats && other.right.stringStats) chart = chartBox('chart-box', () => shareConfig(f, other.right, leftLabel, rightLabel));
    else if (other && other.right) {
      chart = el('div', { class: 'chart-pair' }, chartBox('chart-box', () => barConfig(featureBars(f), leftLabel, false)), chartBox('chart-box', () => barConfig(featureBars(other.right), rightLabel, false)));
    } else chart = chartBox('chart-box', () => barConfig(featureBars(f), '', !!f.stringStats));
    return el(
      'div',
      { class: `card${notes.length ? ' has-anomaly' : ''}`, 'data-feature': f.name },
      el('h3', {}, f.name),
      el('div', { class: 'meta' }, featureSummary(f, numExamples)),
      notes.map((a) => el('div', { class: 'anomaly-note' }, `${a.type}: ${a.description}`)),
      other ? distanceLine(other.distances) : null,
      chart,
    );
  });
  return [
    el('h1', {}, `Statistics #${view.artifact.id}`, view.span !== undefined ? ` (span ${view.span})` : ''),
    el('p', { class: 'meta' }, `${view.split}: ${numExamples} examples, ${view.dataset.features.length} features`, comparison ? ` · compared with ${rightLabel}: ${comparison.right.numExamples} examples` : ''),
    controls,
    view.anomaliesArtifactId !== undefined
      ? el(
          'p',
          {},
          anomalyCount(view.anomalies.length),
          ' in this split — ',
          el('a', { href: `#/anomalies/${view.anomaliesArtifactId}` }, 'validation details'),
        )
      : null,
    el('div', { class: 'cards' }, cards),
  ];
}

async function anomaliesView(id) {
  const view = await api(`/artifacts/${id}/anomalies`);
  const sections = view.splits.map((s) => [
    el('h2', {}, `Split ${s.split} `, anomalyCount(s.anomalies.length)),
    s.dataMissing ? el('p', { class: 'error' }, 'This split had no data.') : null,
    s.anomalies.length
      ? table(
          ['Feature', 'Type', 'Code', 'Short description', 'Description'],
          s.anomalies.map((a) => [a.feature || '(dataset)', a.type, num(a.code), a.shortDescription, a.description]),
          () => ({ class: 'anomaly' }),
        )
      : null,
    s.driftSkew.length
      ? [
          el('h3', {}, 'Drift and skew'),
          table(
            ['Feature', 'Kind', 'Measurement', { label: 'Value', class: 'num' }, { label: 'Threshold', class: 'num' }, ''],
            s.driftSkew.flatMap((d) =>
              [...(d.driftMeasurements || []).map((m) => ['drift', m]), ...(d.skewMeasurements || []).map((m) => ['skew', m])].map(([kind, m]) => [
                d.path.step.join('.'),
                kind,
                m.type,
                num(m.value),
                num(m.threshold),
                verdict(m.value <= m.threshold, 'within', 'above threshold'),
              ]),
            ),
          ),
        ]
      : null,
  ]);
  return [el('p', { class: 'meta' }, artifactLink(id, `artifact #${id}`)), el('h1', {}, `Anomalies #${id}`), checkedView(view.checks), sections];
}

const statisticsLink = (ref) => [el('a', { href: `#/statistics/${ref.artifactId}` }, `statistics #${ref.artifactId}`), ref.span !== undefined ? ` (span ${ref.span})` : ''];

/** One comparison kind (drift or skew): its comparators and thresholds, and what they were measured against — or why not. */
function comparatorCheck(kind, checks, against, againstWhat) {
  if (!checks.length) return el('li', { 'data-check': kind }, `${kind}: not checked — the schema sets no ${kind} comparator.`);
  const list = checks.map((c, i) => [i ? ', ' : '', `${c.feature} ${c.distance} ≤ ${fmtNumber(c.threshold)}`]);
  if (!against) return el('li', { 'data-check': kind }, `${kind}: not checked — the schema sets ${list.length} comparator${list.length === 1 ? '' : 's'} (`, list, `) but the validator was given no ${againstWhat}.`);
  return el('li', { 'data-check': kind }, `${kind}: against `, statisticsLink(against), ` — `, list, '.');
}

/** What the validation compared: the schema, and each drift/skew comparator with its threshold and baseline. */
function checkedView(checks) {
  if (!checks.statistics && !checks.schema) return el('p', { class: 'meta', id: 'checked' }, 'No validation was recorded as making these anomalies, so what was checked is not known.');
  const schema = checks.schema;
  return [
    el('h2', {}, 'What was checked'),
    el(
      'ul',
      { id: 'checked' },
      el('li', { 'data-check': 'schema' }, checks.statistics ? ['Each split of ', statisticsLink(checks.statistics)] : 'Each split', schema ? [' against ', artifactLink(schema.artifactId, `schema #${schema.artifactId}`), ` (${schema.features} features: presence, type, domain, value counts)`] : ' (no schema recorded)', '.'),
      schema ? comparatorCheck('drift', schema.drift, checks.baseline, 'baseline statistics (previous span)') : null,
      schema ? comparatorCheck('skew', schema.skew, checks.serving, 'serving statistics') : null,
    ),
  ];
}

// ---- evaluations ----

async function evaluationsView(q) {
  const offset = q.get('offset') || 0;
  const page = await api(`/artifacts${query({ type: 'ModelEvaluation', offset })}`);
  const metricNames = [...new Set(page.items.flatMap((a) => Object.keys({ ...a.customProperties, ...a.properties })))].filter((k) => !/^(mlp_|slices$|skipped_examples$|examples$|weighted_example_count$)/.test(k) && !k.includes('/'));
  return [
    el('h1', {}, 'Evaluations'),
    page.items.length
      ? table(
          ['Evaluation', 'Created', ...metricNames.map((m) => ({ label: m, class: 'num' }))],
          page.items.map((a) => [el('a', { href: `#/evaluations/${a.id}` }, `ModelEvaluation #${a.id}`), fmtTime(a.createTimeSinceEpoch), ...metricNames.map((m) => num(propertyOf(a, m)))]),
        )
      : empty('No evaluations yet.'),
    pager(page, (o) => `#/evaluations${query({ offset: o })}`),
  ];
}

function thresholdText(t) {
  if (t.kind === 'lower_bound') return `≥ ${t.bound}`;
  if (t.kind === 'upper_bound') return `≤ ${t.bound}`;
  return `${t.kind.replace('_', ' ')} ${t.bound} (${t.direction})`;
}

/** A table whose rows re-sort when a header is clicked (again: the other way). */
function sortableTable(headers, rows, className = 'metrics') {
  let key = -1;
  let descending = false;
  const body = el('tbody');
  const draw = () => {
    const sorted = key < 0 ? rows : [...rows].sort((a, b) => {
      const x = a.values[key];
      const y = b.values[key];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    body.replaceChildren(...sorted.map((r) => el('tr', {}, r.cells)));
  };
  const head = el(
    'tr',
    {},
    headers.map((h, i) =>
      el('th', { class: `sortable${i ? ' num' : ''}`, onclick: () => ((descending = key === i ? !descending : i > 0), (key = i), draw()) }, breakable(h)),
    ),
  );
  draw();
  return scrollBox(el('table', { class: className }, el('thead', {}, head), body));
}

/** Slices with fewer examples than this are folded away: a metric over 1 or 2 examples says nothing. */
const TINY_SLICE = 10;

/** Slices largest first (Overall leads, being the largest), the tiny ones apart. */
function slicesBySize(slices) {
  const sorted = [...slices].sort((a, b) => b.example_count - a.example_count || a.slice.localeCompare(b.slice));
  return { shown: sorted.filter((s) => s.slice === 'Overall' || s.example_count >= TINY_SLICE), tiny: sorted.filter((s) => s.slice !== 'Overall' && s.example_count < TINY_SLICE) };
}

async function evaluationView(id, q) {
  const view = await api(`/artifacts/${id}/evaluation`);
  const ev = view.evaluation;
  const metrics = [...new Set(ev.slices.flatMap((s) => Object.keys(s.metrics)))];
  const chosen = metrics.includes(q.get('metric')) ? q.get('metric') : metrics.includes('accuracy') ? 'accuracy' : metrics[0];
  const baseline = new Map(((view.baseline && view.baseline.slices) || []).map((s) => [s.slice, s.metrics]));
  const value = (m) => (m === null || m === undefined ? NaN : m);
  const { shown, tiny } = slicesBySize(ev.slices);
  const sliceRow = (s) => ({
    values: [s.slice, ...metrics.map((m) => value(s.metrics[m]))],
    cells: [el('td', {}, breakable(s.slice)), ...metrics.map((m) => num(s.metrics[m]))],
  });
  const results = ev.validation.results;
  const blessed = view.blessing ? view.blessing.blessed : ev.validation.blessed;
  const chartConfig = () => ({
    type: 'bar',
    data: {
      labels: shown.map((s) => s.slice),
      datasets: [
        { label: `${chosen} (this model)`, data: shown.map((s) => s.metrics[chosen]), backgroundColor: '#2680c2' },
        ...(baseline.size ? [{ label: `${chosen} (baseline)`, data: shown.map((s) => (baseline.get(s.slice) || {})[chosen]), backgroundColor: '#9fb3c8' }] : []),
      ],
    },
    options: { plugins: { legend: { display: true } } },
  });
  return [
    el('h1', {}, `Evaluation #${view.artifact.id}`),
    el('div', { class: `verdict ${blessed ? 'pass' : 'fail'}`, id: 'blessing' }, blessed ? 'BLESSED' : 'NOT BLESSED'),
    keyValues([
      ['run', view.runId && runLink(view.runId)],
      ['model', view.model && artifactLink(view.model.artifactId, `Model #${view.model.artifactId}`)],
      ['blessing', view.blessing && artifactLink(view.blessing.artifactId, `ModelBlessing #${view.blessing.artifactId}`)],
      ['baseline', view.baseline ? [artifactLink(view.baseline.artifactId, `Model #${view.baseline.artifactId}`), view.baseline.evaluationArtifactId ? [' — ', el('a', { href: `#/evaluations/${view.baseline.evaluationArtifactId}` }, 'its evaluation')] : ''] : 'none (first blessed model: change thresholds pass)'],
      ['task', ev.config.task],
      ['label', ev.config.label_key],
    ]),
    el('h2', {}, 'Thresholds'),
    results.length
      ? table(
          ['Slice', 'Metric', 'Threshold', { label: 'Value', class: 'num' }, { label: 'Baseline', class: 'num' }, 'Result', 'Why'],
          results.map((r) => [r.slice, r.metric, thresholdText(r.threshold), num(r.value), num(r.baseline_value), verdict(r.passed, 'pass', 'fail'), r.reason]),
          (i) => ({ class: results[i].passed ? '' : 'failed' }),
        )
      : empty('No thresholds configured: the model cannot be blessed.'),
    el('h2', {}, 'Metrics per slice'),
    el(
      'div',
      { class: 'controls' },
      'Chart ',
      el('select', { id: 'metric', onchange: (e) => (location.hash = `#/evaluations/${id}${query({ metric: e.target.value })}`) }, metrics.map((m) => el('option', { value: m, selected: m === chosen }, m))),
    ),
    chartBox('chart-wide', chartConfig),
    el('p', { class: 'meta' }, `${shown.length} slices, largest first`, tiny.length ? `; ${tiny.length} with fewer than ${TINY_SLICE} examples below` : ''),
    sortableTable(['Slice', ...metrics], shown.map(sliceRow)),
    tiny.length
      ? el(
          'details',
          { class: 'tiny-slices' },
          el('summary', {}, `${tiny.length} slice${tiny.length === 1 ? '' : 's'} with fewer than ${TINY_SLICE} examples (too few to read metrics from)`),
          sortableTable(['Slice', ...metrics], tiny.map(sliceRow), 'metrics-tiny'),
        )
      : null,
    baseline.size
      ? [
          el('h2', {}, `Compared with the baseline: ${chosen}`),
          table(
            ['Slice', { label: 'This model', class: 'num' }, { label: 'Baseline', class: 'num' }, { label: 'Change', class: 'num' }],
            shown.map((s) => {
              const b = (baseline.get(s.slice) || {})[chosen];
              const c = s.metrics[chosen];
              return [s.slice, num(c), num(b), num(typeof b === 'number' && typeof c === 'number' ? c - b : '')];
            }),
          ),
        ]
      : null,
  ];
}

// ---- models ----

/** Who gets the requests that name no version: one coloured part per arm, as wide as its fraction. */
function trafficBar(arms, fractionOf) {
  const parts = arms.map((a, i) => {
    const fraction = fractionOf(a);
    // Colours follow the arm's place in the config, so an arm keeps its colour while others come and go.
    return fraction > 0 ? el('span', { class: `arm-${i % 4}`, style: `width: ${100 * fraction}%`, title: `${a.arm} → version ${a.version}: ${percent(fraction, 1)}` }, `${a.arm} ${percent(fraction, 1)}`) : null;
  });
  return el('div', { class: 'traffic-bar' }, parts);
}

/** A model server's traffic policy: a split's weights and the shares they give now, or a bandit's tallies. */
function trafficView(traffic) {
  if (traffic === null) return el('p', { class: 'traffic' }, 'Traffic: no policy — requests that name no version go to the newest version.');
  if (traffic.kind === 'split') {
    const live = traffic.arms.some((a) => a.share > 0);
    return el(
      'div',
      { class: 'traffic', 'data-kind': 'split' },
      el('p', {}, 'Traffic: weighted split', traffic.stickyHeader ? ` (sticky per ${traffic.stickyHeader} header)` : '', live ? '' : ' — no arm is loaded, so the newest version answers'),
      trafficBar(traffic.arms, (a) => a.share),
      table(
        ['Arm', 'Version', { label: 'Weight', class: 'num' }, { label: 'Share now', class: 'num' }],
        traffic.arms.map((a) => [a.arm, a.version, num(a.weight), el('td', { class: 'num' }, a.share > 0 ? percent(a.share, 1) : 'not loaded')]),
      ),
    );
  }
  const pulls = traffic.arms.reduce((n, a) => n + a.pulls, 0);
  return el(
    'div',
    { class: 'traffic', 'data-kind': 'bandit' },
    el('p', {}, `Traffic: ${traffic.algorithm} bandit`, pulls ? ` — each arm's share of the ${pulls} requests it routed so far:` : ' — no request routed yet'),
    pulls ? trafficBar(traffic.arms, (a) => a.pulls / pulls) : null,
    table(
      ['Arm', 'Version', { label: 'Pulls', class: 'num' }, { label: 'Rewards', class: 'num' }, { label: 'Reward sum', class: 'num' }, { label: 'Mean reward', class: 'num' }],
      traffic.arms.map((a) => [a.arm, a.version, num(a.pulls), num(a.rewards), num(a.rewardSum), num(a.meanReward)]),
    ),
  );
}

async function modelsView(q) {
  const offset = q.get('offset') || 0;
  const page = await api(`/models${query({ offset })}`);
  const yesNo = (v) => (v ? [verdict(v.blessed, 'blessed', 'not blessed'), ' ', artifactLink(v.artifactId)] : '');
  const sections = page.items.map((m) => {
    const live = m.live;
    const labelsOf = (version) => Object.entries((live && live.labels) || {}).filter(([, v]) => v === version).map(([l]) => l);
    const served = new Map(((live && live.versions) || []).map((v) => [v.version, v]));
    return el(
      'section',
      { class: 'model', 'data-model': m.name },
      el('h2', {}, m.name),
      el('p', { class: 'meta' }, 'base path ', el('span', { class: 'uri' }, m.basePath)),
      live
        ? live.error
          ? el('p', { class: 'error' }, live.error)
          : [
              el('p', {}, 'Serving now: ', live.versions.length ? live.versions.map((v, i) => [i ? ', ' : '', `version ${v.version} `, badge(v.state), labelsOf(v.version).length ? ` (${labelsOf(v.version).join(', ')})` : '']) : 'nothing'),
              Object.keys(live.labels).length ? el('p', { class: 'labels' }, 'Labels: ', Object.entries(live.labels).map(([l, v], i) => `${i ? ', ' : ''}${l} → version ${v}`)) : null,
              live.traffic !== undefined ? trafficView(live.traffic) : null,
              live.note ? el('p', { class: 'meta' }, `Traffic: ${live.note}.`) : null,
            ]
        : null,
      table(
        ['Version', 'Pushed', 'Pushed model', 'Run', 'Model', 'Blessing', 'Infra blessing', 'Evaluation', live ? 'Live' : null].filter(Boolean),
        m.versions.map((v) => {
          const status = served.get(v.version);
          return [
            v.version,
            fmtTime(v.pushedAt),
            artifactLink(v.artifactId, `PushedModel #${v.artifactId}`),
            v.runId ? runLink(v.runId) : '',
            v.model ? artifactLink(v.model.artifactId, `Model #${v.model.artifactId}`) : '',
            yesNo(v.blessing),
            yesNo(v.infraBlessing),
            v.evaluation ? [el('a', { href: `#/evaluations/${v.evaluation.artifactId}` }, `#${v.evaluation.artifactId}`), v.evaluation.metrics.accuracy !== undefined ? ` accuracy ${fmtNumber(v.evaluation.metrics.accuracy)}` : ''] : '',
            live ? (status ? [badge(status.state), labelsOf(v.version).length ? ` ${labelsOf(v.version).join(', ')}` : ''] : 'not served') : null,
          ].filter((c) => c !== null);
        }),
      ),
    );
  });
  return [
    el('h1', {}, 'Models'),
    page.serverUrl ? el('p', { class: 'meta' }, `Model server: ${page.serverUrl}`) : el('p', { class: 'meta' }, 'No model server configured (mlp ui --server-url) — showing pushed versions only.'),
    sections.length ? sections : empty('No model has been pushed yet.'),
    pager(page, (o) => `#/models${query({ offset: o })}`),
  ];
}

// ---- tuning ----

async function tuningListView(q) {
  const offset = q.get('offset') || 0;
  const page = await api(`/tuning${query({ offset })}`);
  const objective = (t) => (t.error ? el('td', { class: 'error' }, t.error) : t.objective ? `${t.objective.metric} (${t.objective.goal === 'MINIMIZE' ? 'minimize' : 'maximize'})` : '');
  return [
    el('h1', {}, 'Tuning'),
    page.items.length
      ? table(
          ['Tuner results', 'Run', 'Created', 'Objective', { label: 'Best', class: 'num' }, 'Best trial', { label: 'Trials', class: 'num' }, { label: 'Completed', class: 'num' }, { label: 'Stopped early', class: 'num' }],
          page.items.map((t) => {
            const a = t.artifact;
            return [
              el('a', { href: `#/tuning/${a.id}` }, `TunerResults #${a.id}`),
              t.runId ? runLink(t.runId) : '',
              fmtTime(a.createTimeSinceEpoch),
              objective(t),
              el('td', { class: 'num best-objective' }, t.best ? fmtNumber(t.best.value) : ''),
              t.best ? t.best.trialId : '',
              num(propertyOf(a, 'trials')),
              num(propertyOf(a, 'completed')),
              num(propertyOf(a, 'stopped')),
            ];
          }),
        )
      : empty('No tuning runs yet.'),
    pager(page, (o) => `#/tuning${query({ offset: o })}`),
  ];
}

async function tuningView(id) {
  const view = await api(`/artifacts/${id}/tuning`);
  const trials = view.trials;
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.hyperparameters || {})))];
  const minimize = view.objective.goal === 'MINIMIZE';
  let best;
  const bestSoFar = trials.map((t) => {
    if (typeof t.objective === 'number' && (best === undefined || (minimize ? t.objective < best : t.objective > best))) best = t.objective;
    return best === undefined ? null : best;
  });
  const chartConfig = () => ({
    type: 'line',
    data: {
      labels: trials.map((t) => t.trial_id),
      datasets: [
        { label: view.objective.metric, data: trials.map((t) => t.objective), borderColor: '#2680c2', backgroundColor: '#2680c2', showLine: false, pointRadius: 5 },
        { label: `best so far (${minimize ? 'lowest' : 'highest'})`, data: bestSoFar, borderColor: '#2f8132', stepped: true, pointRadius: 0 },
      ],
    },
  });
  return [
    el('h1', {}, `Tuning #${view.artifact.id}`),
    keyValues([
      ['run', view.runId && runLink(view.runId)],
      ['objective', `${view.objective.metric} (${minimize ? 'minimize' : 'maximize'})`],
      ['algorithm', view.algorithm],
      ['best trial', view.bestTrialId],
      ['best hyperparameters', view.hyperParametersArtifactId !== undefined ? artifactLink(view.hyperParametersArtifactId, `HyperParameters #${view.hyperParametersArtifactId}`) : undefined],
    ]),
    el('h2', {}, 'Objective over trials'),
    chartBox('chart-wide', chartConfig),
    el('h2', {}, 'Trials'),
    table(
      ['Trial', 'Status', { label: view.objective.metric, class: 'num' }, { label: 'Steps', class: 'num' }, 'Stopped early', ...names],
      trials.map((t) => [t.trial_id, t.status, num(t.objective), num(t.steps), t.stopped_early ? 'yes' : 'no', ...names.map((n) => String((t.hyperparameters || {})[n] ?? ''))]),
      (i) => ({ class: trials[i].trial_id === view.bestTrialId ? 'best' : trials[i].status === 'FAILED' ? 'failed' : '' }),
    ),
  ];
}

// ---- routing ----

const ROUTES = [
  [/^\/?$/, 'runs', (m, q) => runsView(q)],
  [/^\/runs$/, 'runs', (m, q) => runsView(q)],
  [/^\/runs\/([^/]+)$/, 'runs', (m) => runView(m[1])],
  [/^\/runs\/([^/]+)\/nodes\/([^/]+)$/, 'runs', (m) => nodeView(m[1], m[2])],
  [/^\/artifacts$/, 'artifacts', (m, q) => artifactsView(q)],
  [/^\/artifacts\/(\d+)$/, 'artifacts', (m, q) => artifactView(m[1], q)],
  [/^\/data$/, 'data', () => dataView()],
  [/^\/statistics\/(\d+)$/, 'data', (m, q) => statisticsView(m[1], q)],
  [/^\/anomalies\/(\d+)$/, 'data', (m) => anomaliesView(m[1])],
  [/^\/evaluations$/, 'evaluations', (m, q) => evaluationsView(q)],
  [/^\/evaluations\/(\d+)$/, 'evaluations', (m, q) => evaluationView(m[1], q)],
  [/^\/models$/, 'models', (m, q) => modelsView(q)],
  [/^\/tuning$/, 'tuning', (m, q) => tuningListView(q)],
  [/^\/tuning\/(\d+)$/, 'tuning', (m) => tuningView(m[1])],
];

async function render() {
  const mine = ++generation;
  pendingCharts = [];
  const hash = location.hash.replace(/^#/, '');
  const [path, search] = [hash.split('?')[0], hash.split('?')[1] || ''];
  const q = new URLSearchParams(search);
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  document.querySelectorAll('header nav a').forEach((a) => a.classList.toggle('active', !!route && a.dataset.section === route[1]));
  let content;
  try {
    if (!route) throw new Error(`no page ${path}`);
    const m = route[0].exec(path).map((part, i) => (i ? decodeURIComponent(part) : part));
    content = await route[2](m, q);
  } catch (err) {
    content = el('div', { class: 'error', role: 'alert' }, err.message);
  }
  if (mine !== generation) return;
  charts.forEach((c) => c.destroy());
  charts = [];
  const drawn = pendingCharts;
  pendingCharts = [];
  main.replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  for (const { canvas, config } of drawn) if (canvas.isConnected) newChart(canvas, config());
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', render);
api('/info')
  .then((info) => (document.getElementById('store').textContent = info.metadata))
  .catch(() => undefined);
render();
