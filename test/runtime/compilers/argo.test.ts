// Argo Workflows: the WorkflowTemplate / CronWorkflow fields for the bundled and test pipelines, checked
// exactly and against a subset of Argo's JSON schema (Argo's own schema is not available offline), and the
// compiled spine-demo steps run through the real launcher with the placeholders filled in as Argo would, and
// the exit handler run through the real CLI as Argo would after a failed and a succeeded run.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { pipeline as spineDemo } from '../../../pipelines/spine-demo';
import { compileArgo, type ArgoOptions } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { ImportSchemaGen, ProduceNumbers } from '../../../runtime/components';
import { LOG_CONTRACT } from '../../../constructs/ml-monitoring';
import { runCli } from '../../support/cli';
import { z } from 'zod';
import { UserError } from '../../../runtime/core/errors';
import { dataValidationWithoutResolver, mixed, optionsPipeline, runStep } from './fixtures';
import { argoSubstitute } from './argo-substitution';
import { expand, mappingFuncFor } from '../../support/k8s-expansion';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASE: ArgoOptions = { image: 'img:1', pipelineRoot: 'gs://b/root' };
const compile = (p: Pipeline, opts: Partial<ArgoOptions> = {}): Json => compileArgo(compilePlan(p, 'argo'), { ...BASE, ...opts });
const template = (wf: Json, name: string): Json => (wf.spec.workflowSpec ?? wf.spec).templates.find((t: Json) => t.name === name);

// A subset of Argo's v1alpha1 schema for the fields the compiler emits, transcribed from the field names and
// types in the reference notes: unknown fields are refused, quantities and IntOrString fields are strings.
const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: str };
const intOrString = { type: ['string', 'integer'] };
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });
const resources = obj({ requests: strMap, limits: strMap });
const parameters = obj({ parameters: { type: 'array', items: obj({ name: str, value: str, description: str }, ['name']) } });
const container = obj({
  name: str,
  image: str,
  command: { type: 'array', items: str },
  args: { type: 'array', items: str },
  env: { type: 'array', items: obj({ name: str, value: str }, ['name']) },
  resources,
  securityContext: obj({ runAsNonRoot: { type: 'boolean' }, allowPrivilegeEscalation: { type: 'boolean' } }),
  volumeMounts: { type: 'array', items: obj({ name: str, mountPath: str }, ['name', 'mountPath']) },
});
const templateSchema = obj(
  {
    name: str,
    metadata: obj({ labels: strMap }),
    dag: obj({ tasks: { type: 'array', items: obj({ name: str, template: str, depends: str, when: str, arguments: parameters }, ['name', 'template']) } }, ['tasks']),
    inputs: obj({ parameters: { type: 'array', items: obj({ name: str }, ['name']) } }),
    container: { ...container, required: ['image'] },
    sidecars: { type: 'array', items: { ...container, required: ['name', 'image'] } },
    initContainers: { type: 'array', items: { ...container, required: ['name', 'image'] } },
    volumes: { type: 'array', items: obj({ name: str, emptyDir: obj({}) }, ['name']) },
    retryStrategy: obj({ limit: intOrString, retryPolicy: { enum: ['Always', 'OnFailure', 'OnError', 'OnTransientError'] }, backoff: obj({ duration: str, factor: intOrString, maxDuration: str }) }),
    activeDeadlineSeconds: intOrString,
    nodeSelector: strMap,
    tolerations: { type: 'array', items: obj({ key: str, operator: { enum: ['Exists', 'Equal'] }, effect: str, value: str }) },
    outputs: obj({ parameters: { type: 'array', items: obj({ name: str, valueFrom: obj({ path: str }) }, ['name']) } }),
  },
  ['name'],
);
const workflowSpec = obj(
  {
    entrypoint: str,
    onExit: str,
    arguments: parameters,
    serviceAccountName: str,
    podGC: obj({ strategy: { enum: ['OnPodCompletion', 'OnPodSuccess', 'OnWorkflowCompletion', 'OnWorkflowSuccess'] } }),
    activeDeadlineSeconds: { type: 'integer' },
    templates: { type: 'array', items: templateSchema },
  },
  ['templates'],
);
const metadata = obj({ name: str, namespace: str, labels: strMap, annotations: strMap }, ['name']);
const validate = new Ajv2020({ allErrors: true, strict: false }).compile({
  oneOf: [
    obj({ apiVersion: { const: 'argoproj.io/v1alpha1' }, kind: { const: 'WorkflowTemplate' }, metadata, spec: workflowSpec }, ['apiVersion', 'kind', 'metadata', 'spec']),
    obj(
      {
        apiVersion: { const: 'argoproj.io/v1alpha1' },
        kind: { const: 'CronWorkflow' },
        metadata,
        spec: obj({ schedules: { type: 'array', items: str }, concurrencyPolicy: { enum: ['Allow', 'Forbid', 'Replace'] }, workflowSpec }, ['schedules', 'workflowSpec']),
      },
      ['apiVersion', 'kind', 'metadata', 'spec'],
    ),
  ],
});

