// Golden files: every bundled pipeline compiled for each target must match what is committed under golden/,
// so any change to the emitted output is seen in review. After an intended change, regenerate them with
// `MLP_UPDATE_GOLDEN=1 npx jest test/runtime/compilers/golden.test.ts` and read the diff.
//
// Each golden is also validated offline: Argo manifests with @kubernetes-models/argo-workflows (the models
// generated from Argo's API types, run as an ES module in a child process) plus the references between DAG
// tasks, templates and parameters; KFP specs with the IR structure check; Airflow DAGs with
// `python3 -m py_compile` and by executing them against stand-in Airflow modules.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadPipeline } from '../../../pipelines';
import { KFP_SYSTEM_TITLES } from '../../../runtime/compilers/kfp-artifact-types';
import { argoModelErrors, argoReferenceProblems, compileCli, structuralProblems } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const GOLDEN = path.join(__dirname, 'golden');
const ROOT = ['--pipeline-root', 'gs://my-project-pipelines/root'];
const TAGGED = ['--image', 'us-docker.pkg.dev/my-project/mlp/runtime:abc123', '--gpu-image', 'us-docker.pkg.dev/my-project/mlp/runtime-gpu:abc123'];
// flights' cases pin the images by digest, as production should (tags are mutable): written into every step as given.
const IMAGE_DIGEST = `us-docker.pkg.dev/my-project/mlp/runtime@sha256:${'a1'.repeat(32)}`;
const GPU_IMAGE_DIGEST = `us-docker.pkg.dev/my-project/mlp/runtime-gpu@sha256:${'b2'.repeat(32)}`;
const PINNED = ['--image', IMAGE_DIGEST, '--gpu-image', GPU_IMAGE_DIGEST];
const CLOUD_SQL = ['--cloudsql-instance', 'my-project:us-central1:mlmd', '--metadata-user', 'mlp-runner@my-project.iam'];
const ARGO = ['--target', 'argo', '--service-account', 'mlp-runner', '--deadline', '7200', ...CLOUD_SQL];
// No password: the job's service account logs in as its IAM database user (the password is refused).
const KFP_METADATA = ['--metadata-address', 'postgres://mlp-runner%40my-project.iam@10.20.0.3:5432/mlmd?uselibpqcompat=true&sslmode=require'];
const AIRFLOW = ['--target', 'airflow', ...CLOUD_SQL];
const GKE = ['--gke-cluster', 'my-project/us-central1/mlp-gpu', '--namespace', 'mlp', '--service-account', 'mlp-runner'];

const CASES: [file: string, pipeline: string, args: string[]][] = [
  ['spine-demo.argo.json', 'spine-demo', ARGO],
  ['spine-demo.kfp.json', 'spine-demo', ['--target', 'kfp']],
  ['spine-demo.vertex-job.json', 'spine-demo', ['--target', 'kfp', '--vertex-job', '--param', 'count=500']],
  ['spine-demo.airflow.py', 'spine-demo', ['--target', 'airflow', '--schedule', '0 3 * * *']],
  // Required parameters without defaults: a WorkflowTemplate submitted with their values (a schedule is refused).
  ['data-validation.argo.json', 'data-validation', ARGO],
  ['data-validation.kfp.json', 'data-validation', ['--target', 'kfp', ...KFP_METADATA]],
  // Required parameters without defaults: triggered runs only (a schedule is refused).
  ['data-validation.airflow.py', 'data-validation', AIRFLOW],
  // The password from a secret instead of IAM: a Kubernetes Secret key (Argo, Composer), a Secret Manager version (Vertex).
  ['data-validation-password-secret.argo.json', 'data-validation', [...ARGO, '--metadata-password-secret', 'mlmd-password:password']],
  ['data-validation-password-secret.kfp.json', 'data-validation', ['--target', 'kfp', ...KFP_METADATA, '--metadata-password-secret', 'projects/my-project/secrets/mlmd-password/versions/2']],
  ['data-validation-password-secret.airflow.py', 'data-validation', [...AIRFLOW, '--metadata-password-secret', 'mlmd-password:password']],
  ['penguins.argo.json', 'penguins', ARGO],
  ['penguins.kfp.json', 'penguins', ['--target', 'kfp', ...KFP_METADATA]],
  ['penguins.airflow.py', 'penguins', AIRFLOW],
  // A CronWorkflow with an optional parameter without a default (span: value null, which the steps read as not given).
  ['flights.argo.json', 'flights', [...ARGO, '--gpu', 'trainer=nvidia-l4', '--schedule', '0 3 * * *']],
  [
    'flights.vertex-job.json',
    'flights',
    ['--target', 'kfp', '--vertex-job', ...KFP_METADATA, '--gpu', 'trainer=nvidia-l4', '--param', 'span=3', '--service-account', 'mlp-runner@my-project.iam.gserviceaccount.com', '--network', 'projects/123/global/networks/mlp'],
  ],
  // Scheduled with an optional parameter without a default (span: Param(None, type=["integer", "null"])).
  ['flights.airflow.py', 'flights', [...AIRFLOW, '--gpu', 'trainer=nvidia-l4', ...GKE, '--schedule', '0 3 * * *']],
];

