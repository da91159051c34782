// Airflow DAG for Cloud Composer: every compiled file passes `python3 -m py_compile`, and executed against
// stand-in Airflow modules (airflow_stub.py) it builds the expected operators, arguments, dependencies and
// gates; the compiled spine-demo pods' ExecutorInputs, rendered as Jinja would, run with the real launcher, and
// so does the last task writing the run_finished line (through the real CLI).

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pipeline as spineDemo } from '../../../pipelines/spine-demo';
import { compileAirflow, py, type AirflowOptions } from '../../../runtime/compilers/airflow';
import { compilePlan } from '../../../runtime/compilers/common';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { ProduceNumbers, SummarizeNumbers } from '../../../runtime/components';
import { z } from 'zod';
import { runCli } from '../../support/cli';
import { dataValidationWithoutResolver, optionsPipeline, runStep } from './fixtures';
import { renderJinja } from './jinja-render';
import { expand, mappingFuncFor } from '../../support/k8s-expansion';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASE: AirflowOptions = { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 1800 };
const compile = (p: Pipeline, opts: Partial<AirflowOptions> = {}): string => compileAirflow(compilePlan(p, 'airflow'), { ...BASE, ...opts });

const ODD_DESCRIPTION = String.raw`says """hi""" \ and \"`;

/** Node ids that are Python keywords or names the file defines, and a description full of quotes and backslashes. */
function oddPipeline(): Pipeline {
  const p = new Pipeline({ name: 'odd', description: ODD_DESCRIPTION });
  const first = p.add('if', ProduceNumbers);
  p.add('dag', SummarizeNumbers, { inputs: { numbers: first.outputs.numbers } });
  return p;
}

/** A parameter that is optional without a default, beside one with a default: a scheduled DAG can run with both. */
function optionalParamsPipeline(): Pipeline {
  const p = new Pipeline({ name: 'optional', parameters: z.object({ seed: z.number().int().optional().describe('Seed'), count: z.number().int().default(5) }) });
  p.add('produce', ProduceNumbers, { parameters: { count: p.param('count'), seed: p.param('seed') } });
  return p;
}

