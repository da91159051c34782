// Container component steps on Argo and Airflow (runtime/compilers/container-step.ts): the init container that
// copies the runtime into a shared volume, the main container in the component's own image running the copied
// `mlp component run ... --container-spec`, GPU placement and env. End to end: the exact command line and env
// the Argo compiler wrote for each main container run here — /mlp/bin/node as this Node, /mlp/app as this
// checkout, the metadata store a local SQLite file, the placeholders Argo fills filled in as it would — with
// Python components on the test venv's python: the artifacts are published with their commit marker, the output
// parameter and lineage are recorded, and a second run is cached. The Airflow pods run the same command line.

import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { compileAirflow } from '../../../runtime/compilers/airflow';
import { compileArgo, type ArgoOptions } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { containerComponent } from '../../../runtime/components/container';
import { GenericArtifact } from '../../../runtime/core/artifact-types';
import { UserError } from '../../../runtime/core/errors';
import { openMetadataStore } from '../../../runtime/metadata';
import { ArtifactState, EventType, ExecutionState } from '../../../runtime/metadata/types';
import { COMMIT_MARKER } from '../../../runtime/storage/types';
import { expectOneLineError, REPO_ROOT, runCli } from '../../support/cli';
import { testPython } from '../../support/python';
import { mixed, Trainer } from './fixtures';
import { argoSubstitute } from './argo-substitution';
import { expand, mappingFuncFor } from '../../support/k8s-expansion';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const python = testPython();

const MAKE_PY = `
import json, os, sys
n, out, total = int(sys.argv[1]), sys.argv[2], sys.argv[3]
assert os.environ["GREETING"] == "hi", "the component's env reaches its command"
os.makedirs(out)
with open(os.path.join(out, "numbers.json"), "w") as f:
    json.dump(list(range(n)), f)
os.makedirs(os.path.dirname(total), exist_ok=True)
with open(total, "w") as f:
    f.write(str(sum(range(n))))
`;
const DOUBLE_PY = `
import json, os, sys
src, out = sys.argv[1], sys.argv[2]
with open(os.path.join(src, "numbers.json")) as f:
    numbers = json.load(f)
os.makedirs(out)
with open(os.path.join(out, "doubled.json"), "w") as f:
    json.dump([2 * x for x in numbers], f)
`;

const Make = containerComponent({
  name: 'WrapperMake',
  image: 'python:3.12-slim',
  command: [python, '-c', MAKE_PY],
  args: ["{{$.inputs.parameters['n']}}", "{{$.outputs.artifacts['data'].path}}", "{{$.outputs.parameters['total'].output_file}}"],
  parameters: z.object({ n: z.number().int() }),
  outputs: { data: { type: GenericArtifact } },
  outputParameters: { total: 'NUMBER_INTEGER' },
  env: { GREETING: 'hi' },
});
const Double = containerComponent({
  name: 'WrapperDouble',
  image: 'python:3.12-slim',
  command: [python, '-c', DOUBLE_PY, "{{$.inputs.artifacts['data'].path}}", "{{$.outputs.artifacts['doubled'].path}}"],
  inputs: { data: { type: GenericArtifact } },
  outputs: { doubled: { type: GenericArtifact } },
});

/** make (container, n from the pipeline parameter) → double (container, reads make's output). */
function wrapperDemo(): Pipeline {
  const p = new Pipeline({ name: 'wrapper-demo', parameters: z.object({ n: z.number().int().default(4) }) });
  const made = p.add('make', Make, { parameters: { n: p.param('n') } });
  p.add('double', Double, { inputs: { data: made.outputs.data } });
  return p;
}

const CLOUD: Partial<ArgoOptions> = { cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam', metadataDatabase: 'mlmd' };
const template = (wf: Json, name: string): Json => wf.spec.templates.find((t: Json) => t.name === name);

/** Runs argv with env (only), resolving with the exit code and stderr. */
function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * Runs the compiled Argo workflow's steps in DAG order as their pods would: each main container's command, args
 * and env as written, with Argo's placeholders filled in (run id, parameter values, producers' ExecutorOutputs)
 * and the wrapper's paths (/mlp/bin/node, /mlp/app) mapped onto this Node and checkout. Returns the ExecutorOutputs.
 */