const outputs = new Map<string, string>();

beforeAll(async () => {
  for (const [file, pipeline, args] of CASES) {
    const { stdout, error } = await compileCli(pipeline, ...ROOT, ...(pipeline === 'flights' ? PINNED : TAGGED), ...args);
    if (error) throw new Error(`${file}: ${error.message}`);
    outputs.set(file, stdout);
    if (process.env.MLP_UPDATE_GOLDEN === '1') fs.writeFileSync(path.join(GOLDEN, file), stdout);
  }
});

const byTarget = (suffix: string) => CASES.filter(([file]) => file.endsWith(suffix));
const json = (file: string): Json => JSON.parse(outputs.get(file)!);

test.each(CASES.map(([file]) => file))('%s matches its golden file', (file) => {
  expect(outputs.get(file)).toBe(fs.readFileSync(path.join(GOLDEN, file), 'utf8'));
});

// KFP's system types only (KFP SDK 2.15), TFX's titles on KFP for the rest: in the IR and in every step's ExecutorInput.
test.each(CASES.map(([file]) => file))('%s: every artifact schemaTitle is a KFP system type or a tfx.* title, at version 0.0.1', (file) => {
  const text = outputs.get(file)!;
  const titles = [...text.matchAll(/schemaTitle\\?":\s*\\?"([^"\\]*)/g)].map((m) => m[1]);
  expect(titles.length).toBeGreaterThan(0);
  expect(titles.filter((t) => !KFP_SYSTEM_TITLES.includes(t) && !/^tfx\.[A-Z]\w+$/.test(t))).toEqual([]);
  const versions = [...text.matchAll(/schemaVersion\\?":\s*\\?"([^"\\]*)/g)].map((m) => m[1]);
  // The IR's own schemaVersion (2.1.0) besides one per artifact type.
  expect(versions.filter((v) => v !== '0.0.1' && v !== '2.1.0')).toEqual([]);
  expect(versions.filter((v) => v === '0.0.1')).toHaveLength(titles.length);
});

describe('Argo goldens', () => {
  test('pass the Argo Workflows models (@kubernetes-models/argo-workflows)', () => {
    const files = byTarget('.argo.json').map(([file]) => path.join(GOLDEN, file));
    const results = argoModelErrors(files);
    expect(Object.fromEntries(files.map((f, i) => [path.basename(f), results[i]]))).toEqual(Object.fromEntries(files.map((f) => [path.basename(f), null])));
  });

  test('the models catch a wrong type and a missing required field (the check is real)', () => {
    const wf = json('spine-demo.argo.json');
    wf.spec.templates[1].retryStrategy = { limit: { times: 2 } };
    delete wf.spec.templates[2].container.image;
    delete wf.spec.templates[3].container.name;
    const file = path.join(GOLDEN, '..', `broken-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(wf));
    try {
      const [error] = argoModelErrors([file]);
      expect(error).toContain('data/spec/templates/1/retryStrategy/limit must be string');
      expect(error).toContain('data/spec/templates/3/container must have required property name');
    } finally {
      fs.rmSync(file);
    }
  });

  test.each(byTarget('.argo.json').map(([file]) => file))('%s: tasks, templates and parameters reference each other', (file) => {
    expect(argoReferenceProblems(json(file))).toEqual([]);
  });

  test('penguins: the Tuner fans out in rounds of parallel trial pods, then collects under its own name', () => {
    const spec = json('penguins.argo.json').spec;
    const dag = spec.templates.find((t: Json) => t.name === 'pipeline').dag.tasks as Json[];
    expect(dag.filter((t) => t.name.startsWith('tuner')).map((t) => `${t.name} <- ${t.depends}`)).toEqual([
      'tuner-suggest-1 <- example-gen && transform && schema-gen',
      'tuner-round-1 <- tuner-suggest-1',
      'tuner-suggest-2 <- tuner-round-1',
      'tuner-round-2 <- tuner-suggest-2',
      'tuner <- tuner-round-2',
    ]);
    expect(dag.find((t) => t.name === 'trainer')!.depends).toContain('tuner');
    const round = spec.templates.find((t: Json) => t.name === 'tuner-round');
    expect(round.parallelism).toBe(2);
    expect(round.dag.tasks[0]).toMatchObject({ template: 'tuner-trial', withParam: '{{inputs.parameters.trials}}', continueOn: { failed: true } });
    const phase = (name: string) => spec.templates.find((t: Json) => t.name === name).container.command.slice(0, 4).join(' ');
    expect([phase('tuner-suggest'), phase('tuner-trial'), phase('tuner')]).toEqual(['mlp component tuner suggest', 'mlp component tuner trial', 'mlp component tuner collect']);
    // Trials need no metadata store; suggest (cache check) and collect (the Tuner's execution) do.
    expect(spec.templates.find((t: Json) => t.name === 'tuner-trial').sidecars).toBeUndefined();
    expect(spec.templates.find((t: Json) => t.name === 'tuner').sidecars).toHaveLength(1);
  });

  test('flights: the trainer asked for a GPU gets the GKE accelerator selector, toleration and limit; resolvers are steps', () => {
    const spec = json('flights.argo.json').spec.workflowSpec;
    const trainer = spec.templates.find((t: Json) => t.name === 'trainer');
    expect(trainer.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(trainer.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(trainer.container.resources).toEqual({ limits: { 'nvidia.com/gpu': '1' } });
    expect(trainer.container.image).toBe(GPU_IMAGE_DIGEST);
    expect(spec.templates.find((t: Json) => t.name === 'evaluator').container.image).toBe(IMAGE_DIGEST);
    for (const name of ['previous-statistics', 'warm-start-model', 'latest-blessed-model']) {
      expect(spec.templates.find((t: Json) => t.name === name).container.command).toEqual(['mlp', 'component', 'run', 'mlp.Resolver', '--executor-input']);
    }
    expect(spec.templates.find((t: Json) => t.name === 'schema').container.args[0]).toContain('"schema_file":"/opt/mlp/pipelines/examples/flights-schema.json"');
    // Its Tuner's two trials run as parallel pods in one round.
    const round = spec.templates.find((t: Json) => t.name === 'tuner-round');
    expect(round.parallelism).toBe(2);
    expect(round.dag.tasks[0]).toMatchObject({ template: 'tuner-trial', withParam: '{{inputs.parameters.trials}}' });
  });
});

describe('how steps log in to the metadata database (never with a password in the output)', () => {
  const SECRET_ENV = { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'mlmd-password', key: 'password' } } };
  const metadataTemplates = (file: string): Json[] => json(file).spec.workflowSpec?.templates ?? json(file).spec.templates;

  test('Argo: the proxy logs in by IAM by default; with a Secret key, PGPASSWORD comes from it and the proxy does not', () => {
    for (const [file, secret] of [['data-validation.argo.json', false], ['data-validation-password-secret.argo.json', true]] as const) {
      const steps = metadataTemplates(file).filter((t) => t.container?.env?.some((e: Json) => e.name === 'MLP_METADATA'));
      expect(steps.length).toBeGreaterThan(0);
      for (const t of steps) {
        expect(t.container.env.find((e: Json) => e.name === 'MLP_METADATA').value).toBe('postgres://mlp-runner%40my-project.iam@127.0.0.1:5432/mlmd');
        expect(t.container.env.filter((e: Json) => e.name === 'PGPASSWORD')).toEqual(secret ? [SECRET_ENV] : []);
        expect(t.sidecars[0].args.includes('--auto-iam-authn')).toBe(!secret);
      }
    }
  });

  test('Vertex: IAM login (an access token) by default, a Secret Manager version when named', () => {
    for (const [file, auth] of [['data-validation.kfp.json', 'gcp-iam'], ['data-validation-password-secret.kfp.json', 'secret-manager:projects/my-project/secrets/mlmd-password/versions/2']]) {
      const containers = Object.values<Json>(json(file).deploymentSpec.executors).map((e) => e.container).filter((c) => c.env);
      expect(containers.length).toBeGreaterThan(0);
      for (const c of containers) expect(c.env).toEqual([{ name: 'MLP_METADATA', value: KFP_METADATA[1] }, { name: 'MLP_METADATA_AUTH', value: auth }]);
    }
  });

  test('Composer: the pods\' PGPASSWORD comes from the Secret key when named (executed against stand-in Airflow modules)', () => {
    const files = ['data-validation.airflow.py', 'data-validation-password-secret.airflow.py'];
    const built = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), ...files.map((f) => path.join(GOLDEN, f))], { encoding: 'utf8' })) as { tasks: Json[] }[];
    built.forEach(({ tasks }, i) => {
      const secret = i === 1;
      const steps = tasks.filter((t) => t.kwargs.env_vars?.MLP_METADATA);
      expect(steps.length).toBeGreaterThan(0);
      for (const t of steps) {
        expect(t.kwargs.secrets).toEqual(secret ? [{ Secret: { deploy_type: 'env', deploy_target: 'PGPASSWORD', secret: 'mlmd-password', key: 'password' } }] : undefined);
        expect(t.kwargs.init_containers[0].V1Container.args.includes('--auto-iam-authn')).toBe(!secret);
      }
    });
  });
});

describe('KFP goldens', () => {
  test.each(byTarget('.kfp.json').concat(byTarget('.vertex-job.json')).map(([file, pipeline]) => [file, pipeline]))('%s: every reference in the IR resolves', (file, pipeline) => {
    const doc = json(file);
    const spec = doc.pipelineSpec ?? doc;
    expect(spec.schemaVersion).toBe('2.1.0');
    expect(structuralProblems(spec, loadPipeline(pipeline).pipeline)).toEqual([]);
  });

  test('flights as a Vertex AI PipelineJob: GPU trainer on the GPU image by digest, parameters, network and service account', () => {
    const job = json('flights.vertex-job.json');
    const images = new Set(Object.values<Json>(job.pipelineSpec.deploymentSpec.executors).map((e) => e.container.image));
    expect(images).toEqual(new Set([IMAGE_DIGEST, GPU_IMAGE_DIGEST]));
    expect(job.pipelineSpec.deploymentSpec.executors['exec-trainer'].container.image).toBe(GPU_IMAGE_DIGEST);
    expect(job.pipelineSpec.deploymentSpec.executors['exec-trainer'].container.resources).toEqual({ accelerator: { type: 'NVIDIA_L4', count: '1', resourceType: 'NVIDIA_L4', resourceCount: '1' } });
    expect(job).toMatchObject({ runtimeConfig: { parameterValues: { span: 3 } }, network: 'projects/123/global/networks/mlp', serviceAccount: 'mlp-runner@my-project.iam.gserviceaccount.com' });
  });
});

describe('Airflow goldens', () => {
  const files = byTarget('.airflow.py').map(([file]) => path.join(GOLDEN, file));

  test('pass python3 -m py_compile', () => {
    // Byte code goes to a temp folder, not next to the goldens.
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-pycache-'));
    try {
      execFileSync('python3', ['-m', 'py_compile', ...files], { stdio: 'pipe', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  test('build one operator per node with the pipeline\'s dependencies when executed against stand-in Airflow modules', () => {
    const built = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), ...files], { encoding: 'utf8' })) as { tasks: Json[] }[];
    byTarget('.airflow.py').forEach(([, pipeline], i) => {
      const p = loadPipeline(pipeline).pipeline;
      const pods = built[i].tasks.filter((t) => t.class !== 'ShortCircuitOperator');
      // One pod per node, then the run_finished task after all of them (whatever their states: all_done).
      expect(pods.map((t) => t.kwargs.task_id)).toEqual([...p.validate().map((n) => n.id), 'mlp-run-finished']);
      expect(pods.at(-1)!.kwargs.trigger_rule).toBe('all_done');
      for (const node of p.nodes) {
        const downstream = pods.find((t) => t.kwargs.task_id === node.id)!;
        for (const up of node.upstream()) expect(pods.find((t) => t.kwargs.task_id === up.id)!.downstream).toContain(downstream.kwargs.task_id);
        expect(downstream.downstream).toContain('mlp-run-finished');
      }
    });
    const flights = built[byTarget('.airflow.py').findIndex(([file]) => file.startsWith('flights'))].tasks;
    const trainer = flights.find((t) => t.kwargs.task_id === 'trainer')!;
    expect(trainer.class).toBe('GKEStartPodOperator');
    expect(trainer.kwargs.image).toBe(GPU_IMAGE_DIGEST);
    expect(trainer.kwargs.node_selector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    // The pipeline's namespace and Kubernetes service account, whose Google identity the proxy's IAM login uses.
    expect(trainer.kwargs).toMatchObject({ namespace: 'mlp', service_account_name: 'mlp-runner' });
    expect(trainer.kwargs.init_containers[0].V1Container).toMatchObject({ name: 'cloud-sql-proxy', restart_policy: 'Always' });
    expect(trainer.kwargs.arguments.slice(1)).toEqual(['--pipeline', 'flights', '--run-id', 'flights:{{ run_id }}', '--node', 'trainer']);
  });
});