let dir: string;
/** Each compiled file by name, and what it builds (from one run of airflow_stub.py over all of them). */
const files = new Map<string, { file: string; source: string; built: { dag: Json; tasks: Json[] } }>();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-airflow-'));
  const sources: Record<string, string> = {
    spine_demo: compile(spineDemo, { schedule: '0 3 * * *', deadlineSeconds: 7200 }),
    data_validation: compile(dataValidationWithoutResolver()),
    optional_params: compile(optionalParamsPipeline(), { schedule: '@daily' }),
    options: compile(optionsPipeline(), { gkeCluster: 'proj/us-central1/ml-gpu', namespace: 'mlp', serviceAccount: 'mlp-runner' }),
    options_false: compile(optionsPipeline(), { gkeCluster: 'p/l/c', namespace: 'mlp', serviceAccount: 'mlp-runner' }).replace('Param(True, type="boolean")', 'Param(False, type="boolean")'),
    odd: compile(oddPipeline()),
    spine_demo_cloud: compile(spineDemo, { cloudsqlInstance: 'p:r:i', metadataUser: 'sa@p.iam' }),
    spine_demo_local: compile(spineDemo, { pipelineRoot: path.join(dir, 'root') }),
  };
  const written = Object.entries(sources).map(([name, source]) => {
    const file = path.join(dir, `${name}.py`);
    fs.writeFileSync(file, source);
    return { name, file, source };
  });
  const built = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), ...written.map((w) => w.file)], { encoding: 'utf8' }));
  written.forEach((w, i) => files.set(w.name, { file: w.file, source: w.source, built: built[i] }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeBroken(): string {
  const file = path.join(dir, 'broken.py');
  fs.writeFileSync(file, files.get('spine_demo')!.source.replace('with DAG(', 'with DAG(('));
  return file;
}

/** What a compiled file builds when executed against the stand-in modules. */
function load(name: string): { dag: Json; tasks: Json[]; task: (id: string) => Json } {
  const { built } = files.get(name)!;
  return { ...built, task: (id: string) => built.tasks.find((t: Json) => t.kwargs.task_id === id)! };
}

describe('Airflow DAG', () => {
  test('every compiled file passes python3 -m py_compile', () => {
    execFileSync('python3', ['-m', 'py_compile', ...[...files.values()].map((f) => f.file)], { stdio: 'pipe' });
  });

  test('node ids that are Python keywords and a description with quotes and backslashes still make a valid file', () => {
    expect(files.get('odd')!.source.split('\n')[0]).toBe(String.raw`"""odd: says \"\"\"hi\"\"\" \\ and \\"`);
    const { dag, tasks } = load('odd');
    expect(dag.description).toBe(ODD_DESCRIPTION);
    expect(tasks.map((t) => [t.kwargs.task_id, t.downstream])).toEqual([['if', ['dag', 'mlp-run-finished']], ['dag', ['mlp-run-finished']], ['mlp-run-finished', []]]);
  });

  test('py_compile catches a broken file (the check is real)', () => {
    expect(() => execFileSync('python3', ['-m', 'py_compile', writeBroken()], { stdio: 'pipe' })).toThrow();
  });

  test('spine-demo: DAG arguments, one pod per node on Composer, retries, timeouts, dependencies', () => {
    const { dag, tasks, task } = load('spine_demo');
    expect(dag).toEqual({
      dag_id: 'spine-demo',
      description: 'Produces numbers, scales them and summarizes both series.',
      schedule: '0 3 * * *',
      start_date: { 'pendulum.datetime': [2024, 1, 1, { tz: 'UTC' }] },
      catchup: false,
      max_active_runs: 1,
      dagrun_timeout: { seconds: 7200 },
      params: {
        count: { default: 1000, type: 'integer', description: 'How many numbers to produce' },
        factor: { default: 3, type: 'number', description: 'Multiplier applied by the scale node' },
      },
      tags: ['mlp'],
    });
    expect(tasks.map((t) => [t.class, t.kwargs.task_id, t.downstream])).toEqual([
      ['KubernetesPodOperator', 'produce', ['scale', 'summarize-raw', 'mlp-run-finished']],
      ['KubernetesPodOperator', 'scale', ['summarize-scaled', 'mlp-run-finished']],
      ['KubernetesPodOperator', 'summarize-raw', ['mlp-run-finished']],
      ['KubernetesPodOperator', 'summarize-scaled', ['mlp-run-finished']],
      ['KubernetesPodOperator', 'mlp-run-finished', []],
    ]);
    const { arguments: args, ...scale } = task('scale').kwargs;
    expect(scale).toEqual({
      task_id: 'scale',
      name: 'spine-demo-scale',
      namespace: 'composer-user-workloads',
      config_file: '/home/airflow/composer_kube_config',
      kubernetes_conn_id: 'kubernetes_default',
      image: 'img:1',
      cmds: ['mlp', 'component', 'run', 'ScaleNumbers', '--executor-input'],
      env_vars: { MLP_PIPELINE_ROOT: 'gs://b/root' },
      retries: 2,
      retry_delay: { seconds: 1 },
      retry_exponential_backoff: true,
      max_retry_delay: { seconds: 60 },
      execution_timeout: { seconds: 1800 },
      do_xcom_push: true,
      get_logs: true,
      on_finish_action: 'delete_pod',
    });
    expect(args).toHaveLength(1);
    // What Jinja renders at run time reaches the pod with every $ doubled, for the kubelet's $(VAR) expansion to undo.
    expect(args[0]).toContain('"parameterValues":{"factor":{{ params.factor | tojson | replace("$", "$$") }}}');
    expect(args[0]).toContain('"metadata":{{ ti.xcom_pull(task_ids="produce")["artifacts"]["numbers"]["artifacts"][0]["metadata"] | tojson | replace("$", "$$") }}');
    expect(args[0]).toContain('"uri":"gs://b/root/spine-demo/scale/scaled/{{ run_id }}"');
    expect(args[0]).toContain('"outputFile":"/airflow/xcom/return.json"');
    expect(task('produce').kwargs.retries).toBe(0);
  });

  test('GPU/TPU nodes on the GKE cluster, conditions as short-circuit gates', () => {
    const { tasks, task } = load('options');
    expect(tasks.map((t) => [t.class, t.kwargs.task_id, t.downstream])).toEqual([
      ['KubernetesPodOperator', 'produce', ['gpu-scale-when', 'mlp-run-finished']],
      ['ShortCircuitOperator', 'gpu-scale-when', ['gpu-scale']],
      ['GKEStartPodOperator', 'gpu-scale', ['tpu-summary-when', 'mlp-run-finished']],
      ['ShortCircuitOperator', 'tpu-summary-when', ['tpu-summary']],
      ['GKEStartPodOperator', 'tpu-summary', ['mlp-run-finished']],
      ['KubernetesPodOperator', 'mlp-run-finished', []],
    ]);
    // A skipped gate skips only its own node (whose dependents skip in turn by all_success), so the run_finished
    // task, downstream of no gate, still runs.
    expect(task('gpu-scale-when').kwargs.ignore_downstream_trigger_rules).toBe(false);
    expect(task('gpu-scale-when').decision_with_defaults).toBe(true);
    expect(task('tpu-summary-when').decision_with_defaults).toBe(true);
    expect(task('produce').kwargs.namespace).toBe('composer-user-workloads');
    expect(task('gpu-scale').kwargs).toMatchObject({
      project_id: 'proj',
      location: 'us-central1',
      cluster_name: 'ml-gpu',
      namespace: 'mlp',
      service_account_name: 'mlp-runner',
      retries: 3,
      retry_delay: { seconds: 5 },
      max_retry_delay: { seconds: 120 },
      container_resources: { V1ResourceRequirements: { requests: { cpu: '500m', memory: '4Gi' }, limits: { memory: '4Gi', 'nvidia.com/gpu': '2' } } },
      node_selector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
      tolerations: [{ V1Toleration: { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' } }],
    });
    expect(task('gpu-scale').kwargs.config_file).toBeUndefined();
    expect(task('tpu-summary').kwargs).toMatchObject({
      container_resources: { V1ResourceRequirements: { requests: { 'google.com/tpu': '8' }, limits: { 'google.com/tpu': '8' } } },
      node_selector: { 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice', 'cloud.google.com/gke-tpu-topology': '2x4' },
      tolerations: [{ V1Toleration: { key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' } }],
    });
  });

  test("the last task writes MlMonitoring's run_finished line once every node is done, and fails when the run failed", async () => {
    const { task } = load('spine_demo');
    const last = task('mlp-run-finished').kwargs;
    expect(last).toMatchObject({ trigger_rule: 'all_done', retries: 0, image: 'img:1', namespace: 'composer-user-workloads', cmds: ['mlp', 'monitor', 'run-finished'] });
    const status = "{{ 'FAILED' if dag_run.get_task_instances(state=['failed', 'upstream_failed']) else 'COMPLETE' }}";
    expect(last.arguments).toEqual(['--pipeline', 'spine-demo', '--run-id', 'spine-demo:{{ run_id }}', '--status', status, '--started', '{{ dag_run.start_date.isoformat() }}', '--fail-on-failed']);
    // Rendered as Jinja would: the run id, the status expression's value, the DAG run's start (pendulum's isoformat).
    const started = new Date(Date.now() - 5 * 60_000).toISOString().replace('Z', '+00:00');
    const run = (state: string) =>
      runCli([...last.cmds.slice(1), ...last.arguments.map((a: string) => a.replace('{{ run_id }}', 'scheduled__2026-11-27T03:00:00+00:00').replace(status, state).replace('{{ dag_run.start_date.isoformat() }}', started))]);
    const failed = await run('FAILED');
    // Exit 1 keeps the DAG run failed: this task is its only leaf.
    expect(failed.code).toBe(1);
    const line = JSON.parse(failed.stderr);
    expect(line).toMatchObject({ severity: 'ERROR', event: 'run_finished', pipeline: 'spine-demo', runId: 'spine-demo:scheduled__2026-11-27T03:00:00+00:00', state: 'FAILED' });
    expect(line.durationMs).toBeGreaterThanOrEqual(5 * 60_000);
    const complete = await run('COMPLETE');
    expect(complete.code).toBe(0);
    expect(JSON.parse(complete.stderr)).toMatchObject({ severity: 'INFO', state: 'COMPLETE' });
  });

  test('the steps record to the metadata store under the run id the last task reports (as on Argo and KFP)', () => {
    const { tasks, task } = load('spine_demo_cloud');
    const runIdOf = (args: string[]) => args[args.indexOf('--run-id') + 1];
    const steps = tasks.filter((t) => t.kwargs.task_id !== 'mlp-run-finished');
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) expect(runIdOf(step.kwargs.arguments)).toBe('spine-demo:{{ run_id }}');
    expect(runIdOf(task('mlp-run-finished').kwargs.arguments)).toBe('spine-demo:{{ run_id }}');
  });

  test('optional parameters get None or their default (Airflow 2.10 fails a run, and refuses a schedule, for a param without one)', () => {
    expect(files.get('optional_params')!.source).toContain('"seed": Param(None, type=["integer", "null"], description="Seed"),');
    expect(load('optional_params').dag.params).toEqual({ seed: { default: null, type: ['integer', 'null'], description: 'Seed' }, count: { default: 5, type: 'integer' } });
    expect(load('optional_params').dag.schedule).toBe('@daily');
  });

  test('a run that leaves the optional parameter unset runs its step: the null Airflow renders is a value not given', async () => {
    const produce = load('optional_params').task('produce').kwargs;
    const outputFile = path.join(dir, 'optional-produce.return.json');
    // Rendered by Jinja with the params' defaults (params.seed | tojson is null), then expanded by the kubelet.
    const [jinja] = renderJinja(produce.arguments, { params: { seed: null, count: 5 }, runId: 'scheduled__2024-01-01T00:00:00+00:00' });
    const rendered = expand(jinja, mappingFuncFor({}))
      .replace('gs://b/root', path.join(dir, 'optional-root'))
      .replace('/airflow/xcom/return.json', outputFile);
    expect(rendered).toContain('"seed":null');
    await runStep(produce.cmds[3], rendered);
    expect(JSON.parse(fs.readFileSync(outputFile, 'utf8')).artifacts.numbers.artifacts).toHaveLength(1);
  });

  test('a required parameter without a default is refused with --schedule, and is a required Param without it', () => {
    expect(() => compile(dataValidationWithoutResolver(), { schedule: '@daily' })).toThrow(
      'pipeline data-validation: --schedule "@daily" needs a value for every parameter, but input_base, schema_file are required without a default',
    );
    expect(files.get('data_validation')!.source).toContain('"input_base": Param(type="string"),');
  });

  test('a node named like the run_finished task is refused', () => {
    const clash = new Pipeline({ name: 'clash' });
    clash.add('mlp-run-finished', ProduceNumbers);
    expect(() => compile(clash)).toThrow('pipeline clash: node id "mlp-run-finished" names a step the Airflow compiler adds; rename the node');
  });

  test('a gate decides from the params: false train skips the GPU node', () => {
    expect(files.get('options_false')!.source).toContain('"train": Param(False, type="boolean"),');
    expect(load('options_false').task('gpu-scale-when').decision_with_defaults).toBe(false);
  });

  test('GPU nodes without --gke-cluster are refused', () => {
    expect(() => compile(optionsPipeline())).toThrow("node gpu-scale needs GPUs or TPUs, which Composer's own cluster does not have: pass --gke-cluster PROJECT/LOCATION/CLUSTER");
  });

  test("GPU/TPU pods run as the pipeline's namespace and service account: without them the GKE cluster is refused", () => {
    for (const missing of [{ namespace: 'mlp' }, { serviceAccount: 'mlp-runner' }, {}]) {
      expect(() => compile(optionsPipeline(), { gkeCluster: 'p/l/c', ...missing })).toThrow(
        'node gpu-scale runs on --gke-cluster p/l/c: pass --namespace and --service-account, the pipeline\'s namespace and Kubernetes service account there',
      );
    }
    expect(load('options').task('tpu-summary').kwargs).toMatchObject({ namespace: 'mlp', service_account_name: 'mlp-runner' });
  });

  test('Python literals for JSON values', () => {
    expect(py({ a: [true, false, null, 1.5, 'x"y'] })).toBe('{"a": [True, False, None, 1.5, "x\\"y"]}');
  });

  test('the compiled spine-demo pods run with the real launcher once Jinja has rendered them', async () => {
    const root = path.join(dir, 'root');
    const { tasks } = load('spine_demo_local');
    const xcom = new Map<string, Json>();
    for (const t of tasks.filter((task) => task.kwargs.task_id !== 'mlp-run-finished')) {
      const outputFile = path.join(dir, `${t.kwargs.task_id}.return.json`);
      // Jinja renders the arguments, then the kubelet expands them.
      const [jinja] = renderJinja([t.kwargs.arguments[0]], { params: { count: 40, factor: 2 }, runId: 'manual__2024-01-01T00:00:00+00:00', xcom: Object.fromEntries(xcom) });
      const rendered = expand(jinja, mappingFuncFor({})).replace('/airflow/xcom/return.json', outputFile);
      await runStep(t.kwargs.cmds[3], rendered);
      xcom.set(t.kwargs.task_id, JSON.parse(fs.readFileSync(outputFile, 'utf8')));
    }
    expect(fs.existsSync(path.join(root, 'spine-demo/summarize-scaled/summary/manual__2024-01-01T00:00:00+00:00'))).toBe(true);
  });
});
