// Shared by the ML and model-component tests: real upstream artifacts for the penguins data (vega-datasets'
// penguins.json) built in a few seconds by running ExampleGen → StatisticsGen → SchemaGen → Transform
// through the launcher, as the runner does; running any component through the launcher with artifacts given
// as { uri, properties }; training a small model with the real Trainer; publishing folders as committed
// artifacts; and temp folders per test file.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AnyComponent } from '../../../runtime/core/component';
import type { ExecutorOutput } from '../../../runtime/core/executor-io';
import { launchComponent } from '../../../runtime/core/launcher';
import { ExampleGen, SchemaGen, StatisticsGen, Trainer, Transform } from '../../../runtime/components';
import { duckdb } from '../../../runtime/data/duckdb';
import { buildSignature, labelClasses, type Signature } from '../../../runtime/ml/signature';
import { storageFor } from '../../../runtime/storage';
import { readSchema } from '../../../runtime/tfdv/artifact-files';
import type { Schema } from '../../../runtime/tfdv/schema-proto';
import { checkGraph } from '../../../runtime/transform/apply';
import { TRANSFORM_GRAPH_FILE, type TransformGraph } from '../../../runtime/transform/graph';
import { REPO_ROOT } from '../../support/cli';

export const PENGUINS_FILE = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'penguins.json');
export const LABEL = 'Species';

/** The transform spec of the penguins pipeline (pipelines/examples/penguins.ts). */
export const PENGUINS_SPEC = [
  { kind: 'z_score', feature: 'Beak Length (mm)', output: 'beak_length' },
  { kind: 'z_score', feature: 'Beak Depth (mm)', output: 'beak_depth' },
  { kind: 'z_score', feature: 'Flipper Length (mm)', output: 'flipper_length' },
  { kind: 'z_score', feature: 'Body Mass (g)', output: 'body_mass' },
  { kind: 'vocabulary', feature: 'Island', output: 'island' },
  { kind: 'vocabulary', feature: 'Sex', output: 'sex' },
];

/** custom_config of the bundled trainer for the species label (no early stopping: step counts are exact). */
export const CUSTOM_CONFIG = { label_key: LABEL, task: 'multiclass' };

export interface ArtifactRef {
  uri: string;
  properties: Record<string, unknown>;
  /** The RuntimeArtifact name, e.g. an MLMD resource name `…/artifacts/<id>` as Vertex gives it. */
  name?: string;
}

