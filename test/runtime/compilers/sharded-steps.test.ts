// Sharded nodes on every engine (issue 20 §3, runtime/core/sharding.ts): a StatisticsGen with `shards` compiles to
// a plan step, a fan-out of shard steps over the plan's list (Argo withParam, KFP ParallelFor, Airflow .expand)
// and a merge step under the node's own name that dependents read from, with the exact `mlp component shard`
// command lines; each document passes the checks the goldens pass (Argo's models and references, the KFP IR
// structure, py_compile and the stand-in Airflow modules); the Argo steps of one sharded node run through the real
// CLI with the placeholders filled in as Argo would.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ExampleGen, ExampleValidator, ImportSchemaGen, SchemaGen, StatisticsGen } from '../../../runtime/components';
import { compileAirflow } from '../../../runtime/compilers/airflow';
import { compileArgo, type ArgoOptions } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { compileKfp, type KfpOptions } from '../../../runtime/compilers/kfp';
import type { ShardsOption } from '../../../runtime/core/sharding';
import { UserError } from '../../../runtime/core/errors';
import { runCli } from '../../support/cli';
import { argoModelErrors, argoReferenceProblems, kfpNodeTasks, runStep, structuralProblems } from './fixtures';
import { argoSubstitute } from './argo-substitution';
import { expand, mappingFuncFor } from '../../support/k8s-expansion';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CLOUD_SQL = { cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam', metadataDatabase: 'mlmd' };
const ARGO: ArgoOptions = { image: 'img:1', pipelineRoot: 'gs://b/root', ...CLOUD_SQL };
const KFP: KfpOptions = { image: 'img:1', metadataAddress: 'postgres://runner%40p.iam@10.0.0.3:5432/mlmd' };
const CLOUD_ARGS = ['--pipeline', 'sharded', '--run-id'];
const EXECUTOR_INPUT_FLAG = '--executor-input';

/**
 * example-gen → statistics-gen (sharded, 8Gi, retried, only when `stats`) → example-validator (with an imported
 * schema); StatisticsGen's weight_feature comes from a pipeline parameter, which the fan-out hands its shards.
 */
function shardedPipeline(shards: ShardsOption, id = 'statistics-gen'): Pipeline {
  const p = new Pipeline({
    name: 'sharded',
    parameters: z.object({ input_base: z.string().min(1), schema_file: z.string().min(1), weight: z.string().optional(), stats: z.boolean().default(true) }),
  });
  const examples = p.add('example-gen', ExampleGen, { parameters: { input_base: p.param('input_base') } });
  const statistics = p.add(id, StatisticsGen, {
    inputs: { examples: examples.outputs.examples },
    parameters: { weight_feature: p.param('weight'), exclude_splits: [] },
    shards,
    resources: { cpu: '2', memory: '8Gi' },
    retry: { maxRetries: 2, backoffSeconds: 5 },
    condition: when(p.param('stats'), '==', true),
  });
  const schema = p.add('schema', ImportSchemaGen, { parameters: { schema_file: p.param('schema_file') } });
  p.add('example-validator', ExampleValidator, { inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema }, parameters: { on_anomalies: 'warn' } });
  return p;
}

type AirflowState = 'success' | 'failed' | 'skipped' | 'upstream_failed';

/**
 * The final state of every task of a DAG run as Airflow's scheduler decides it (its documented trigger rules): a
 * ShortCircuitOperator that says no (ignore_downstream_trigger_rules=False) skips its direct downstream tasks; a
 * mapped task with no items is skipped; otherwise a task runs (success, or failed when listed) if its trigger rule
 * (all_success by default, none_failed, none_failed_min_one_success, all_done) lets it.
 */
