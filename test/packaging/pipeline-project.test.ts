// A pipeline project outside this repository, as the README's "Writing a pipeline" tells an ML engineer:
// `mlp init <dir>` against the packed runtime package (`npm pack`), then in that folder `npm install` (the
// tarball plus zod, from the npm cache; better-sqlite3 builds as in any install), `npx mlp run ./pipeline.ts`
// (ExampleGen → … → Pusher over the project's CSV, and the project's own component) and
// `npx mlp compile ./pipeline.ts --target argo`. The installed package's own `mlp init` writes the same files.
//
// Speed: better-sqlite3's install script (prebuild-install) runs as in any install, but finds its binary in a
// local prebuilds folder (prebuild-install's offline path, npm_config_better_sqlite3_local_prebuilds) made from
// the repository's own build (same version, same Node ABI) instead of compiling SQLite for minutes.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { MLP_BIN } from '../support/cli';
import { packWorkspace, REPO, sh, type PackedPackage } from '../support/pack';

let work: string;
let project: string;
let runtime: PackedPackage;

function npx(args: string[], env: NodeJS.ProcessEnv = {}) {
  return sh('npx', ['--no-install', 'mlp', ...args], { cwd: project, env: { MLP_TF_BACKEND: '', ...env } });
}

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === '.mlp' || e.name === 'package-lock.json') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/** A prebuild-install tarball of the repository's better-sqlite3 binding in `dir`, named as its download would be. */
async function localPrebuild(dir: string): Promise<void> {
  const sqlite = path.join(REPO, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(fs.readFileSync(path.join(sqlite, 'package.json'), 'utf8'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await fs.promises.mkdir(dir, { recursive: true });
  await sh('tar', ['-czf', path.join(dir, name), 'build/Release/better_sqlite3.node'], { cwd: sqlite });
}

beforeAll(async () => {
  work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-project-'));
  const prebuilds = path.join(work, 'prebuilds');
  await localPrebuild(prebuilds);
  runtime = await packWorkspace('runtime', work);
  project = path.join(work, 'churn');
  await sh(process.execPath, [MLP_BIN, 'init', project, '--runtime', `file:${runtime.tarball}`], { cwd: work });
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, timeout: 600_000, env: { npm_config_better_sqlite3_local_prebuilds: prebuilds } });
}, 900_000);

afterAll(async () => {
  if (work) await fs.promises.rm(work, { recursive: true, force: true });
});

test('mlp init writes the project: package.json on the runtime package and zod, tsconfig, pipeline, component, data, README', () => {
  const files = filesUnder(project);
  expect(Object.keys(files).sort()).toEqual(['.gitignore', 'README.md', 'components/release-note.ts', 'data/examples.csv', 'package.json', 'pipeline.ts', 'tsconfig.json']);
  const pkg = JSON.parse(files['package.json']);
  expect(pkg.dependencies).toEqual({ [runtime.name]: `file:${runtime.tarball}`, zod: expect.any(String) });
  // Every production dependency with an install script is decided: onnxruntime-node's would fetch from NuGet.
  expect(pkg.allowScripts).toEqual({ 'better-sqlite3': true, 'onnxruntime-node': false });
  expect(files['pipeline.ts']).toContain(`from '${runtime.name}/pipelines'`);
  expect(files['components/release-note.ts']).toContain('defineComponent(');
  expect(files['data/examples.csv'].trim().split('\n')).toHaveLength(301);
});

test('mlp init refuses a folder that is not empty, and writes nothing there', async () => {
  const busy = path.join(work, 'busy');
  await fs.promises.mkdir(busy);
  await fs.promises.writeFile(path.join(busy, 'notes.txt'), 'mine');
  await expect(sh(process.execPath, [MLP_BIN, 'init', busy], { cwd: work })).rejects.toThrow(/mlp: error: .*busy is not empty \(1 entries\)/);
  expect(fs.readdirSync(busy)).toEqual(['notes.txt']);
  expect(fs.readdirSync(work).filter((f) => f.includes('.init-'))).toEqual([]);
  await expect(sh(process.execPath, [MLP_BIN, 'init', path.join(work, 'named'), '--name', 'Churn_Model'], { cwd: work })).rejects.toThrow(/mlp: error: --name "Churn_Model": a project name is lower case letters, digits and dashes/);
  expect(fs.existsSync(path.join(work, 'named'))).toBe(false);
});

test('mlp init names the project after its folder, as a pipeline name', async () => {
  await sh(process.execPath, [MLP_BIN, 'init', path.join(work, '2024 Churn_Model')], { cwd: work });
  const pkg = JSON.parse(fs.readFileSync(path.join(work, '2024 Churn_Model', 'package.json'), 'utf8'));
  expect(pkg.name).toBe('churn-model');
  expect(fs.readFileSync(path.join(work, '2024 Churn_Model', 'pipeline.ts'), 'utf8')).toContain("name: 'churn-model',");
});

test('npx mlp run ./pipeline.ts runs every node, pushes the model and runs the project component', async () => {
  const { stdout } = await npx(['run', './pipeline.ts', '--json']);
  const summary = JSON.parse(stdout);
  expect({ state: summary.state, nodes: summary.nodes.map((n: { id: string; state: string; error?: string }) => `${n.id}:${n.state}${n.error ? ` ${n.error}` : ''}`) }).toEqual({
    state: 'COMPLETE',
    nodes: ['example-gen:executed', 'statistics-gen:executed', 'schema-gen:executed', 'example-validator:executed', 'transform:executed', 'trainer:executed', 'evaluator:executed', 'pusher:executed', 'release-note:executed'],
  });
  expect(fs.readdirSync(path.join(project, '.mlp', 'serving', 'churn'))).toHaveLength(1);
  const note = summary.nodes.find((n: { id: string }) => n.id === 'release-note').outputs.note as string;
  expect(fs.readFileSync(path.join(note, 'release-note.md'), 'utf8')).toMatch(/^# churn\n[\s\S]*- accuracy: [\d.]+\n[\s\S]*Pushed as version \d+ to /);
}, 600_000);

test('npm run typecheck: the pipeline, its component and the runtime sources they import type-check with the tsconfig written', async () => {
  await sh('npm', ['run', 'typecheck'], { cwd: project });
}, 300_000);

test('npx mlp compile ./pipeline.ts --target argo compiles it, defaults pointing into the pipeline root', async () => {
  const { stdout } = await npx(['compile', './pipeline.ts', '--target', 'argo', '--image', 'europe-docker.pkg.dev/acme/ml/runtime:1', '--pipeline-root', 'gs://acme-ml/churn']);
  const template = parse(stdout);
  expect(template.kind).toBe('WorkflowTemplate');
  const text = JSON.stringify(template);
  for (const node of ['example-gen', 'trainer', 'pusher', 'release-note']) expect(text).toContain(node);
  expect(text).toContain('gs://acme-ml/churn/data');
  expect(text).not.toContain(project);
}, 300_000);

test("the installed package's own mlp init writes the same project", async () => {
  const again = path.join(work, 'again', 'churn');
  await npx(['init', again, '--runtime', `file:${runtime.tarball}`]);
  expect(filesUnder(again)).toEqual(filesUnder(project));
});