/** A temp folder per test file (beforeAll / afterAll); read `.dir` inside tests. */
export function useTempDir(prefix: string): { dir: string } {
  const ctx = { dir: '' };
  beforeAll(async () => {
    ctx.dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    if (ctx.dir) await fs.promises.rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

let counter = 0;
/** A fresh, not yet existing path below `dir`. */
export function fresh(dir: string, name: string): string {
  return path.join(dir, `${name}-${++counter}`);
}

/** Runs a component through the launcher, as the runner and `mlp component run` do. */
export async function run(
  component: AnyComponent,
  inputs: Record<string, ArtifactRef | undefined>,
  outputs: Record<string, string>,
  parameters: Record<string, unknown> = {},
  log: string[] = [],
): Promise<ExecutorOutput> {
  return launchComponent(component, executorInput(inputs, outputs, parameters), { log: (line) => log.push(line) });
}

/** The KFP ExecutorInput for these artifacts and parameters. */
export function executorInput(inputs: Record<string, ArtifactRef | undefined>, outputs: Record<string, string>, parameters: Record<string, unknown> = {}) {
  const artifacts: Record<string, { artifacts: { name?: string; uri: string; metadata: Record<string, unknown> }[] }> = {};
  for (const [port, ref] of Object.entries(inputs)) if (ref) artifacts[port] = { artifacts: [{ ...(ref.name ? { name: ref.name } : {}), uri: ref.uri, metadata: ref.properties }] };
  return {
    inputs: { parameterValues: parameters, artifacts },
    outputs: { artifacts: Object.fromEntries(Object.entries(outputs).map(([port, uri]) => [port, { artifacts: [{ uri }] }])) },
  };
}

/** The output artifact of a launch, as an input reference for the next component. */
export function outputRef(out: ExecutorOutput, port: string): ArtifactRef {
  const a = out.artifacts![port].artifacts[0];
  return { uri: a.uri, properties: a.metadata ?? {} };
}

/** Publishes a local folder as a committed artifact at `uri` (what an upstream component's output is). */
export async function publish(src: string, uri: string, properties: Record<string, unknown> = {}): Promise<ArtifactRef> {
  await storageFor(uri).publishDirectory(src, uri);
  return { uri, properties };
}

/** A committed copy of an artifact's files, changed by `edit` before publishing (e.g. a corrupt model). */
export async function publishedCopy(ref: ArtifactRef, uri: string, edit: (dir: string) => Promise<void> | void): Promise<ArtifactRef> {
  const staging = `${uri}.staging`;
  await fs.promises.cp(ref.uri, staging, { recursive: true });
  // The commit marker belongs to the original; publishDirectory writes a new one for the edited files.
  for (const f of await fs.promises.readdir(staging)) if (f.startsWith('_') || f.startsWith('.')) await fs.promises.rm(path.join(staging, f), { recursive: true, force: true });
  await edit(staging);
  return publish(staging, uri, ref.properties);
}

/** A ModelBlessing artifact under `dir`: the marker file, and the blessed property unless `markerOnly`. */
export async function blessingArtifact(dir: string, blessed: boolean, markerOnly = false): Promise<ArtifactRef> {
  const src = fresh(dir, 'blessing-src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, blessed ? 'BLESSED' : 'NOT_BLESSED'), '');
  return publish(src, fresh(dir, 'blessing'), markerOnly ? {} : { blessed: blessed ? 1 : 0 });
}

export interface Upstream {
  examples: ArtifactRef;
  statistics: ArtifactRef;
  schema: ArtifactRef;
  transformGraph: ArtifactRef;
}

/**
 * ExampleGen (train 3 : eval 1) → StatisticsGen → SchemaGen → Transform on penguins, under `dir`;
 * `exampleGen` adds ExampleGen parameters (e.g. derived_columns).
 */
export async function buildPenguinsUpstream(dir: string, spec: unknown[] = PENGUINS_SPEC, exampleGen: Record<string, unknown> = {}): Promise<Upstream> {
  const gen = await run(ExampleGen, {}, { examples: path.join(dir, 'example-gen', 'examples', '1') }, {
    input_base: path.dirname(PENGUINS_FILE),
    input_splits: [{ name: 'single_split', pattern: path.basename(PENGUINS_FILE) }],
    output_splits: [
      { name: 'train', buckets: 3 },
      { name: 'eval', buckets: 1 },
    ],
    ...exampleGen,
  });
  const examples = outputRef(gen, 'examples');
  const statistics = outputRef(await run(StatisticsGen, { examples }, { statistics: path.join(dir, 'statistics-gen', 'statistics', '2') }), 'statistics');
  const schema = outputRef(await run(SchemaGen, { statistics }, { schema: path.join(dir, 'schema-gen', 'schema', '3') }), 'schema');
  const transformed = await run(
    Transform,
    { examples },
    { transform_graph: path.join(dir, 'transform', 'transform_graph', '4'), transformed_examples: path.join(dir, 'transform', 'transformed_examples', '4') },
    { spec },
  );
  const transformGraph = outputRef(transformed, 'transform_graph');
  return { examples, statistics, schema, transformGraph };
}

export interface Trained {
  model: ArtifactRef;
  modelRun: ArtifactRef;
  log: string[];
}

/**
 * Trains with the real Trainer (bundled wide & deep runFn unless parameters say otherwise) into
 * <dir>/<node>/{model,model_run}/<n>, the runner's layout.
 */
export async function train(dir: string, up: Upstream, parameters: Record<string, unknown>, opts: { node?: string; hyperparametersInput?: ArtifactRef } = {}): Promise<Trained> {
  const node = path.join(dir, opts.node ?? 'trainer');
  const id = ++counter;
  const log: string[] = [];
  const out = await run(
    Trainer,
    { examples: up.examples, transform_graph: up.transformGraph, schema: up.schema, hyperparameters: opts.hyperparametersInput },
    { model: path.join(node, 'model', String(id)), model_run: path.join(node, 'model_run', String(id)) },
    { custom_config: CUSTOM_CONFIG, ...parameters },
    log,
  );
  return { model: outputRef(out, 'model'), modelRun: outputRef(out, 'model_run'), log };
}

/** Small, fast hyperparameters that still learn penguin species well (over 0.9 eval accuracy). */
export const QUICK_HP = { epochs: 5, batch_size: 16, learning_rate: 0.05, hidden_units: [16], dropout: 0 };

/** Rows of a query as DuckDB hands them to JavaScript (BIGINT as bigint, NULL as null). */
export async function sqlRows(query: string): Promise<Record<string, unknown>[]> {
  const conn = await duckdb();
  try {
    return (await conn.runAndReadAll(query)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
  }
}

/** The upstream's transform graph and schema as read from their files, and the species model's signature. */
export async function loadUpstream(up: Upstream): Promise<{ graph: TransformGraph; schema: Schema; signature: Signature }> {
  const graphFile = path.join(up.transformGraph.uri, TRANSFORM_GRAPH_FILE);
  const graph = checkGraph(JSON.parse(await fs.promises.readFile(graphFile, 'utf8')), graphFile);
  const schema = await readSchema(up.schema.uri);
  const signature = buildSignature({ graph, schema, task: 'multiclass', labelKey: LABEL, classes: labelClasses(schema, LABEL, 'multiclass') });
  return { graph, schema, signature };
}