function airflowStates(tasks: Json[], run: { gates: Record<string, boolean>; emptyFanOuts?: string[]; failing?: string[] }): Record<string, AirflowState> {
  const state: Record<string, AirflowState> = {};
  const upstream = (id: string) => tasks.filter((t) => t.downstream.includes(id)).map((t) => t.kwargs.task_id as string);
  const forcedSkip = new Set<string>();
  const pending = tasks.map((t) => t.kwargs.task_id as string);
  while (pending.length) {
    const i = pending.findIndex((id) => upstream(id).every((u) => u in state));
    if (i < 0) throw new Error(`cycle among ${pending.join(', ')}`);
    const [id] = pending.splice(i, 1);
    const t = tasks.find((x) => x.kwargs.task_id === id)!;
    const ups = upstream(id).map((u) => state[u]);
    const rule = t.kwargs.trigger_rule ?? 'all_success';
    const anyFailed = ups.some((s) => s === 'failed' || s === 'upstream_failed');
    let runs: boolean;
    if (forcedSkip.has(id)) {
      state[id] = 'skipped';
      continue;
    } else if (rule === 'all_done') runs = true;
    else if (anyFailed) {
      state[id] = 'upstream_failed';
      continue;
    } else if (rule === 'all_success') runs = ups.every((s) => s === 'success');
    else if (rule === 'none_failed') runs = true;
    else if (rule === 'none_failed_min_one_success') runs = ups.length === 0 || ups.some((s) => s === 'success');
    else throw new Error(`trigger rule ${rule} of ${id} is not modelled`);
    if (!runs || (t.expand && run.emptyFanOuts?.includes(id))) {
      state[id] = 'skipped';
      continue;
    }
    state[id] = run.failing?.includes(id) ? 'failed' : 'success';
    if (t.class === 'ShortCircuitOperator' && run.gates[id] === false) for (const d of t.downstream) forcedSkip.add(d);
  }
  return state;
}

const shardCommand = (phase: string) => ['mlp', 'component', 'shard', phase, 'StatisticsGen', EXECUTOR_INPUT_FLAG];

