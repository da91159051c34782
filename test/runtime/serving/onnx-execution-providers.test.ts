/** @jest-environment ./test/support/onnx-environment.js */
// Which onnxruntime execution providers run ONNX models (runtime/ml/onnx-execution-providers.ts):
// `mlp serve --onnx-execution-providers`, else MLP_ONNX_EXECUTION_PROVIDERS, else cpu. This machine has no CUDA
// provider installed (the repository installs onnxruntime-node without its postinstall), so asking for cuda —
// alone or before cpu — fails the load with one line naming the provider and how to install it, never a silent
// CPU run; cpu serves; an unknown name is refused before the server starts.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ChildProcess } from 'child_process';
import { ONNX_EXECUTION_PROVIDERS_ENV, onnxExecutionProviders, parseOnnxExecutionProviders } from '../../../runtime/ml/onnx-execution-providers';
import { loadOnnxModel, runOnnx } from '../../../runtime/ml/onnx-model';
import type { RawRow } from '../../../runtime/transform/apply';
import { expectOneLineError, runCli } from '../../support/cli';
import { buildOnnxModels, expectAllClose, MEASUREMENTS, type OnnxModels } from '../ml/onnx-models';
import { penguinRows, request, startServeCli } from './helpers';

let root: string;
let models: OnnxModels;
let rows: RawRow[];
let base: string;
const children: ChildProcess[] = [];

const CUDA_NOT_INSTALLED = /ONNX execution provider cuda cannot be loaded \(OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library\): onnxruntime-node's CUDA provider is not installed \(no \S+libonnxruntime_providers_cuda\.so; install it with `ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules\/onnxruntime-node\/script\/install\.js`/;

beforeAll(async () => {
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-onnx-providers-'));
  rows = penguinRows(4);
  models = buildOnnxModels(path.join(root, 'models'), rows);
  base = path.join(root, 'base');
  await fs.promises.mkdir(base);
  await fs.promises.cp(models.dirs.tabular, path.join(base, '1'), { recursive: true });
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fs.promises.rm(root, { recursive: true, force: true });
});

/** Runs `body` with MLP_ONNX_EXECUTION_PROVIDERS set in this process (children started meanwhile inherit it). */
async function withProvidersEnv<T>(value: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env[ONNX_EXECUTION_PROVIDERS_ENV];
  process.env[ONNX_EXECUTION_PROVIDERS_ENV] = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env[ONNX_EXECUTION_PROVIDERS_ENV];
    else process.env[ONNX_EXECUTION_PROVIDERS_ENV] = saved;
  }
}

const measurements = (r: RawRow) => Object.fromEntries(MEASUREMENTS.map((m) => [m, r[m]]));

describe('provider list', () => {
  test('names are checked: an unknown or repeated name is refused, naming where it came from', () => {
    expect(parseOnnxExecutionProviders('cuda, cpu', '--onnx-execution-providers')).toEqual(['cuda', 'cpu']);
    expect(() => parseOnnxExecutionProviders('gpu', '--onnx-execution-providers')).toThrow('--onnx-execution-providers "gpu": unknown ONNX execution provider "gpu"; expected a comma-separated list of cpu, cuda');
    expect(() => parseOnnxExecutionProviders('cuda,', '--onnx-execution-providers')).toThrow('unknown ONNX execution provider ""');
    expect(() => parseOnnxExecutionProviders('cpu,cpu', 'X')).toThrow('X "cpu,cpu": execution provider cpu is listed twice');
  });

  test('MLP_ONNX_EXECUTION_PROVIDERS is read; unset or empty is cpu; a bad value names the variable', () => {
    expect(onnxExecutionProviders({ [ONNX_EXECUTION_PROVIDERS_ENV]: 'cuda,cpu' })).toEqual(['cuda', 'cpu']);
    expect(onnxExecutionProviders({})).toEqual(['cpu']);
    expect(onnxExecutionProviders({ [ONNX_EXECUTION_PROVIDERS_ENV]: '' })).toEqual(['cpu']);
    expect(() => onnxExecutionProviders({ [ONNX_EXECUTION_PROVIDERS_ENV]: 'tpu' })).toThrow('MLP_ONNX_EXECUTION_PROVIDERS "tpu": unknown ONNX execution provider "tpu"');
  });
});

describe('loading a model', () => {
  test('cpu loads and predicts', async () => {
    const { model } = await loadOnnxModel(models.dirs.tabular, ['cpu']);
    expectAllClose(Array.from(await runOnnx(model, rows)), models.expected.tabular.probabilities.flat());
    model.dispose();
  });

  test.each([[['cuda']], [['cuda', 'cpu']]] as const)('%j without the CUDA provider fails with one line naming it and how to install it', async (providers) => {
    const err = await loadOnnxModel(models.dirs.tabular, [...providers]).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(CUDA_NOT_INSTALLED);
    expect(err?.message).toContain(`model ${path.join(models.dirs.tabular, 'model.onnx')}: `);
    expect(err?.message).not.toContain('\n');
  });

  test('the default is MLP_ONNX_EXECUTION_PROVIDERS', async () => {
    await withProvidersEnv('cuda', () => expect(loadOnnxModel(models.dirs.tabular)).rejects.toThrow(CUDA_NOT_INSTALLED));
  });
});

describe('mlp serve', () => {
  // --log-level fatal: the server's own log lines (model loading, the failed version) are not the error line.
  const serveArgs = () => ['serve', '--model-base-path', base, '--model-name', 'penguins', '--port', '0', '--log-level', 'fatal'];

  test('--onnx-execution-providers cuda exits non-zero with one line naming the provider', async () => {
    const r = await runCli([...serveArgs(), '--onnx-execution-providers', 'cuda'], { env: { [ONNX_EXECUTION_PROVIDERS_ENV]: '' } });
    expectOneLineError(r, CUDA_NOT_INSTALLED);
    expect(r.stdout).toBe('');
  }, 60_000);

  test('MLP_ONNX_EXECUTION_PROVIDERS=cuda,cpu is read by the server (and fails the same way here)', async () => {
    const r = await runCli(serveArgs(), { env: { [ONNX_EXECUTION_PROVIDERS_ENV]: 'cuda,cpu' } });
    expectOneLineError(r, CUDA_NOT_INSTALLED);
  }, 60_000);

  test('an unknown provider name is refused in one line, from the flag or the variable', async () => {
    expectOneLineError(await runCli([...serveArgs(), '--onnx-execution-providers', 'cuda,gpu']), /--onnx-execution-providers "cuda,gpu": unknown ONNX execution provider "gpu"; expected a comma-separated list of cpu, cuda$/);
    expectOneLineError(await runCli(serveArgs(), { env: { [ONNX_EXECUTION_PROVIDERS_ENV]: 'gpu' } }), /MLP_ONNX_EXECUTION_PROVIDERS "gpu": unknown ONNX execution provider "gpu"/);
  }, 60_000);

  test('--onnx-execution-providers cpu serves, over a variable that asks for cuda', async () => {
    const { child, done, url } = await withProvidersEnv('cuda', () => startServeCli(['--model-base-path', base, '--model-name', 'penguins', '--port', '0', '--onnx-execution-providers', 'cpu']));
    children.push(child);
    const r = await request(`${url}/v1/models/penguins:predict`, { body: { instances: rows.map(measurements) } });
    expectAllClose(r.json.predictions.map((p: { probabilities: number[] }) => p.probabilities), models.expected.tabular.probabilities);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  }, 60_000);
});
