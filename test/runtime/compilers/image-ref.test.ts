// Runtime images by digest: `mlp compile` (each target) and `mlp submit` take --image / --gpu-image pinned by
// digest (REPO@sha256:<64 hex>) as well as by tag, and write the reference unchanged into every step; what is
// neither (no tag and no digest, a malformed digest, not a reference) is refused in one line naming the flag,
// before anything is written.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { registerSubmitCommand } from '../../../runtime/cli/commands/submit';
import { checkImageRef } from '../../../runtime/compilers/common';
import { UserError } from '../../../runtime/core/errors';
import { compileCli } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const IMAGE = `us-docker.pkg.dev/my-project/mlp/runtime@${DIGEST}`;
const GPU_IMAGE = `us-docker.pkg.dev/my-project/mlp/runtime-gpu:1.4.0@sha256:${'fedcba9876543210'.repeat(4)}`;
const IMAGES = ['--image', IMAGE, '--gpu-image', GPU_IMAGE, '--gpu', 'scale=nvidia-l4'];
const ROOT = ['--pipeline-root', 'gs://b/root'];

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-image-ref-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function compiled(...args: string[]): Promise<string> {
  const { stdout, error } = await compileCli('spine-demo', ...IMAGES, ...args);
  if (error) throw error;
  return stdout;
}

describe('a digest-pinned image flows unchanged into every step', () => {
  test('Argo: each container, the GPU node on the GPU image, the exit handler on the image', async () => {
    const wf = JSON.parse(await compiled('--target', 'argo', ...ROOT));
    const images = Object.fromEntries(wf.spec.templates.filter((t: Json) => t.container).map((t: Json) => [t.name, t.container.image]));
    expect(images).toEqual({ produce: IMAGE, scale: GPU_IMAGE, 'summarize-raw': IMAGE, 'summarize-scaled': IMAGE, 'mlp-run-finished': IMAGE });
  });

  test('KFP IR: each executor', async () => {
    const spec = JSON.parse(await compiled('--target', 'kfp'));
    const images = Object.fromEntries(Object.entries<Json>(spec.deploymentSpec.executors).map(([name, e]) => [name, e.container.image]));
    expect(images).toEqual({ 'exec-produce': IMAGE, 'exec-scale': GPU_IMAGE, 'exec-summarize-raw': IMAGE, 'exec-summarize-scaled': IMAGE, 'exec-mlp-run-finished': IMAGE });
  });

  test('Airflow: each operator (executed against stand-in Airflow modules)', async () => {
    const file = path.join(dir, 'spine_demo.py');
    fs.writeFileSync(file, await compiled('--target', 'airflow', ...ROOT, '--gke-cluster', 'p/us-central1/gpu', '--namespace', 'mlp', '--service-account', 'runner'));
    const [{ tasks }] = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), file], { encoding: 'utf8' })) as { tasks: Json[] }[];
    expect(Object.fromEntries(tasks.map((t) => [t.kwargs.task_id, t.kwargs.image]))).toEqual({
      produce: IMAGE,
      scale: GPU_IMAGE,
      'summarize-raw': IMAGE,
      'summarize-scaled': IMAGE,
      'mlp-run-finished': IMAGE,
    });
  });

  test('mlp submit: the PipelineJob request', async () => {
    let stdout = '';
    const program = new Command('mlp').exitOverride();
    registerSubmitCommand(program, { stdout: { write: (t: string) => (stdout += t) } });
    await program.parseAsync(['node', 'mlp', 'submit', 'spine-demo', '--target', 'vertex', '--project', 'my-project', '--region', 'us-central1', ...IMAGES, ...ROOT, '--dry-run']);
    const executors = JSON.parse(stdout).body.pipelineSpec.deploymentSpec.executors;
    expect(executors['exec-scale'].container.image).toBe(GPU_IMAGE);
    expect(executors['exec-produce'].container.image).toBe(IMAGE);
  });
});

describe('image references', () => {
  test.each(['runtime:1', `runtime:latest@${DIGEST}`, 'localhost:5000/ml/runtime:2024-05-01.1', `runtime@${DIGEST}`, `localhost:5000/runtime@${DIGEST}`, IMAGE, GPU_IMAGE])('%s is accepted', (ref) => {
    expect(() => checkImageRef(ref, '--image')).not.toThrow();
  });

  test.each<[string, string, string]>([
    ['--image', 'us-docker.pkg.dev/p/mlp/runtime', '--image "us-docker.pkg.dev/p/mlp/runtime" names no tag or digest, so pods would run whatever :latest is when they start: pin a digest (REPOSITORY@sha256:<64 hex digits>) or at least the commit\'s tag'],
    ['--image', 'runtime:latest', '--image "runtime:latest" is tagged latest, so pods would run whatever :latest is when they start: pin a digest (REPOSITORY@sha256:<64 hex digits>) or at least the commit\'s tag'],
    ['--image', 'runtime@sha256:abc123', '--image "runtime@sha256:abc123": the digest after @ must be sha256: and 64 lowercase hex digits, got "sha256:abc123"'],
    ['--gpu-image', `runtime@${DIGEST.toUpperCase()}`, `--gpu-image "runtime@${DIGEST.toUpperCase()}": the digest after @ must be sha256: and 64 lowercase hex digits, got "${DIGEST.toUpperCase()}"`],
    ['--gpu-image', `runtime@md5:${'0'.repeat(32)}`, `--gpu-image "runtime@md5:${'0'.repeat(32)}": the digest after @ must be sha256: and 64 lowercase hex digits, got "md5:${'0'.repeat(32)}"`],
    ['--image', 'My Runtime:1', '--image "My Runtime:1" is not an image reference REPOSITORY:TAG or REPOSITORY@sha256:DIGEST, e.g. us-docker.pkg.dev/PROJECT/mlp/runtime@sha256:<64 hex digits>'],
  ])('mlp compile refuses %s %s in one line and writes nothing', async (flag, ref, message) => {
    const images = flag === '--image' ? ['--image', ref] : ['--image', IMAGE, '--gpu-image', ref];
    for (const target of [['--target', 'argo', ...ROOT], ['--target', 'kfp'], ['--target', 'airflow', ...ROOT]]) {
      const out = path.join(dir, `refused-${target[1]}.json`);
      const { error } = await compileCli('spine-demo', ...images, ...target, '--out', out);
      expect(error).toEqual(new UserError(message));
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});