describe('Argo: plan step, withParam fan-out, merge under the node name', () => {
  const compile = (p: Pipeline, opts: Partial<ArgoOptions> = {}): Json => compileArgo(compilePlan(p, 'argo'), { ...ARGO, ...opts });
  const template = (wf: Json, name: string): Json => wf.spec.templates.find((t: Json) => t.name === name);
  const DIR = 'gs://b/root/sharded/statistics-gen/shards/{{workflow.uid}}';
  const WHEN = '{{workflow.parameters.stats}} == true';
  const FROM_EXAMPLES = { name: 'example-gen-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['example-gen'].outputs.parameters['executor-output'])}}" };

  test('the DAG: plan after the inputs, the fan-out over its output, the merge under the node name; dependents read the merge', () => {
    const wf = compile(shardedPipeline(3));
    const tasks = template(wf, 'pipeline').dag.tasks as Json[];
    expect(tasks.filter((t) => t.name.startsWith('statistics-gen'))).toEqual([
      { name: 'statistics-gen-plan', template: 'statistics-gen-plan', depends: 'example-gen', arguments: { parameters: [FROM_EXAMPLES] }, when: WHEN },
      {
        name: 'statistics-gen-shards',
        template: 'statistics-gen-shards',
        depends: 'statistics-gen-plan',
        arguments: { parameters: [FROM_EXAMPLES, { name: 'shards', value: '{{tasks.statistics-gen-plan.outputs.parameters.shards}}' }] },
        when: WHEN,
      },
      { name: 'statistics-gen', template: 'statistics-gen', depends: 'statistics-gen-shards', arguments: { parameters: [FROM_EXAMPLES] }, when: WHEN },
    ]);
    expect(tasks.find((t) => t.name === 'example-validator')).toMatchObject({
      depends: 'statistics-gen && schema',
      arguments: { parameters: [{ name: 'statistics-gen-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['statistics-gen'].outputs.parameters['executor-output'])}}" }, expect.anything()] },
    });
    expect(template(wf, 'statistics-gen-shards')).toEqual({
      name: 'statistics-gen-shards',
      inputs: { parameters: [{ name: 'example-gen-executor-output' }, { name: 'shards' }] },
      dag: {
        tasks: [
          {
            name: 'shard',
            template: 'statistics-gen-shard',
            withParam: '{{inputs.parameters.shards}}',
            arguments: { parameters: [{ name: 'example-gen-executor-output', value: '{{inputs.parameters.example-gen-executor-output}}' }, { name: 'shard', value: '{{item}}' }] },
          },
        ],
      },
    });
  });

  test('the exact command lines; plan and merge are cloud steps, shards are not; shard and merge pods get the node resources and retries', () => {
    const wf = compile(shardedPipeline(3));
    const [plan, shard, merge] = ['statistics-gen-plan', 'statistics-gen-shard', 'statistics-gen'].map((name) => template(wf, name));
    // One ExecutorInput, the node's, for all three.
    const executorInput = merge.container.args[0];
    expect(JSON.parse(executorInput.replace(/\{\{[^}]*\}\}/g, '0')).outputs.artifacts.statistics.artifacts[0].uri).toBe('gs://b/root/sharded/statistics-gen/statistics/0');
    expect(plan.container.command).toEqual(shardCommand('plan'));
    expect(plan.container.args).toEqual([executorInput, '--shards-dir', DIR, '--out', '/tmp/mlp/shards.json', '--shards', '3', ...CLOUD_ARGS, '{{workflow.uid}}', '--node', 'statistics-gen']);
    expect(plan.outputs).toEqual({ parameters: [{ name: 'shards', valueFrom: { path: '/tmp/mlp/shards.json' } }] });
    expect(shard.container.command).toEqual(shardCommand('run'));
    expect(shard.container.args).toEqual([executorInput, '--shards-dir', DIR, '--shard', '{{inputs.parameters.shard}}']);
    expect(shard.inputs).toEqual({ parameters: [{ name: 'example-gen-executor-output' }, { name: 'shard' }] });
    expect(merge.container.command).toEqual(shardCommand('merge'));
    expect(merge.container.args).toEqual([executorInput, '--shards-dir', DIR, ...CLOUD_ARGS, '{{workflow.uid}}', '--node', 'statistics-gen']);
    expect(merge.outputs).toEqual({ parameters: [{ name: 'executor-output', valueFrom: { path: '/tmp/mlp/executor-output.json' } }] });
    expect([plan, shard, merge].map((t) => t.sidecars?.length ?? 0)).toEqual([1, 0, 1]);
    expect([plan, shard, merge].map((t) => t.container.resources)).toEqual([undefined, { requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '8Gi' } }, { requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '8Gi' } }]);
    for (const t of [plan, shard, merge]) expect(t.retryStrategy).toEqual({ limit: '2', retryPolicy: 'OnFailure', backoff: { duration: '5s', factor: '2', maxDuration: '60s' } });
  });

  test("shards: 'auto' asks the plan for --shards auto", () => {
    const args: string[] = template(compile(shardedPipeline('auto')), 'statistics-gen-plan').container.args;
    expect(args.slice(args.indexOf('--shards'), args.indexOf('--shards') + 2)).toEqual(['--shards', 'auto']);
  });

  test("the WorkflowTemplate passes Argo's models and its references resolve", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-sharded-argo-'));
    try {
      const docs = { 'three.json': compile(shardedPipeline(3)), 'auto.json': compile(shardedPipeline('auto'), { cloudsqlInstance: undefined }) };
      const files = Object.entries(docs).map(([name, wf]) => {
        fs.writeFileSync(path.join(dir, name), JSON.stringify(wf));
        return path.join(dir, name);
      });
      expect(argoModelErrors(files)).toEqual([null, null]);
      for (const wf of Object.values(docs)) expect(argoReferenceProblems(wf)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the reference check sees a fan-out reading a parameter it does not declare (the check is real)', () => {
    const wf = compile(shardedPipeline(3));
    template(wf, 'statistics-gen-shards').inputs.parameters.pop();
    expect(argoReferenceProblems(wf)).toEqual(
      expect.arrayContaining(['pipeline/statistics-gen-shards: arguments example-gen-executor-output,shards ≠ inputs example-gen-executor-output', 'statistics-gen-shards: uses undeclared input shards']),
    );
  });

  test('the compiled steps run through the real CLI as Argo runs them: plan, one pod per item, merge; the dependent reads the merge', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-sharded-run-'));
    try {
      fs.mkdirSync(path.join(root, 'input'));
      const rows = Array.from({ length: 600 }, (_, i) => `${i},${(i * 37) % 101},${i % 4 ? `c${i % 5}` : ''}`);
      fs.writeFileSync(path.join(root, 'input', 'data.csv'), ['id,x,cat', ...rows].join('\n'));
      const p = new Pipeline({ name: 'sharded-run' });
      const examples = p.add('example-gen', ExampleGen, { parameters: { input_base: path.join(root, 'input') } });
      const statistics = p.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples }, shards: 3 });
      p.add('schema-gen', SchemaGen, { inputs: { statistics: statistics.outputs.statistics } });
      const wf = compile(p, { pipelineRoot: path.join(root, 'pipelines'), cloudsqlInstance: undefined });
      // Argo: a task's arguments become its template's inputs; {{item}} is one entry of the plan's list. Argo fills
      // the template in, then the kubelet expands the pod's command line.
      const fill = (text: string, inputs: Record<string, string>): string =>
        expand(argoSubstitute(text, { 'workflow.uid': 'run-1', ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`inputs.parameters.${k}`, v])) }), mappingFuncFor({})).replace(
          '/tmp/mlp/',
          `${root}/tmp-`,
        );
      const argv = (name: string, inputs: Record<string, string>): string[] => {
        const t = template(wf, name);
        const line = [...t.container.command, ...t.container.args].map((a: string) => fill(a, inputs));
        expect(line.join(' ')).not.toContain('{{');
        return line;
      };
      const cli = async (line: string[]): Promise<void> => {
        expect(line.slice(0, 3)).toEqual(['mlp', 'component', 'shard']);
        const r = await runCli(line.slice(1));
        expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
      };
      const exampleGen = argv('example-gen', {});
      expect(exampleGen.slice(0, 5)).toEqual(['mlp', 'component', 'run', 'ExampleGen', '--executor-input']);
      await runStep('ExampleGen', exampleGen[5]);
      const fromExamples = { 'example-gen-executor-output': fs.readFileSync(`${root}/tmp-executor-output.json`, 'utf8') };
      await cli(argv('statistics-gen-plan', fromExamples));
      const items: string[] = JSON.parse(fs.readFileSync(`${root}/tmp-shards.json`, 'utf8'));
      expect(items).toEqual(['0/3', '1/3', '2/3']);
      // In any order, as parallel pods finish.
      for (const item of [...items].reverse()) await cli(argv('statistics-gen-shard', { ...fromExamples, shard: item }));
      await cli(argv('statistics-gen', fromExamples));
      const merged = fs.readFileSync(`${root}/tmp-executor-output.json`, 'utf8');
      expect(JSON.parse(merged).artifacts.statistics.artifacts[0].uri).toBe(path.join(root, 'pipelines/sharded-run/statistics-gen/statistics/run-1'));
      // The dependent's step, given the merge step's ExecutorOutput as Argo hands it on.
      const schemaGen = argv('schema-gen', { 'statistics-gen-executor-output': merged });
      await runStep('SchemaGen', schemaGen[5]);
      expect(fs.existsSync(path.join(root, 'pipelines/sharded-run/schema-gen/schema/run-1'))).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a node named like a step a sharded node adds is refused', () => {
    const p = shardedPipeline(3, 'stats');
    p.add('stats-plan', ImportSchemaGen, { parameters: { schema_file: 'x' } });
    expect(() => compile(p)).toThrow(new UserError('pipeline sharded: node id "stats-plan" names a step the Argo compiler adds for sharded node stats; rename the node'));
  });
});