async function runWorkflow(wf: Json, runId: string, work: string, metadata: string): Promise<Map<string, Json>> {
  const values = new Map<string, string>(wf.spec.arguments.parameters.map((p: Json) => [p.name, p.value]));
  const outputs = new Map<string, Json>();
  for (const task of template(wf, 'pipeline').dag.tasks) {
    const t = template(wf, task.template);
    const outputFile = path.join(work, `${runId}-${task.name}.executor-output.json`);
    // The DAG task's arguments (producers' ExecutorOutputs, substituted from the DAG's scope) become the template's input parameters.
    const scope = Object.fromEntries([...outputs].map(([p, o]) => [`tasks.${p}.outputs.parameters.executor-output`, JSON.stringify(o)]));
    const inputs = new Map<string, string>((task.arguments?.parameters ?? []).map((a: Json) => [a.name, argoSubstitute(a.value, scope)]));
    // Argo fills the template in, then the kubelet expands the pod's args.
    const vars = {
      'workflow.uid': runId,
      ...Object.fromEntries([...values].map(([k, v]) => [`workflow.parameters.${k}`, v])),
      ...Object.fromEntries([...inputs].map(([k, v]) => [`inputs.parameters.${k}`, v])),
    };
    const args = t.container.args.map((a: string) => expand(argoSubstitute(a, vars), mappingFuncFor({})).replace('/tmp/mlp/executor-output.json', outputFile));
    const mapPath = (p: string) => (p === '/mlp/bin/node' ? process.execPath : p.replace(/^\/mlp\/app\//, `${REPO_ROOT}/`));
    const env = Object.fromEntries(t.container.env.map((e: Json) => [e.name, e.name === 'MLP_METADATA' ? metadata : mapPath(e.value)]));
    const r = await run([...t.container.command.map(mapPath), ...args], { PATH: process.env.PATH, HOME: os.tmpdir(), ...env });
    if (r.code !== 0) throw new Error(`step ${task.name} exited with ${r.code}: ${r.stderr}`);
    outputs.set(task.name, JSON.parse(fs.readFileSync(outputFile, 'utf8')));
  }
  return outputs;
}

describe('Argo: container component steps through the step wrapper', () => {
  test('init container copies the runtime into the shared volume; the main container runs it in the component image, with GPU placement, env and the service account', () => {
    const wf = compileArgo(compilePlan(mixed(), 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root', serviceAccount: 'mlp-runner', ...CLOUD }) as Json;
    expect(wf.spec.serviceAccountName).toBe('mlp-runner');
    const trainer = template(wf, 'trainer');
    expect(trainer.volumes).toEqual([{ name: 'mlp-runtime', emptyDir: {} }]);
    expect(trainer.initContainers).toEqual([
      {
        name: 'mlp-runtime',
        image: 'img:1',
        // $ doubled for the kubelet's expansion, which hands sh `cp "$(command -v node)" ...`.
        command: ['sh', '-c', 'set -e; mkdir -p /mlp/bin; cp "$$(command -v node)" /mlp/bin/node; cp -R /opt/mlp /mlp/app'],
        volumeMounts: [{ name: 'mlp-runtime', mountPath: '/mlp' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
      },
    ]);
    expect(trainer.container.image).toBe(Trainer.container.image);
    expect(trainer.container.command).toEqual(['/mlp/bin/node', '/mlp/app/runtime/cli/mlp.js', 'component', 'run', 'TorchTrainer', '--executor-input']);
    expect(trainer.container.args.slice(1, 2)).toEqual(['--container-spec']);
    expect(trainer.container.args.slice(3)).toEqual(['--pipeline', 'byo-trainer', '--run-id', '{{workflow.uid}}', '--node', 'trainer']);
    const spec = JSON.parse(Buffer.from(trainer.container.args[2].replace(/^base64:/, ''), 'base64').toString('utf8'));
    expect(spec).toMatchObject({ name: 'TorchTrainer', image: Trainer.container.image, command: ['python3', '-m', 'trainer'], inputs: { examples: { type: 'Examples' } }, outputs: { model: { type: 'Model' } } });
    expect(trainer.container.volumeMounts).toEqual([{ name: 'mlp-runtime', mountPath: '/mlp' }]);
    expect(trainer.container.env.map((e: Json) => e.name)).toEqual(['PYTHONUNBUFFERED', 'NODE_PATH', 'NODE_ENV', 'MLP_LOCAL_EXEC', 'MLP_PIPELINE_ROOT', 'MLP_METADATA']);
    expect(trainer.container.env.find((e: Json) => e.name === 'MLP_LOCAL_EXEC').value).toBe('subprocess');
    expect(trainer.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(trainer.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(trainer.container.resources).toEqual({ requests: { cpu: '4', memory: '16Gi' }, limits: { memory: '16Gi', 'nvidia.com/gpu': '1' } });
    expect(trainer.sidecars.map((s: Json) => s.name)).toEqual(['cloud-sql-proxy']);
    // A bundled step stays as it was.
    expect(template(wf, 'example-gen').container.command).toEqual(['mlp', 'component', 'run', 'ExampleGen', '--executor-input']);
    expect(template(wf, 'example-gen').initContainers).toBeUndefined();
  });

  test('the workflow with container steps passes the Argo Workflows models (@kubernetes-models/argo-workflows)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-wrapper-argo-'));
    try {
      const files = [
        [compileArgo(compilePlan(mixed(), 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root', ...CLOUD }), 'template.json'],
        [compileArgo(compilePlan(wrapperDemo(), 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root', schedule: '0 3 * * *' }), 'cron.json'],
      ].map(([wf, name]) => {
        const file = path.join(dir, name as string);
        fs.writeFileSync(file, JSON.stringify(wf));
        return file;
      });
      const results = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'validate-argo.mjs'), ...files], { encoding: 'utf8' }));
      expect(results).toEqual([null, null]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the command line the compiler wrote runs: placeholders resolved, artifacts published with their commit marker, output parameter and lineage recorded, a rerun cached', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-wrapper-run-'));
    try {
      const root = path.join(work, 'root');
      const metadata = `sqlite:${path.join(work, 'metadata.sqlite')}`;
      const wf = compileArgo(compilePlan(wrapperDemo(), 'argo'), { image: 'img:1', pipelineRoot: root, ...CLOUD }) as Json;
      expect(template(wf, 'make').container.image).toBe('python:3.12-slim');

      const first = await runWorkflow(wf, 'run-1', work, metadata);
      const made = first.get('make')!;
      const dataDir = path.join(root, 'wrapper-demo', 'make', 'data', 'run-1');
      expect(made.artifacts.data.artifacts[0].uri).toBe(dataDir);
      expect(made.parameterValues).toEqual({ total: 6 });
      const doubledDir = path.join(root, 'wrapper-demo', 'double', 'doubled', 'run-1');
      expect(first.get('double')!.artifacts.doubled.artifacts[0].uri).toBe(doubledDir);
      // The command made a folder at the KFP path: its files are the artifact, committed by the publisher.
      expect(JSON.parse(fs.readFileSync(path.join(doubledDir, 'doubled.json'), 'utf8'))).toEqual([0, 2, 4, 6]);
      for (const dir of [dataDir, doubledDir]) expect(fs.existsSync(path.join(dir, COMMIT_MARKER))).toBe(true);

      const second = await runWorkflow(wf, 'run-2', work, metadata);
      // Cached: the steps hand on the first run's artifacts.
      expect(second.get('double')!.artifacts.doubled.artifacts[0].uri).toBe(doubledDir);

      const store = await openMetadataStore(metadata);
      try {
        const states = async (type: string) => (await store.getExecutions({ type })).map((e) => ExecutionState[e.lastKnownState]);
        expect(await states('WrapperMake')).toEqual(['COMPLETE', 'CACHED']);
        expect(await states('WrapperDouble')).toEqual(['COMPLETE', 'CACHED']);
        const [makeRun] = await store.getExecutions({ type: 'WrapperMake', state: ExecutionState.COMPLETE });
        const [doubleRun] = await store.getExecutions({ type: 'WrapperDouble', state: ExecutionState.COMPLETE });
        const [data] = await store.getArtifacts({ uri: dataDir, state: ArtifactState.LIVE });
        expect(data).toBeDefined();
        const events = await store.getEvents({ artifactIds: [data.id!] });
        // The make execution that wrote it, and the cached one of the second run that handed it on.
        const makes = (await store.getExecutions({ type: 'WrapperMake' })).map((e) => e.id);
        expect(makes).toContain(makeRun.id);
        expect(events.filter((e) => e.type === EventType.OUTPUT).map((e) => e.executionId).sort()).toEqual([...makes].sort());
        expect(events.filter((e) => e.type === EventType.INPUT).map((e) => e.executionId)).toContain(doubleRun.id);
        expect(JSON.stringify(makeRun.customProperties)).toContain('total');
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('Airflow: container component pods through the step wrapper', () => {
  test('the pod runs the same wrapper command line as the Argo step, with the init container, volume and mount', () => {
    const plan = () => compilePlan(wrapperDemo(), 'airflow');
    const dag = compileAirflow(plan(), { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600, cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam' });
    const argo = template(compileArgo(compilePlan(wrapperDemo(), 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root', ...CLOUD }) as Json, 'make');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-wrapper-airflow-'));
    try {
      const file = path.join(dir, 'wrapper_demo.py');
      fs.writeFileSync(file, dag);
      execFileSync('python3', ['-m', 'py_compile', file], { stdio: 'pipe' });
      const [built] = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), file], { encoding: 'utf8' }));
      const make = built.tasks.find((t: Json) => t.kwargs.task_id === 'make').kwargs;
      expect(make.image).toBe('python:3.12-slim');
      expect(make.cmds).toEqual(argo.container.command);
      // The same spec; the ExecutorInput in Jinja instead of Argo's placeholders.
      expect(make.arguments.slice(1)).toEqual(argo.container.args.slice(1).map((a: string) => a.replace('{{workflow.uid}}', 'wrapper-demo:{{ run_id }}')));
      expect(make.env_vars).toMatchObject({ GREETING: 'hi', NODE_PATH: '/mlp/app/node_modules', MLP_LOCAL_EXEC: 'subprocess', MLP_PIPELINE_ROOT: 'gs://b/root' });
      expect(make.volumes).toEqual([{ V1Volume: { name: 'mlp-runtime', empty_dir: { V1EmptyDirVolumeSource: {} } } }]);
      expect(make.volume_mounts).toEqual([{ V1VolumeMount: { name: 'mlp-runtime', mount_path: '/mlp' } }]);
      // The runtime is copied first, then the Cloud SQL proxy starts as a native sidecar.
      expect(make.init_containers.map((c: Json) => c.V1Container.name)).toEqual(['mlp-runtime', 'cloud-sql-proxy']);
      expect(make.init_containers[0].V1Container).toEqual({
        name: 'mlp-runtime',
        image: 'img:1',
        // $ doubled for the kubelet's expansion, which hands sh `cp "$(command -v node)" ...`.
        command: ['sh', '-c', 'set -e; mkdir -p /mlp/bin; cp "$$(command -v node)" /mlp/bin/node; cp -R /opt/mlp /mlp/app'],
        volume_mounts: [{ V1VolumeMount: { name: 'mlp-runtime', mount_path: '/mlp' } }],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('GPU container nodes run on the GKE cluster in their own image', () => {
    const dag = compileAirflow(compilePlan(mixed(), 'airflow'), { image: 'img:1', gpuImage: 'img-gpu:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600, gkeCluster: 'p/l/c', namespace: 'mlp', serviceAccount: 'mlp-runner' });
    expect(dag).toContain(`    trainer_task = GKEStartPodOperator(`);
    expect(dag).toContain(`        image=${JSON.stringify(Trainer.container.image)},`);
    expect(dag).toContain('        service_account_name="mlp-runner",');
    expect(dag).toContain(`        node_selector={"cloud.google.com/gke-accelerator": "nvidia-l4"},`);
    // No bundled node needs the GPU image, so it is not defined.
    expect(dag).not.toContain('GPU_IMAGE');
  });
});

describe('refused at compile time, in one line', () => {
  test('a container component env variable the wrapper sets itself', () => {
    const p = new Pipeline({ name: 'clash' });
    p.add('x', containerComponent({ name: 'EnvClash', image: 'python:3.12-slim', command: ['python3'], env: { NODE_PATH: '/x' } }));
    expect(() => compileArgo(compilePlan(p, 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root' })).toThrow(
      new UserError('node x: container component EnvClash sets env NODE_PATH, which its step wrapper sets itself (NODE_PATH, NODE_ENV, MLP_LOCAL_EXEC, MLP_PIPELINE_ROOT, MLP_METADATA, PGPASSWORD); rename it'),
    );
  });

  test('a distributed container step is not one pod: Argo creates a JobSet for it (argo-jobset.test.ts)', () => {
    const p = new Pipeline({ name: 'ddp' });
    p.add('train', containerComponent({ name: 'WrapperDdp', image: 'python:3.12-slim', command: ['python3', 'train.py'], distribution: { workers: 2 } }));
    const train = template(compileArgo(compilePlan(p, 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root' }) as Json, 'train-jobset');
    expect(train.container).toBeUndefined();
    expect(train.resource.manifest).toMatch(/^kind: JobSet$/m);
  });

  test('a TASK_FINAL_STATUS parameter (only exit tasks take one)', () => {
    const p = new Pipeline({ name: 'notify' });
    p.add('notify', containerComponent({
      name: 'WrapperNotify',
      image: 'python:3.12-slim',
      command: ['python3', 'notify.py', "{{$.inputs.parameters['status']}}"],
      parameters: z.object({ status: z.record(z.string(), z.unknown()).optional() }),
      parameterTypes: { status: 'TASK_FINAL_STATUS' },
    }));
    expect(() => compileAirflow(compilePlan(p, 'airflow'), { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600 })).toThrow(
      new UserError('node notify: parameter "status" of container component WrapperNotify is a TASK_FINAL_STATUS, which only an exit task takes; the airflow compiler does not make nodes exit tasks'),
    );
  });
});

describe('mlp component run --container-spec: a bad spec is one line', () => {
  const spec = (overrides: Json = {}) => `base64:${Buffer.from(JSON.stringify({ name: 'WrapperCli', image: 'i:1', command: ['true'], args: [], env: {}, outputParameters: {}, parameterTypes: {}, inputs: {}, outputs: {}, parameters: {}, ...overrides })).toString('base64')}`;
  const input = JSON.stringify({ inputs: {}, outputs: { artifacts: {}, outputFile: path.join(os.tmpdir(), `mlp-wrapper-cli-${process.pid}.json`) } });

  test('a spec of another component', async () => {
    expectOneLineError(await runCli(['component', 'run', 'Other', '--executor-input', input, '--container-spec', spec()]), /--container-spec describes container component WrapperCli, not Other/);
  });

  test('a spec missing its image', async () => {
    expectOneLineError(await runCli(['component', 'run', 'WrapperCli', '--executor-input', input, '--container-spec', spec({ image: undefined })]), /--container-spec is not a container step spec: image: /);
  });

  test('an artifact type the pod does not know', async () => {
    expectOneLineError(
      await runCli(['component', 'run', 'WrapperCli', '--executor-input', input, '--container-spec', spec({ outputs: { x: { type: 'Mystery' } } })]),
      /--container-spec: port "x" has artifact type Mystery, which is not a standard artifact type/,
    );
  });

  test('not JSON', async () => {
    expectOneLineError(await runCli(['component', 'run', 'WrapperCli', '--executor-input', input, '--container-spec', 'base64:bm90IGpzb24=']), /--container-spec is not valid JSON/);
  });
});
