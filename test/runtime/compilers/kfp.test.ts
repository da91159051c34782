// KFP v2 IR: the PipelineSpec of the bundled and test pipelines checked against the pipeline_spec.proto
// structure (every componentRef, executorLabel, producer and input resolves; parameter types follow the zod
// schemas), the exact task fields for retries, caching, conditions and GPUs, and the Vertex PipelineJob wrapper.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { pipeline as spineDemo } from '../../../pipelines/spine-demo';
import { compilePlan } from '../../../runtime/compilers/common';
import { compileKfp, vertexPipelineJob } from '../../../runtime/compilers/kfp';
import { UserError } from '../../../runtime/core/errors';
import type { Pipeline } from '../../../pipelines/dsl/pipeline';
import { runCli } from '../../support/cli';
import { dataValidationWithoutResolver, kfpNodeTasks, optionsPipeline, structuralProblems } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const compile = (p: Pipeline): Json => compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' });

describe('KFP v2 IR', () => {
  test.each<[string, () => Pipeline]>([
    ['spine-demo', () => spineDemo],
    ['data-validation without its resolver', dataValidationWithoutResolver],
    ['the options pipeline', () => optionsPipeline({ tpu: false })],
  ])('%s: every reference in the IR resolves', (_, make) => {
    const p = make();
    const spec = compile(p);
    expect(spec.schemaVersion).toBe('2.1.0');
    expect(spec.pipelineInfo.name).toBe(p.name);
    expect(Object.keys(kfpNodeTasks(spec))).toEqual(p.validate().map((n) => n.id));
    expect(structuralProblems(spec, p)).toEqual([]);
  });

  test('the structural check finds a dangling producer and a missing executor', () => {
    const spec = compile(spineDemo);
    kfpNodeTasks(spec).scale.dependentTasks = [];
    delete spec.deploymentSpec.executors['exec-summarize-raw'];
    expect(structuralProblems(spec, spineDemo)).toEqual(['scale: producer produce not in dependentTasks', 'summarize-raw: executor exec-summarize-raw missing']);
  });

  test('parameter types come from the zod schemas', () => {
    const spec = compile(dataValidationWithoutResolver());
    const types = (comp: string) =>
      Object.fromEntries(Object.entries<Json>(spec.components[comp].inputDefinitions.parameters).map(([k, v]) => [k, v.parameterType]));
    expect(types('comp-example-gen')).toEqual({
      input_base: 'STRING',
      input_splits: 'LIST',
      format: 'STRING',
      range: 'STRUCT',
      output_splits: 'LIST',
      partition_feature: 'STRING',
      schema: 'STRUCT',
      span: 'NUMBER_INTEGER',
      derived_columns: 'STRUCT',
      csv_delimiter: 'STRING',
      max_bad_rows_fraction: 'NUMBER_DOUBLE',
    });
    expect(spec.components['comp-example-gen'].inputDefinitions.parameters.input_base).toEqual({
      parameterType: 'STRING',
      description: 'Folder the input patterns are relative to: a local path, file:// or gs:// URI',
    });
    expect(spec.components['comp-example-gen'].inputDefinitions.parameters.format).toMatchObject({ defaultValue: 'auto', isOptional: true });
    expect(types('comp-statistics-gen')).toEqual({ exclude_splits: 'LIST', weight_feature: 'STRING', shards: 'NUMBER_INTEGER' });
    expect(spec.root.inputDefinitions.parameters).toEqual({ input_base: { parameterType: 'STRING' }, schema_file: { parameterType: 'STRING' } });
    expect(spec.components['comp-example-validator'].inputDefinitions.artifacts).toMatchObject({
      statistics: { artifactType: { schemaTitle: 'tfx.ExampleStatistics', schemaVersion: '0.0.1' } },
      schema: { artifactType: { schemaTitle: 'tfx.Schema', schemaVersion: '0.0.1' } },
      baseline_statistics: { artifactType: { schemaTitle: 'tfx.ExampleStatistics', schemaVersion: '0.0.1' }, isOptional: true },
    });
  });

  test('spine-demo tasks: parameters, artifacts, retry, cache and the executor contract', () => {
    const spec = compile(spineDemo);
    expect(spec.root.inputDefinitions.parameters).toEqual({
      count: { parameterType: 'NUMBER_INTEGER', defaultValue: 1000, isOptional: true, description: 'How many numbers to produce' },
      factor: { parameterType: 'NUMBER_DOUBLE', defaultValue: 3, isOptional: true, description: 'Multiplier applied by the scale node' },
    });
    expect(kfpNodeTasks(spec).produce).toEqual({
      taskInfo: { name: 'produce' },
      componentRef: { name: 'comp-produce' },
      inputs: { parameters: { seed: { runtimeValue: { constant: 7 } }, count: { componentInputParameter: 'pipelinechannel--count' } } },
      cachingOptions: { enableCache: true },
    });
    expect(kfpNodeTasks(spec).scale).toEqual({
      taskInfo: { name: 'scale' },
      componentRef: { name: 'comp-scale' },
      dependentTasks: ['produce'],
      inputs: {
        parameters: { factor: { componentInputParameter: 'pipelinechannel--factor' } },
        artifacts: { numbers: { taskOutputArtifact: { producerTask: 'produce', outputArtifactKey: 'numbers' } } },
      },
      cachingOptions: { enableCache: true },
      retryPolicy: { maxRetryCount: 2, backoffDuration: '1s', backoffFactor: 2, backoffMaxDuration: '60s' },
    });
    expect(spec.deploymentSpec.executors['exec-scale']).toEqual({
      container: { image: 'img:1', command: ['mlp', 'component', 'run', 'ScaleNumbers', '--executor-input'], args: ['{{$}}'] },
    });
  });

  test("the nodes run in an exit handler's sub-DAG; its exit task writes MlMonitoring's run_finished line however the run ended", async () => {
    const spec = compile(spineDemo);
    expect(spec.root.dag.tasks['exit-handler-1']).toEqual({
      taskInfo: { name: 'exit-handler-1' },
      componentRef: { name: 'comp-exit-handler-1' },
      inputs: { parameters: { 'pipelinechannel--count': { componentInputParameter: 'count' }, 'pipelinechannel--factor': { componentInputParameter: 'factor' } } },
    });
    expect(spec.components['comp-exit-handler-1'].inputDefinitions.parameters).toEqual({
      'pipelinechannel--count': { parameterType: 'NUMBER_INTEGER', isOptional: true },
      'pipelinechannel--factor': { parameterType: 'NUMBER_DOUBLE', isOptional: true },
    });
    // As KFP's ExitHandler compiles: the exit task depends on the sub-DAG, gets its final status, and runs once it is done.
    const last = spec.root.dag.tasks['mlp-run-finished'];
    expect(last).toMatchObject({
      dependentTasks: ['exit-handler-1'],
      triggerPolicy: { strategy: 'ALL_UPSTREAM_TASKS_COMPLETED' },
      inputs: { parameters: { status: { taskFinalStatus: { producerTask: 'exit-handler-1' } }, run_id: { runtimeValue: { constant: '{{$.pipeline_job_uuid}}' } }, started: { runtimeValue: { constant: '{{$.pipeline_job_create_time_utc}}' } } } },
    });
    // Optional, as KFP SDK 2.15 compiles a PipelineTaskFinalStatus input of an ExitHandler's exit task.
    expect(spec.components['comp-mlp-run-finished'].inputDefinitions.parameters.status).toEqual({ parameterType: 'TASK_FINAL_STATUS', isOptional: true });
    const { container } = spec.deploymentSpec.executors['exec-mlp-run-finished'];
    expect(container.command).toEqual(['mlp', 'monitor', 'run-finished']);
    // Rendered as KFP's launcher would: the input parameters' values, the status as PipelineTaskFinalStatus JSON.
    const started = new Date(Date.now() - 60_000).toISOString();
    const run = (state: string) => {
      const values: Record<string, string> = {
        run_id: 'c0ffee-uuid',
        started,
        status: JSON.stringify({ state, pipelineJobResourceName: 'projects/p/locations/l/pipelineJobs/spine-demo-1', pipelineTaskName: 'exit-handler-1', error: {} }),
      };
      const args = container.args.map((a: string) => a.replace(/^\{\{\$\.inputs\.parameters\['(\w+)'\]\}\}$/, (_: string, name: string) => values[name]));
      expect(args.join(' ')).not.toContain('{{');
      return runCli([...container.command.slice(1), ...args]);
    };
    const failed = await run('FAILED');
    expect(failed.code).toBe(0);
    const line = JSON.parse(failed.stderr);
    expect(line).toMatchObject({ severity: 'ERROR', event: 'run_finished', pipeline: 'spine-demo', runId: 'c0ffee-uuid', state: 'FAILED' });
    expect(line.durationMs).toBeGreaterThanOrEqual(60_000);
    expect(JSON.parse((await run('CANCELLED')).stderr).state).toBe('CANCELED');
    expect(JSON.parse((await run('SUCCEEDED')).stderr)).toMatchObject({ severity: 'INFO', state: 'COMPLETE' });
  });

  test('a node named like a step the compiler adds is refused', async () => {
    const { Pipeline } = await import('../../../pipelines/dsl/pipeline');
    const { ProduceNumbers } = await import('../../../runtime/components');
    const p = new Pipeline({ name: 'clash' });
    p.add('exit-handler-1', ProduceNumbers);
    expect(() => compile(p)).toThrow('pipeline clash: node id "exit-handler-1" names a step the kfp compiler adds; rename the node');
  });

  test('options pipeline: cache off, GPU resources, CEL trigger conditions (propagated downstream)', () => {
    const spec = compile(optionsPipeline({ tpu: false }));
    const t = kfpNodeTasks(spec);
    expect(t.produce.cachingOptions).toEqual({ enableCache: false });
    expect(t['gpu-scale'].retryPolicy).toEqual({ maxRetryCount: 3, backoffDuration: '5s', backoffFactor: 3, backoffMaxDuration: '120s' });
    expect(t['gpu-scale'].triggerPolicy).toEqual({ condition: "inputs.parameter_values['pipelinechannel--train'] == true" });
    expect(t['gpu-scale'].inputs.parameters['pipelinechannel--train']).toEqual({ componentInputParameter: 'pipelinechannel--train' });
    expect(spec.components['comp-gpu-scale'].inputDefinitions.parameters['pipelinechannel--train']).toEqual({ parameterType: 'BOOLEAN' });
    expect(t['tpu-summary'].triggerPolicy).toEqual({
      condition: "inputs.parameter_values['pipelinechannel--mode'] != 'it\\'s off' && inputs.parameter_values['pipelinechannel--train'] == true",
    });
    expect(spec.deploymentSpec.executors['exec-gpu-scale'].container.resources).toEqual({
      cpuLimit: 0.5,
      resourceCpuLimit: '500m',
      memoryLimit: 4.294967296,
      resourceMemoryLimit: '4Gi',
      accelerator: { type: 'NVIDIA_L4', count: '2', resourceType: 'NVIDIA_L4', resourceCount: '2' },
    });
    expect(spec.deploymentSpec.executors['exec-tpu-summary'].container.resources).toEqual({
      cpuLimit: 2,
      resourceCpuLimit: '2',
      memoryLimit: 0.512,
      resourceMemoryLimit: '512M',
    });
  });

  test('integer parameters compare as int() in conditions', async () => {
    const { Pipeline, when } = await import('../../../pipelines/dsl/pipeline');
    const { ProduceNumbers } = await import('../../../runtime/components');
    const p = new Pipeline({ name: 'cond', parameters: z.object({ n: z.number().int().default(1), r: z.number().default(0.5) }) });
    p.add('a', ProduceNumbers, { condition: when(p.param('n'), '>=', 5) });
    p.add('b', ProduceNumbers, { condition: when(p.param('r'), '<', 1) });
    const t = kfpNodeTasks(compile(p));
    expect(t.a.triggerPolicy.condition).toBe("int(inputs.parameter_values['pipelinechannel--n']) >= 5");
    expect(t.b.triggerPolicy.condition).toBe("double(inputs.parameter_values['pipelinechannel--r']) < 1.0");
  });

  test('an input wired to several outputs is refused (KFP has one producer per task input)', async () => {
    const { Pipeline } = await import('../../../pipelines/dsl/pipeline');
    const { ProduceNumbers, SummarizeNumbers } = await import('../../../runtime/components');
    const p = new Pipeline({ name: 'fan-in' });
    const a = p.add('a', ProduceNumbers);
    const b = p.add('b', ProduceNumbers);
    p.add('sum', SummarizeNumbers, { inputs: { numbers: [a.outputs.numbers, b.outputs.numbers] } });
    expect(() => compile(p)).toThrow(new UserError('node sum: input "numbers" is wired to 2 outputs; the kfp compiler supports one per input'));
  });

  test('TPU nodes are refused, naming the node; resolver nodes need the metadata address', () => {
    expect(() => compile(optionsPipeline())).toThrow(new UserError('node tpu-summary: TPU resources are not supported by the kfp compiler yet'));
    const dv = compilePlan(require('../../../pipelines/data-validation').pipeline, 'kfp');
    expect(() => compileKfp(dv, { image: 'i:1' })).toThrow(
      new UserError('node previous-statistics is a resolver: it picks its artifact from the metadata store, so the steps need one (pass --metadata-address)'),
    );
  });

  test('with the metadata address every step is a cloud step; resolvers and cloud steps are never cached by KFP', () => {
    const p = require('../../../pipelines/data-validation').pipeline;
    const spec: Json = compileKfp(compilePlan(p, 'kfp'), { image: 'img:1', metadataAddress: 'postgres://u@10.0.0.3/mlmd' });
    expect(structuralProblems(spec, p)).toEqual([]);
    const resolver = spec.deploymentSpec.executors['exec-previous-statistics'].container;
    expect(resolver).toEqual({
      image: 'img:1',
      command: ['mlp', 'component', 'run', 'mlp.Resolver', '--executor-input'],
      args: ['{{$}}', '--pipeline', 'data-validation', '--run-id', "{{$.inputs.parameters['mlp_run_id']}}", '--node', 'previous-statistics'],
      // No password: the step logs in as the job's service account (Cloud SQL IAM database authentication).
      env: [{ name: 'MLP_METADATA', value: 'postgres://u@10.0.0.3/mlmd' }, { name: 'MLP_METADATA_AUTH', value: 'gcp-iam' }],
    });
    expect(kfpNodeTasks(spec)['previous-statistics']).toMatchObject({
      dependentTasks: ['statistics-gen'],
      inputs: {
        parameters: { artifact_type: { runtimeValue: { constant: 'ExampleStatistics' } }, strategy: { runtimeValue: { constant: { kind: 'previous-span', of: { node: 'statistics-gen', port: 'statistics' } } } } },
        artifacts: { current: { taskOutputArtifact: { producerTask: 'statistics-gen', outputArtifactKey: 'statistics' } } },
      },
    });
    expect(kfpNodeTasks(spec)['example-validator'].inputs.artifacts.baseline_statistics).toEqual({ taskOutputArtifact: { producerTask: 'previous-statistics', outputArtifactKey: 'result' } });
    for (const t of Object.values<Json>(kfpNodeTasks(spec))) expect(t.cachingOptions).toEqual({ enableCache: false });
    expect(spec.deploymentSpec.executors['exec-example-gen'].container.args).toEqual(['{{$}}', '--pipeline', 'data-validation', '--run-id', "{{$.inputs.parameters['mlp_run_id']}}", '--node', 'example-gen']);
    // KFP resolves the job id placeholder in constant input parameters; the step reads it back from its inputs.
    for (const t of Object.values<Json>(kfpNodeTasks(spec))) expect(t.inputs.parameters.mlp_run_id).toEqual({ runtimeValue: { constant: '{{$.pipeline_job_uuid}}' } });
    expect(spec.components['comp-example-gen'].inputDefinitions.parameters.mlp_run_id).toEqual({ parameterType: 'STRING' });
  });

  test('the metadata password comes from Secret Manager when named, and is never taken from the address', () => {
    const plan = compilePlan(require('../../../pipelines/data-validation').pipeline, 'kfp');
    const spec: Json = compileKfp(plan, { image: 'i:1', metadataAddress: 'postgres://mlmd@10.0.0.3/mlmd', metadataPasswordSecret: 'projects/p/secrets/mlmd/versions/latest' });
    expect(spec.deploymentSpec.executors['exec-example-gen'].container.env).toEqual([
      { name: 'MLP_METADATA', value: 'postgres://mlmd@10.0.0.3/mlmd' },
      { name: 'MLP_METADATA_AUTH', value: 'secret-manager:projects/p/secrets/mlmd/versions/latest' },
    ]);
    expect(() => compileKfp(plan, { image: 'i:1', metadataAddress: 'postgres://mluser:PASSWORD@10.0.0.5:5432/mlmd' })).toThrow(
      new UserError(
        "--metadata-address postgres://mluser:***@10.0.0.5:5432/mlmd has a password, which would be written into every step: leave it out and connect as the job's service account (Cloud SQL IAM database authentication, the default) or pass --metadata-password-secret projects/P/secrets/S/versions/V",
      ),
    );
    expect(() => compileKfp(plan, { image: 'i:1', metadataAddress: 'postgres://mluser@10.0.0.5/mlmd?password=PASSWORD' })).toThrow(/has a password/);
    expect(() => compileKfp(plan, { image: 'i:1', metadataAddress: 'postgres://mluser@10.0.0.5/mlmd', metadataPasswordSecret: 'mlmd-password:password' })).toThrow(
      new UserError('--metadata-password-secret for kfp must be a Secret Manager secret version projects/P/secrets/S/versions/V, got "mlmd-password:password"'),
    );
  });

  test('a compiled cloud step, filled in as KFP would, records the job id as its run and keeps the run id out of the cache key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-kfp-step-'));
    try {
      const metadata = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
      const spec: Json = compileKfp(compilePlan(spineDemo, 'kfp'), { image: 'img:1', metadataAddress: metadata });
      const task = kfpNodeTasks(spec).produce;
      const { container } = spec.deploymentSpec.executors['exec-produce'];
      // KFP's driver: the task's constants (the job id placeholder resolved) and the pipeline's parameter values.
      const step = async (jobId: string) => {
        const outputFile = path.join(dir, `${jobId}.json`);
        const executorInput = {
          inputs: { parameterValues: { seed: task.inputs.parameters.seed.runtimeValue.constant, count: 20, mlp_run_id: jobId } },
          outputs: { artifacts: { numbers: { artifacts: [{ type: { schemaTitle: 'system.Dataset' }, uri: path.join(dir, jobId, 'numbers') }] } }, outputFile },
        };
        const args = container.args.map((a: string) => (a === '{{$}}' ? JSON.stringify(executorInput) : a.replace("{{$.inputs.parameters['mlp_run_id']}}", jobId)));
        expect(args.join(' ')).not.toContain('{{');
        const result = await runCli([...container.command.slice(1), ...args], { env: { MLP_METADATA: metadata } });
        expect(result.code).toBe(0);
        return result;
      };
      expect((await step('job-1')).stderr).toContain('produce: executed');
      // A second job with the same parameters is a cache hit: the run id is not part of the key.
      expect((await step('job-2')).stderr).toContain('produce: cached');
      const runs = JSON.parse((await runCli(['runs', '--metadata', metadata, '--json'])).stdout);
      expect(runs.map((r: Json) => [r.runId, r.pipeline])).toEqual([['job-2', 'spine-demo'], ['job-1', 'spine-demo']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Vertex AI PipelineJob: display name, spec, output directory and checked parameter values', () => {
    const plan = compilePlan(spineDemo, 'kfp');
    const spec = compileKfp(plan, { image: 'img:1' });
    expect(vertexPipelineJob(plan, spec, { pipelineRoot: 'gs://b/root', parameterValues: { count: 5 } })).toEqual({
      displayName: 'spine-demo',
      pipelineSpec: spec,
      labels: { 'mlp-pipeline': 'spine-demo' },
      runtimeConfig: { gcsOutputDirectory: 'gs://b/root', parameterValues: { count: 5 } },
    });
    expect(() => vertexPipelineJob(plan, spec, { pipelineRoot: 'gs://b', parameterValues: { nope: 1 } })).toThrow('pipeline spine-demo has no parameter "nope" (parameters: count, factor)');
    const dv = compilePlan(dataValidationWithoutResolver(), 'kfp');
    expect(() => vertexPipelineJob(dv, compileKfp(dv, { image: 'i:1' }), { pipelineRoot: 'gs://b', parameterValues: {} })).toThrow(
      'pipeline data-validation: required parameter input_base, schema_file needs --param',
    );
  });
});