describe('KFP v2 IR: plan task, ParallelFor over its LIST output, merge task under the node name', () => {
  const compile = (p: Pipeline, opts: Partial<KfpOptions> = {}): Json => compileKfp(compilePlan(p, 'kfp'), { ...KFP, ...opts });
  const DIR = "{{$.inputs.parameters['mlp_pipeline_root']}}/sharded/statistics-gen/shards/{{$.inputs.parameters['mlp_run_id']}}";
  const RUN = { runtimeValue: { constant: '{{$.pipeline_job_uuid}}' } };
  const ROOT = { runtimeValue: { constant: '{{$.pipeline_root}}' } };
  const CONDITION = "inputs.parameter_values['pipelinechannel--stats'] == true";
  const RETRY = { maxRetryCount: 2, backoffDuration: '5s', backoffFactor: 2, backoffMaxDuration: '60s' };
  const ITEMS = 'pipelinechannel--statistics-gen-plan-shards';

  test.each<[string, Partial<KfpOptions>]>([
    ['with the metadata store', {}],
    ['without it', { metadataAddress: undefined }],
  ])('every reference in the IR resolves (%s)', (_, opts) => {
    const p = shardedPipeline(3);
    const spec = compile(p, opts);
    expect(Object.keys(kfpNodeTasks(spec))).toEqual(['example-gen', 'statistics-gen-plan', 'statistics-gen-shards', 'statistics-gen', 'schema', 'example-validator']);
    expect(structuralProblems(spec, p)).toEqual([]);
  });

  test('the tasks: plan as the node step with a LIST output, the ParallelFor handing each shard its item, the merge after it', () => {
    const spec = compile(shardedPipeline(3));
    const tasks = kfpNodeTasks(spec);
    const parameters = { weight_feature: { componentInputParameter: 'pipelinechannel--weight' }, exclude_splits: { runtimeValue: { constant: [] } }, 'pipelinechannel--stats': { componentInputParameter: 'pipelinechannel--stats' }, mlp_run_id: RUN, mlp_pipeline_root: ROOT };
    const examples = { examples: { taskOutputArtifact: { producerTask: 'example-gen', outputArtifactKey: 'examples' } } };
    expect(tasks['statistics-gen-plan']).toEqual({
      taskInfo: { name: 'statistics-gen-plan' },
      componentRef: { name: 'comp-statistics-gen-plan' },
      dependentTasks: ['example-gen'],
      inputs: { parameters, artifacts: examples },
      cachingOptions: { enableCache: false },
      retryPolicy: RETRY,
      triggerPolicy: { condition: CONDITION },
    });
    expect(spec.components['comp-statistics-gen-plan'].outputDefinitions.parameters).toEqual({ shards: { parameterType: 'LIST' } });
    // As KFP's compiler writes a dsl.ParallelFor over a task's output (pipeline_with_parallelfor_parallelism.yaml).
    expect(tasks['statistics-gen-shards']).toEqual({
      taskInfo: { name: 'statistics-gen-shards' },
      componentRef: { name: 'comp-statistics-gen-shards' },
      dependentTasks: ['example-gen', 'statistics-gen-plan'],
      inputs: {
        parameters: {
          [ITEMS]: { taskOutputParameter: { producerTask: 'statistics-gen-plan', outputParameterKey: 'shards' } },
          'pipelinechannel--weight': { componentInputParameter: 'pipelinechannel--weight' },
          'pipelinechannel--stats': { componentInputParameter: 'pipelinechannel--stats' },
        },
        artifacts: { 'pipelinechannel--example-gen-examples': { taskOutputArtifact: { producerTask: 'example-gen', outputArtifactKey: 'examples' } } },
      },
      parameterIterator: { itemInput: `${ITEMS}-loop-item`, items: { inputParameter: ITEMS } },
      triggerPolicy: { condition: CONDITION },
    });
    const loop = spec.components['comp-statistics-gen-shards'];
    expect(loop.inputDefinitions).toEqual({
      parameters: { [ITEMS]: { parameterType: 'LIST' }, [`${ITEMS}-loop-item`]: { parameterType: 'STRING' }, 'pipelinechannel--weight': { parameterType: 'STRING', isOptional: true }, 'pipelinechannel--stats': { parameterType: 'BOOLEAN', isOptional: true } },
      artifacts: { 'pipelinechannel--example-gen-examples': { artifactType: { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' } } },
    });
    const { 'pipelinechannel--stats': _condition, ...shardParameters } = parameters;
    expect(loop.dag.tasks).toEqual({
      'statistics-gen-shard': {
        taskInfo: { name: 'statistics-gen-shard' },
        componentRef: { name: 'comp-statistics-gen-shard' },
        inputs: { parameters: { ...shardParameters, mlp_shard: { componentInputParameter: `${ITEMS}-loop-item` } }, artifacts: { examples: { componentInputArtifact: 'pipelinechannel--example-gen-examples' } } },
        cachingOptions: { enableCache: false },
        retryPolicy: RETRY,
      },
    });
    expect(tasks['statistics-gen']).toEqual({ ...tasks['statistics-gen-plan'], taskInfo: { name: 'statistics-gen' }, componentRef: { name: 'comp-statistics-gen' }, dependentTasks: ['example-gen', 'statistics-gen-shards'] });
    expect(tasks['example-validator'].inputs.artifacts.statistics).toEqual({ taskOutputArtifact: { producerTask: 'statistics-gen', outputArtifactKey: 'statistics' } });
  });

  test('the executors: the exact command lines on {{$}}, the node resources on shard and merge, the store on plan and merge', () => {
    const spec = compile(shardedPipeline('auto'));
    const executors = spec.deploymentSpec.executors;
    const env = [{ name: 'MLP_METADATA', value: KFP.metadataAddress }, { name: 'MLP_METADATA_AUTH', value: 'gcp-iam' }];
    const resources = { cpuLimit: 2, resourceCpuLimit: '2', memoryLimit: 8.589934592, resourceMemoryLimit: '8Gi' };
    const cloud = [...CLOUD_ARGS, "{{$.inputs.parameters['mlp_run_id']}}", '--node', 'statistics-gen'];
    expect(executors['exec-statistics-gen-plan'].container).toEqual({
      image: 'img:1',
      command: shardCommand('plan'),
      args: ['{{$}}', '--shards-dir', DIR, '--out', "{{$.outputs.parameters['shards'].output_file}}", '--shards', 'auto', ...cloud],
      env,
    });
    expect(executors['exec-statistics-gen-shard'].container).toEqual({ image: 'img:1', command: shardCommand('run'), args: ['{{$}}', '--shards-dir', DIR, '--shard', "{{$.inputs.parameters['mlp_shard']}}"], resources });
    expect(executors['exec-statistics-gen'].container).toEqual({ image: 'img:1', command: shardCommand('merge'), args: ['{{$}}', '--shards-dir', DIR, ...cloud], env, resources });
  });

  test('the structural check sees a ParallelFor over an undeclared list and a shard reading an artifact its sub-DAG was not handed (the check is real)', () => {
    const p = shardedPipeline(3);
    const spec = compile(p);
    delete spec.components['comp-statistics-gen-shards'].inputDefinitions.parameters[ITEMS];
    delete spec.components['comp-statistics-gen-shards'].inputDefinitions.artifacts;
    expect(structuralProblems(spec, p)).toEqual([
      `statistics-gen-shards: input parameter ${ITEMS} not in inputDefinitions`,
      'statistics-gen-shards: pipelinechannel--example-gen-examples ← example-gen.examples does not resolve',
      `statistics-gen-shards: iterates over ${ITEMS}, not a LIST input`,
      'statistics-gen-shard: examples ← pipelinechannel--example-gen-examples does not resolve',
    ]);
  });
});

describe('Airflow: plan pod, mapped shard pods (.expand over its XCom), merge pod under the node id', () => {
  const DIR = 'gs://b/root/sharded/statistics-gen/shards/{{ run_id }}';
  let dir: string;
  let built: { tasks: Json[] }[];
  let sources: string[];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-sharded-airflow-'));
    sources = [
      compileAirflow(compilePlan(shardedPipeline(3), 'airflow'), { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600, ...CLOUD_SQL }),
      compileAirflow(compilePlan(shardedPipeline('auto'), 'airflow'), { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600 }),
    ];
    const files = sources.map((source, i) => {
      const file = path.join(dir, `sharded_${i}.py`);
      fs.writeFileSync(file, source);
      return file;
    });
    const cache = path.join(dir, 'pycache');
    execFileSync('python3', ['-m', 'py_compile', ...files], { stdio: 'pipe', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
    built = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), ...files], { encoding: 'utf8' }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const task = (i: number, id: string): Json => built[i].tasks.find((t) => t.kwargs.task_id === id)!;

  test('the tasks and their dependencies: the gate before plan and merge, plan → mapped shards → merge → dependents', () => {
    expect(built[0].tasks.map((t) => [t.class, t.kwargs.task_id, t.downstream])).toEqual([
      ['KubernetesPodOperator', 'example-gen', ['statistics-gen-when', 'mlp-run-finished']],
      ['ShortCircuitOperator', 'statistics-gen-when', ['statistics-gen-plan', 'statistics-gen']],
      // The mapped task is downstream of the plan because it expands over the plan's XCom; the merge follows the plan too.
      ['KubernetesPodOperator', 'statistics-gen-plan', ['statistics-gen-shard', 'statistics-gen']],
      ['KubernetesPodOperator', 'statistics-gen-shard', ['statistics-gen']],
      // example-validator takes statistics-gen's condition, so its own gate follows the merge.
      ['KubernetesPodOperator', 'statistics-gen', ['example-validator-when', 'mlp-run-finished']],
      ['KubernetesPodOperator', 'schema', ['example-validator-when', 'mlp-run-finished']],
      ['ShortCircuitOperator', 'example-validator-when', ['example-validator']],
      ['KubernetesPodOperator', 'example-validator', ['mlp-run-finished']],
      ['KubernetesPodOperator', 'mlp-run-finished', []],
    ]);
  });

  test('the exact command lines, the XCom the plan returns, the shard item in each mapped pod, the merge running after an empty fan-out', () => {
    const [plan, shard, merge] = ['statistics-gen-plan', 'statistics-gen-shard', 'statistics-gen'].map((id) => task(0, id));
    const executorInput = merge.kwargs.arguments[0];
    const cloud = [...CLOUD_ARGS, 'sharded:{{ run_id }}', '--node', 'statistics-gen'];
    expect(plan.kwargs).toMatchObject({ cmds: shardCommand('plan'), arguments: [executorInput, '--shards-dir', DIR, '--out', '/airflow/xcom/return.json', '--shards', '3', ...cloud], do_xcom_push: true });
    expect(plan.kwargs.container_resources).toBeUndefined();
    expect(plan.expand).toBeUndefined();
    // Kubernetes expands $(MLP_SHARD) from the pod's env, which the mapped task takes from the plan's XCom item.
    expect(shard.kwargs).toMatchObject({ cmds: shardCommand('run'), arguments: [executorInput, '--shards-dir', DIR, '--shard', '$(MLP_SHARD)'], do_xcom_push: false });
    expect(shard.kwargs.env_vars).toBeUndefined();
    expect(shard.kwargs.init_containers).toBeUndefined();
    expect(shard.expand).toEqual({ env_vars: { xcom_map: 'statistics-gen-plan', sample: { MLP_PIPELINE_ROOT: 'gs://b/root', MLP_SHARD: '0/3' } } });
    expect(merge.kwargs).toMatchObject({ cmds: shardCommand('merge'), arguments: [executorInput, '--shards-dir', DIR, ...cloud], do_xcom_push: true, trigger_rule: 'none_failed_min_one_success' });
    for (const t of [shard, merge]) expect(t.kwargs.container_resources).toEqual({ V1ResourceRequirements: { requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '8Gi' } } });
    for (const t of [plan, shard, merge]) expect(t.kwargs).toMatchObject({ retries: 2, retry_delay: { seconds: 5 } });
    expect([plan, shard, merge].map((t) => t.kwargs.init_containers?.length ?? 0)).toEqual([1, 0, 1]);
    expect(task(0, 'example-validator').kwargs.arguments[0]).toContain('{{ ti.xcom_pull(task_ids="statistics-gen")["artifacts"]["statistics"]["artifacts"][0]["uri"] | tojson | replace("$", "$$") }}');
    expect(sources[0]).toContain('KubernetesPodOperator.partial(');
  });

  test('trigger rules as Airflow applies them: the merge runs after an empty fan-out, and is skipped (never run on no plan) when its upstream was skipped', () => {
    // example-gen only when `stats`: statistics-gen (sharded) inherits the condition, so its gate follows example-gen.
    const p = new Pipeline({ name: 'sharded', parameters: z.object({ input_base: z.string().min(1), stats: z.boolean().default(true) }) });
    const examples = p.add('example-gen', ExampleGen, { parameters: { input_base: p.param('input_base') }, condition: when(p.param('stats'), '==', true) });
    p.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples }, shards: 3 });
    const file = path.join(dir, 'skipped_upstream.py');
    fs.writeFileSync(file, compileAirflow(compilePlan(p, 'airflow'), { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600 }));
    const [dag] = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), file], { encoding: 'utf8' })) as { tasks: Json[] }[];
    // The gate of example-gen says no: example-gen is skipped, and so is every step of the sharded node after it.
    const skipped = airflowStates(dag.tasks, { gates: { 'example-gen-when': false, 'statistics-gen-when': true } });
    expect([skipped['statistics-gen-plan'], skipped['statistics-gen-shard'], skipped['statistics-gen']]).toEqual(['skipped', 'skipped', 'skipped']);
    // A cached plan: the mapped shard task has no items (skipped), the merge still runs and hands on the cached outputs.
    const cached = airflowStates(dag.tasks, { gates: { 'example-gen-when': true, 'statistics-gen-when': true }, emptyFanOuts: ['statistics-gen-shard'] });
    expect([cached['statistics-gen-plan'], cached['statistics-gen-shard'], cached['statistics-gen']]).toEqual(['success', 'skipped', 'success']);
    // A failed shard: the merge does not run.
    const failed = airflowStates(dag.tasks, { gates: { 'example-gen-when': true, 'statistics-gen-when': true }, failing: ['statistics-gen-shard'] });
    expect(failed['statistics-gen']).toBe('upstream_failed');
    // The same for the node's own gate saying no.
    const own = airflowStates(dag.tasks, { gates: { 'example-gen-when': true, 'statistics-gen-when': false } });
    expect([own['statistics-gen-plan'], own['statistics-gen-shard'], own['statistics-gen']]).toEqual(['skipped', 'skipped', 'skipped']);
  });

  test("shards: 'auto' asks the plan for --shards auto", () => {
    const args: string[] = task(1, 'statistics-gen-plan').kwargs.arguments;
    expect(args.slice(args.indexOf('--shards'), args.indexOf('--shards') + 2)).toEqual(['--shards', 'auto']);
  });
});