describe('Argo Workflows', () => {
  test.each<[string, Json]>([
    ['spine-demo', compile(spineDemo)],
    ['data-validation without its resolver', compile(dataValidationWithoutResolver(), { serviceAccount: 'mlp-runner', deadlineSeconds: 3600, stepTimeoutSeconds: 600 })],
    ['the options pipeline with a Cloud SQL sidecar', compile(optionsPipeline(), { cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam', metadataDatabase: 'mlmd' })],
    ['a CronWorkflow', compile(spineDemo, { schedule: '0 3 * * *', namespace: 'mlp' })],
    ['container component steps (init container, volume)', compile(mixed(), { cloudsqlInstance: 'p:r:i', metadataUser: 'runner@p.iam', metadataDatabase: 'mlmd' })],
  ])('%s passes the schema subset', (_, wf) => {
    validate(wf);
    expect(validate.errors ?? []).toEqual([]);
  });

  test('the schema subset refuses numbers as quantities and unknown fields', () => {
    const wf = compile(optionsPipeline());
    template(wf, 'gpu-scale').container.resources.limits['nvidia.com/gpu'] = 2;
    template(wf, 'produce').retrystrategy = {};
    expect(validate(wf)).toBe(false);
    expect(validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toEqual(
      expect.arrayContaining(['/spec/templates/1 must NOT have additional properties', '/spec/templates/2/container/resources/limits/nvidia.com~1gpu must be string']),
    );
  });

  test('spine-demo WorkflowTemplate: parameters, DAG, retry strategy, executor contract', () => {
    const wf = compile(spineDemo, { serviceAccount: 'mlp-runner', deadlineSeconds: 7200, stepTimeoutSeconds: 900 });
    expect(wf.kind).toBe('WorkflowTemplate');
    expect(wf.metadata).toEqual({
      name: 'spine-demo',
      labels: { 'app.kubernetes.io/managed-by': 'mlp', 'mlp/pipeline': 'spine-demo' },
      annotations: { 'workflows.argoproj.io/description': 'Produces numbers, scales them and summarizes both series.' },
    });
    expect(wf.spec.arguments.parameters).toEqual([
      { name: 'count', value: '1000', description: 'How many numbers to produce' },
      { name: 'factor', value: '3', description: 'Multiplier applied by the scale node' },
    ]);
    expect(wf.spec).toMatchObject({ entrypoint: 'pipeline', serviceAccountName: 'mlp-runner', podGC: { strategy: 'OnPodSuccess' }, activeDeadlineSeconds: 7200 });
    expect(template(wf, 'pipeline').dag.tasks).toEqual([
      { name: 'produce', template: 'produce' },
      { name: 'scale', template: 'scale', depends: 'produce', arguments: { parameters: [{ name: 'produce-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['produce'].outputs.parameters['executor-output'])}}" }] } },
      { name: 'summarize-raw', template: 'summarize-raw', depends: 'produce', arguments: { parameters: [{ name: 'produce-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['produce'].outputs.parameters['executor-output'])}}" }] } },
      { name: 'summarize-scaled', template: 'summarize-scaled', depends: 'scale', arguments: { parameters: [{ name: 'scale-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['scale'].outputs.parameters['executor-output'])}}" }] } },
    ]);
    const scale = template(wf, 'scale');
    expect(scale.inputs).toEqual({ parameters: [{ name: 'produce-executor-output' }] });
    expect(template(wf, 'produce').inputs).toBeUndefined();
    expect(scale.retryStrategy).toEqual({ limit: '2', retryPolicy: 'OnFailure', backoff: { duration: '1s', factor: '2', maxDuration: '60s' } });
    expect(scale.activeDeadlineSeconds).toBe('900');
    expect(scale.outputs).toEqual({ parameters: [{ name: 'executor-output', valueFrom: { path: '/tmp/mlp/executor-output.json' } }] });
    expect(scale.container.command).toEqual(['mlp', 'component', 'run', 'ScaleNumbers', '--executor-input']);
    expect(JSON.parse(scale.container.args[0].replace(/\{\{[^}]*\}\}/g, '0'))).toEqual({
      inputs: {
        parameterValues: { factor: 0 },
        artifacts: { numbers: { artifacts: [{ type: { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' }, uri: 0, metadata: 0 }] } },
      },
      outputs: { artifacts: { scaled: { artifacts: [{ type: { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' }, uri: 'gs://b/root/spine-demo/scale/scaled/0' }] } }, outputFile: '/tmp/mlp/executor-output.json' },
    });
    // What Argo fills in at run time reaches the pod with every $ doubled, for the kubelet's $(VAR) expansion to undo,
    // and no `{{` left for Argo's next templating pass (JSON's \u007b instead).
    expect(scale.container.args[0]).toContain(
      `"metadata":{{=sprig.replace('$', '$$', sprig.replace('{{', '{\\\\u007b', toJson(jsonpath(inputs.parameters['produce-executor-output'], '$.artifacts.numbers.artifacts[0].metadata'))))}}`,
    );
    expect(scale.container.args[0]).toContain(`"parameterValues":{"factor":{{=sprig.replace('$', '$$', sprig.replace('{{', '{\\\\u007b', workflow.parameters['factor']))}}}`);
    // The input's URI is the one its producer reported: its own output, or a cached one from an earlier run.
    expect(scale.container.args[0]).toContain(`"uri":{{=sprig.replace('$', '$$', sprig.replace('{{', '{\\\\u007b', toJson(jsonpath(inputs.parameters['produce-executor-output'], '$.artifacts.numbers.artifacts[0].uri'))))}}`);
    expect(scale.container.args[0]).toContain('"uri":"gs://b/root/spine-demo/scale/scaled/{{workflow.uid}}"');
    expect(template(wf, 'produce').retryStrategy).toBeUndefined();
  });

  test('string parameters are spliced through toJson, other types as JSON text', () => {
    const wf = compile(dataValidationWithoutResolver());
    expect(template(wf, 'example-gen').container.args[0]).toContain(
      `"parameterValues":{"input_splits":[{"name":"single_split","pattern":"span-{SPAN}/*"}],"input_base":{{=sprig.replace('$', '$$', sprig.replace('{{', '{\\\\u007b', toJson(workflow.parameters['input_base'])))}}}`,
    );
    expect(wf.spec.arguments.parameters).toEqual([{ name: 'input_base' }, { name: 'schema_file' }]);
  });

  test('an optional parameter without a default has the value null, spliced into the ExecutorInput as JSON null (not given)', () => {
    const p = new Pipeline({
      name: 'optional',
      parameters: z.object({ seed: z.number().int().optional().describe('Seed'), label: z.string().optional(), count: z.number().int().default(5) }),
    });
    p.add('produce', ProduceNumbers, { parameters: { count: p.param('count'), seed: p.param('seed') } });
    const wf = compile(p, { schedule: '0 3 * * *' });
    const params = wf.spec.workflowSpec.arguments.parameters;
    expect(params).toEqual([
      { name: 'seed', value: 'null', description: 'Seed; null: not given' },
      { name: 'label', value: 'null', description: 'null: not given' },
      { name: 'count', value: '5' },
    ]);
    // As Argo fills the step in from the workflow's parameter values: valid JSON, seed not given.
    const values = Object.fromEntries(params.map((x: Json) => [`workflow.parameters.${x.name}`, x.value]));
    const filled = expand(argoSubstitute(template(wf, 'produce').container.args[0], { ...values, 'workflow.uid': 'uid-1' }), mappingFuncFor({}));
    expect(JSON.parse(filled).inputs.parameterValues).toEqual({ count: 5, seed: null });
  });

  test('an optional string parameter without a default: null unless given, then through toJson', () => {
    const p = new Pipeline({ name: 'optional-string', parameters: z.object({ prefix: z.string().optional() }) });
    p.add('import', ImportSchemaGen, { parameters: { schema_file: p.param('prefix') } });
    const args = template(compile(p), 'import').container.args[0];
    expect(args).toContain(`"schema_file":{{=sprig.replace('$', '$$', sprig.replace('{{', '{\\\\u007b', workflow.parameters['prefix'] == 'null' ? 'null' : toJson(workflow.parameters['prefix'])))}}`);
  });

  test('a required parameter without a default is refused with --schedule (a CronWorkflow run has no value for it)', () => {
    expect(() => compile(dataValidationWithoutResolver(), { schedule: '@daily' })).toThrow(
      new UserError(
        'pipeline data-validation: --schedule "@daily" needs a value for every parameter, but input_base, schema_file are required without a default (Argo cannot submit a scheduled workflow whose parameter has no value); give them defaults in the pipeline or compile without --schedule and trigger runs with their values',
      ),
    );
  });

  test('GPU and TPU placement, conditions as `when`, propagated to dependents', () => {
    const wf = compile(optionsPipeline());
    const gpu = template(wf, 'gpu-scale');
    expect(gpu.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(gpu.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(gpu.container.resources).toEqual({ requests: { cpu: '500m', memory: '4Gi' }, limits: { memory: '4Gi', 'nvidia.com/gpu': '2' } });
    expect(gpu.retryStrategy).toEqual({ limit: '3', retryPolicy: 'OnFailure', backoff: { duration: '5s', factor: '3', maxDuration: '120s' } });
    const tpu = template(wf, 'tpu-summary');
    expect(tpu.nodeSelector).toEqual({ 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice', 'cloud.google.com/gke-tpu-topology': '2x4' });
    expect(tpu.tolerations).toEqual([{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(tpu.container.resources).toEqual({ requests: { 'google.com/tpu': '8' }, limits: { 'google.com/tpu': '8' } });
    expect(template(wf, 'pipeline').dag.tasks).toEqual([
      { name: 'produce', template: 'produce' },
      {
        name: 'gpu-scale',
        template: 'gpu-scale',
        depends: 'produce',
        when: '{{workflow.parameters.train}} == true',
        arguments: { parameters: [{ name: 'produce-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['produce'].outputs.parameters['executor-output'])}}" }] },
      },
      {
        name: 'tpu-summary',
        template: 'tpu-summary',
        depends: 'gpu-scale',
        when: "'{{workflow.parameters.mode}}' != 'it\\'s off' && {{workflow.parameters.train}} == true",
        arguments: { parameters: [{ name: 'gpu-scale-executor-output', value: "{{=sprig.replace('{{', '{\\\\u007b', tasks['gpu-scale'].outputs.parameters['executor-output'])}}" }] },
      },
    ]);
    expect(template(wf, 'produce').container.args[0]).toContain(`"parameterValues":{"seed":3,"count":{{=sprig.replace('$', '$$', sprig.replace('{{', '{\\\\u007b', workflow.parameters['count']))}}}`);
  });

  test('a multi-host TPU slice is refused', () => {
    const p = optionsPipeline();
    (p.node('tpu-summary') as { resources?: unknown }).resources = { tpu: { type: 'tpu-v5p-slice', topology: '4x4x4' } };
    expect(() => compile(p)).toThrow('node tpu-summary: TPU topology 4x4x4 (64 chips) spans several hosts; only single-host slices (≤ 8 chips) are supported');
  });

  test('Cloud SQL Auth Proxy sidecar and the metadata address on every step', () => {
    const wf = compile(spineDemo, { cloudsqlInstance: 'proj:us-central1:mlmd', metadataUser: 'runner@proj.iam', metadataDatabase: 'mlmd' });
    for (const name of ['produce', 'scale', 'summarize-raw', 'summarize-scaled']) {
      const t = template(wf, name);
      expect(t.sidecars).toEqual([
        {
          name: 'cloud-sql-proxy',
          image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1',
          args: ['proj:us-central1:mlmd', '--private-ip', '--auto-iam-authn', '--port=5432', '--structured-logs'],
          securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
        },
      ]);
      expect(t.container.env).toEqual([
        { name: 'MLP_PIPELINE_ROOT', value: 'gs://b/root' },
        { name: 'MLP_METADATA', value: 'postgres://runner%40proj.iam@127.0.0.1:5432/mlmd' },
      ]);
    }
    expect(template(compile(spineDemo), 'produce').sidecars).toBeUndefined();
  });

  test("the exit handler writes MlMonitoring's run_finished line however the run ended", async () => {
    const wf = compile(spineDemo);
    expect(wf.spec.onExit).toBe('mlp-run-finished');
    const exit = template(wf, 'mlp-run-finished');
    expect(exit.container.image).toBe('img:1');
    // Argo fills in the workflow's variables when the handler runs: {{workflow.status}} is Succeeded, Failed or Error.
    const run = async (status: string, duration: string) => {
      const argv: string[] = exit.container.command.map((a: string) => a.replace('{{workflow.uid}}', 'uid-1').replace('{{workflow.status}}', status).replace('{{workflow.duration}}', duration));
      expect(argv.slice(0, 3)).toEqual(['mlp', 'monitor', 'run-finished']);
      expect(argv.join(' ')).not.toContain('{{');
      const result = await runCli(argv.slice(1));
      expect([result.code, result.stdout]).toEqual([0, '']);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      return JSON.parse(lines[0]);
    };
    const failed = await run('Failed', '42.5');
    expect(failed).toEqual({ severity: 'ERROR', event: 'run_finished', pipeline: 'spine-demo', runId: 'uid-1', state: 'FAILED', durationMs: 42500, message: 'run uid-1 of pipeline spine-demo finished FAILED' });
    // The fields the contract names, and what the failed-run metric's filter matches.
    for (const field of LOG_CONTRACT.runFinished.fields) expect(failed).toHaveProperty(field.split(' ')[0]);
    expect(failed.event).toBe(LOG_CONTRACT.runFinished.event);
    expect((await run('Error', '3')).state).toBe('FAILED');
    expect(await run('Succeeded', '61.2345')).toMatchObject({ severity: 'INFO', state: 'COMPLETE', durationMs: 61235 });
  });

  test('a node named like a template the compiler adds is refused', () => {
    const clash = new Pipeline({ name: 'clash' });
    clash.add('mlp-run-finished', ProduceNumbers, { parameters: { count: 1, seed: 1 } });
    expect(() => compile(clash)).toThrow('pipeline clash: node id "mlp-run-finished" names a step the Argo compiler adds; rename the node');
  });

  test('a schedule gives a CronWorkflow around the same workflow spec', () => {
    const wf = compile(spineDemo, { schedule: '0 3 * * *' });
    expect(wf.kind).toBe('CronWorkflow');
    expect(wf.spec.schedules).toEqual(['0 3 * * *']);
    expect(wf.spec.concurrencyPolicy).toBe('Forbid');
    expect(wf.spec.workflowSpec).toEqual(compile(spineDemo).spec);
  });

  test('the compiled spine-demo steps run with the real launcher, wired by their URIs and reported properties', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-argo-'));
    try {
      const wf = compile(spineDemo, { pipelineRoot: root });
      const outputs = new Map<string, Json>();
      for (const task of template(wf, 'pipeline').dag.tasks) {
        const t = template(wf, task.template);
        const outputFile = path.join(root, `${task.name}.executor-output.json`);
        // Argo: the DAG task's arguments (producers' ExecutorOutputs, substituted from the DAG's scope) become the template's input parameters.
        const scope = Object.fromEntries([...outputs].map(([p, o]) => [`tasks.${p}.outputs.parameters.executor-output`, JSON.stringify(o)]));
        const inputs = new Map<string, string>((task.arguments?.parameters ?? []).map((a: Json) => [a.name, argoSubstitute(a.value, scope)]));
        expect([...inputs.keys()]).toEqual((t.inputs?.parameters ?? []).map((p: Json) => p.name));
        const vars = { 'workflow.uid': 'run-1', 'workflow.parameters.count': '50', 'workflow.parameters.factor': '3', ...Object.fromEntries([...inputs].map(([k, v]) => [`inputs.parameters.${k}`, v])) };
        // Argo fills the template in, then the kubelet expands the pod's args.
        const filled = expand(argoSubstitute(t.container.args[0], vars), mappingFuncFor({})).replace('/tmp/mlp/executor-output.json', outputFile);
        await runStep(t.container.command[3], filled);
        outputs.set(task.name, JSON.parse(fs.readFileSync(outputFile, 'utf8')));
      }
      expect(outputs.get('produce')!.artifacts.numbers.artifacts[0].uri).toBe(path.join(root, 'spine-demo/produce/numbers/run-1'));
      expect(fs.existsSync(path.join(root, 'spine-demo/summarize-scaled/summary/run-1'))).toBe(true);
      expect(fs.existsSync(path.join(root, 'spine-demo/summarize-raw/summary/run-1'))).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
