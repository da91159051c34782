// Shared by the compiler tests: a pipeline with every per-node option the compilers translate (GPU, TPU,
// retries, a parameter condition, cache off), the data-validation pipeline without its resolver (to compile
// the data components' parameter types everywhere), a commander harness for `mlp compile`, and running a
// compiled step's ExecutorInput through the real launcher; a pipeline mixing bundled and container components.

import { execFileSync } from 'child_process';
import * as path from 'path';
import { Command } from 'commander';
import { z } from 'zod';
import { Pipeline, when, type PipelineNode } from '../../../pipelines/dsl/pipeline';
import { DataReport, ExampleGen, ExampleValidator, ImportSchemaGen, ProduceNumbers, ScaleNumbers, StatisticsGen, SummarizeNumbers } from '../../../runtime/components';
import { registerCompileCommand } from '../../../runtime/cli/commands/compile';
import { getComponent } from '../../../runtime/core/component';
import { containerComponent, isContainerComponent } from '../../../runtime/components/container';
import { Examples, Model, ModelEvaluation } from '../../../runtime/core/artifact-types';
import { launchComponent, parseExecutorInput } from '../../../runtime/core/launcher';
import { compilePlan } from '../../../runtime/compilers/common';
import { KFP_RUN_ID, PIPELINE_ROOT_INPUT, RUN_ID_INPUT } from '../../../runtime/compilers/kfp';
import { shardStepNames } from '../../../runtime/compilers/sharded-steps';

/** produce (cache off) → gpu-scale (GPU, retries, only when `train`) → tpu-summary (TPU unless `tpu: false`). */
export function optionsPipeline(opts: { tpu?: boolean } = {}): Pipeline {
  const p = new Pipeline({
    name: 'options',
    description: 'Every node option',
    parameters: z.object({
      count: z.number().int().min(1).default(10).describe('How many numbers'),
      train: z.boolean().default(true),
      mode: z.string().default('full'),
    }),
  });
  const produce = p.add('produce', ProduceNumbers, { parameters: { count: p.param('count'), seed: 3 }, cache: false });
  const scale = p.add('gpu-scale', ScaleNumbers, {
    inputs: { numbers: produce.outputs.numbers },
    parameters: { factor: 2.5 },
    retry: { maxRetries: 3, backoffSeconds: 5, backoffFactor: 3, maxBackoffSeconds: 120 },
    resources: { cpu: '500m', memory: '4Gi', accelerator: { type: 'nvidia-l4', count: 2 } },
    condition: when(p.param('train'), '==', true),
  });
  p.add('tpu-summary', SummarizeNumbers, {
    inputs: { numbers: scale.outputs.scaled },
    resources: opts.tpu === false ? { cpu: '2', memory: '512M' } : { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' } },
    condition: when(p.param('mode'), '!=', "it's off"),
  });
  return p;
}

/** data-validation as bundled, minus the previous-span resolver (which no compiler supports yet). */
export function dataValidationWithoutResolver(): Pipeline {
  const p = new Pipeline({
    name: 'data-validation',
    parameters: z.object({ input_base: z.string().min(1), schema_file: z.string().min(1) }),
  });
  const examples = p.add('example-gen', ExampleGen, {
    parameters: { input_base: p.param('input_base'), input_splits: [{ name: 'single_split', pattern: 'span-{SPAN}/*' }] },
  });
  const statistics = p.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples } });
  const schema = p.add('schema', ImportSchemaGen, { parameters: { schema_file: p.param('schema_file') } });
  const validator = p.add('example-validator', ExampleValidator, {
    inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema },
    parameters: { on_anomalies: 'warn' },
  });
  p.add('data-report', DataReport, { inputs: { statistics: statistics.outputs.statistics, anomalies: validator.outputs.anomalies } });
  return p;
}

/** Runs `mlp compile ...` on a fresh commander program; resolves to stdout, or the error it threw. */
export async function compileCli(...args: string[]): Promise<{ stdout: string; error?: Error }> {
  let stdout = '';
  const program = new Command('mlp').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
  registerCompileCommand(program, { stdout: { write: (t: string) => (stdout += t) } });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
  try {
    await program.parseAsync(['node', 'mlp', 'compile', ...args]);
    return { stdout };
  } catch (error) {
    return { stdout, error: error as Error };
  }
}

/** Runs one compiled step (its ExecutorInput with every placeholder already filled in) with the real launcher. */
export async function runStep(componentName: string, executorInputJson: string): Promise<void> {
  const input = parseExecutorInput(JSON.parse(executorInputJson), 'compiled step');
  await launchComponent(getComponent(componentName), input, { log: () => undefined });
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The nodes' tasks: the exit handler's sub-DAG holds them. */
export function kfpNodeTasks(spec: Json): Json {
  return spec.components['comp-exit-handler-1'].dag.tasks;
}

/** The IR invariants a KFP backend relies on; returns the problems found. */
export function structuralProblems(spec: Json, pipeline: Pipeline): string[] {
  const problems: string[] = [];
  const rootParams = spec.root.inputDefinitions?.parameters ?? {};
  // The root runs the exit handler's sub-DAG, handing it every pipeline parameter as a channel, then the run_finished task.
  const handler = spec.root.dag.tasks['exit-handler-1'];
  const channels = spec.components['comp-exit-handler-1'].inputDefinitions?.parameters ?? {};
  for (const [channel, value] of Object.entries<Json>(handler.inputs?.parameters ?? {})) {
    if (!channels[channel]) problems.push(`exit-handler-1: input parameter ${channel} not in inputDefinitions`);
    if (!rootParams[value.componentInputParameter]) problems.push(`exit-handler-1: pipeline parameter ${value.componentInputParameter} undefined`);
  }
  const last = spec.root.dag.tasks['mlp-run-finished'];
  if (last?.inputs.parameters.status.taskFinalStatus.producerTask !== 'exit-handler-1' || last.triggerPolicy.strategy !== 'ALL_UPSTREAM_TASKS_COMPLETED') problems.push('mlp-run-finished: not an exit task of exit-handler-1');
  else if (!spec.deploymentSpec.executors[spec.components[last.componentRef.name].executorLabel]) problems.push('mlp-run-finished: executor missing');
  dagProblems(spec, pipeline, kfpNodeTasks(spec), { parameters: channels, artifacts: {} }, problems);
  return problems;
}

/** The node a task runs a step of: its own, or a sharded node's plan or shard step (sharded-steps.ts). */
function nodeOfTask(pipeline: Pipeline, name: string): PipelineNode {
  return pipeline.nodes.find((n) => n.id === name || [shardStepNames(n.id).plan, shardStepNames(n.id).shard].includes(name)) ?? pipeline.node(name);
}

/**
 * The tasks of one DAG (the exit handler's, or a ParallelFor's sub-DAG, checked in turn), given what the DAG's
 * component declares as its inputs (`scope`): every reference resolves, and each step runs its node's component.
 */
function dagProblems(spec: Json, pipeline: Pipeline, tasks: Json, scope: { parameters: Json; artifacts: Json }, problems: string[]): void {
  for (const [name, task] of Object.entries<Json>(tasks)) {
    const comp = spec.components[task.componentRef.name];
    if (!comp) {
      problems.push(`${name}: componentRef ${task.componentRef.name} missing`);
      continue;
    }
    for (const dep of task.dependentTasks ?? []) if (!tasks[dep]) problems.push(`${name}: dependent task ${dep} missing`);
    const outputOf = (producerTask: string, kind: 'artifacts' | 'parameters', key: string) => spec.components[tasks[producerTask]?.componentRef.name]?.outputDefinitions?.[kind]?.[key];
    if (comp.dag) {
      // A ParallelFor: its inputs (the list it iterates over among them) are declared by its sub-DAG's component.
      const declared = comp.inputDefinitions ?? {};
      for (const [param, value] of Object.entries<Json>(task.inputs?.parameters ?? {})) {
        if (!declared.parameters?.[param]) problems.push(`${name}: input parameter ${param} not in inputDefinitions`);
        if (value.componentInputParameter && !scope.parameters[value.componentInputParameter]) problems.push(`${name}: input ${value.componentInputParameter} undefined`);
        if (value.taskOutputParameter) {
          const { producerTask, outputParameterKey } = value.taskOutputParameter;
          if (!(task.dependentTasks ?? []).includes(producerTask)) problems.push(`${name}: producer ${producerTask} not in dependentTasks`);
          if (!outputOf(producerTask, 'parameters', outputParameterKey)) problems.push(`${name}: ${param} ← ${producerTask}.${outputParameterKey} does not resolve`);
        }
      }
      for (const [port, value] of Object.entries<Json>(task.inputs?.artifacts ?? {})) {
        const { producerTask, outputArtifactKey } = value.taskOutputArtifact;
        if (!(task.dependentTasks ?? []).includes(producerTask)) problems.push(`${name}: producer ${producerTask} not in dependentTasks`);
        const out = outputOf(producerTask, 'artifacts', outputArtifactKey);
        const inp = declared.artifacts?.[port];
        if (!out || !inp) problems.push(`${name}: ${port} ← ${producerTask}.${outputArtifactKey} does not resolve`);
        else if (out.artifactType.schemaTitle !== inp.artifactType.schemaTitle) problems.push(`${name}: ${port} schemaTitle mismatch`);
      }
      const iterator = task.parameterIterator;
      if (iterator) {
        if (!task.inputs?.parameters?.[iterator.items.inputParameter] || declared.parameters?.[iterator.items.inputParameter]?.parameterType !== 'LIST') problems.push(`${name}: iterates over ${iterator.items.inputParameter}, not a LIST input`);
        if (!declared.parameters?.[iterator.itemInput]) problems.push(`${name}: item input ${iterator.itemInput} not in inputDefinitions`);
      }
      dagProblems(spec, pipeline, comp.dag.tasks, { parameters: declared.parameters ?? {}, artifacts: declared.artifacts ?? {} }, problems);
      continue;
    }
    if (!spec.deploymentSpec.executors[comp.executorLabel]) {
      problems.push(`${name}: executor ${comp.executorLabel} missing`);
      continue;
    }
    const node = nodeOfTask(pipeline, name);
    const executor = spec.deploymentSpec.executors[comp.executorLabel].container;
    let component = node.component;
    if (isContainerComponent(node.component)) {
      // A container component's step runs its own image and command line.
      if (executor.image !== node.component.container.image || executor.command[0] !== node.component.container.command[0]) problems.push(`${name}: executor runs ${executor.image} ${executor.command[0]}, not the container component's`);
    } else {
      // `mlp component run <Name>`, or a sharded node's `mlp component shard <phase> <Name>`.
      const executorName = executor.command[2] === 'shard' ? executor.command[4] : executor.command[3];
      // A resolver's step runs mlp.Resolver, whose parameters are the strategy and the artifact type.
      component = node.resolver ? compilePlan(pipeline, 'kfp').nodes.find((n) => n.id === name)!.component : getComponent(executorName);
      if (component.name !== executorName || (!node.resolver && component !== node.component)) problems.push(`${name}: executor runs ${executorName}, node is ${node.component.name}`);
    }
    for (const [param, value] of Object.entries<Json>(task.inputs?.parameters ?? {})) {
      const def = comp.inputDefinitions?.parameters?.[param];
      if (!def) problems.push(`${name}: input parameter ${param} not in inputDefinitions`);
      if (value.componentInputParameter && !scope.parameters[value.componentInputParameter]) problems.push(`${name}: input ${value.componentInputParameter} undefined`);
      if (param === RUN_ID_INPUT) {
        if (value.runtimeValue?.constant !== KFP_RUN_ID) problems.push(`${name}: ${RUN_ID_INPUT} is not the pipeline job's id`);
      } else if (param === PIPELINE_ROOT_INPUT) {
        if (value.runtimeValue?.constant !== '{{$.pipeline_root}}') problems.push(`${name}: ${PIPELINE_ROOT_INPUT} is not the pipeline root`);
      } else if (value.runtimeValue) {
        const ok = (component.parameters.shape[param] as z.ZodType).safeParse(value.runtimeValue.constant).success;
        if (!ok) problems.push(`${name}: constant for ${param} does not satisfy the component schema`);
      }
    }
    for (const [port, value] of Object.entries<Json>(task.inputs?.artifacts ?? {})) {
      const inp = comp.inputDefinitions?.artifacts?.[port];
      if (value.componentInputArtifact) {
        // Inside a ParallelFor: an artifact its sub-DAG was handed.
        const from = scope.artifacts[value.componentInputArtifact];
        if (!from || !inp) problems.push(`${name}: ${port} ← ${value.componentInputArtifact} does not resolve`);
        else if (from.artifactType.schemaTitle !== inp.artifactType.schemaTitle) problems.push(`${name}: ${port} schemaTitle mismatch`);
        continue;
      }
      const { producerTask, outputArtifactKey } = value.taskOutputArtifact;
      if (!(task.dependentTasks ?? []).includes(producerTask)) problems.push(`${name}: producer ${producerTask} not in dependentTasks`);
      const out = outputOf(producerTask, 'artifacts', outputArtifactKey);
      if (!out || !inp) problems.push(`${name}: ${port} ← ${producerTask}.${outputArtifactKey} does not resolve`);
      else if (out.artifactType.schemaTitle !== inp.artifactType.schemaTitle) problems.push(`${name}: ${port} schemaTitle mismatch`);
    }
    for (const [port, spec_] of Object.entries(component.inputs)) {
      if (!spec_.optional && !task.inputs?.artifacts?.[port]) problems.push(`${name}: required input ${port} not wired`);
    }
  }
}

/** Tasks a DAG task depends on, directly or not (Argo lets a task read the outputs of any of them). */
function ancestors(tasks: Map<string, Json>, name: string, seen = new Set<string>()): Set<string> {
  for (const dep of (tasks.get(name)?.depends ?? '').split(' && ').filter(Boolean)) {
    if (!seen.has(dep)) {
      seen.add(dep);
      ancestors(tasks, dep, seen);
    }
  }
  return seen;
}

/**
 * The references inside an Argo manifest that Argo resolves only when it runs: every DAG task's template exists,
 * its `depends` names tasks of its DAG, its arguments are its template's inputs, the outputs it reads are
 * outputs of tasks it depends on, and every `inputs.parameters` a template uses is one it declares.
 */
export function argoReferenceProblems(wf: Json): string[] {
  const spec = wf.spec.workflowSpec ?? wf.spec;
  const templates = new Map<string, Json>(spec.templates.map((t: Json) => [t.name, t]));
  const problems: string[] = [];
  for (const t of spec.templates.filter((x: Json) => x.dag)) {
    const tasks = new Map<string, Json>(t.dag.tasks.map((x: Json) => [x.name, x]));
    for (const task of t.dag.tasks) {
      const target = templates.get(task.template);
      if (!target) problems.push(`${t.name}/${task.name}: no template ${task.template}`);
      for (const dep of (task.depends ?? '').split(' && ').filter(Boolean)) if (!tasks.has(dep)) problems.push(`${t.name}/${task.name}: depends on unknown ${dep}`);
      const declared = new Set((target?.inputs?.parameters ?? []).map((p: Json) => p.name));
      const given = (task.arguments?.parameters ?? []).map((p: Json) => p.name);
      if ([...declared].sort().join() !== [...given].sort().join()) problems.push(`${t.name}/${task.name}: arguments ${given} ≠ inputs ${[...declared]}`);
      for (const a of task.arguments?.parameters ?? []) {
        const m = /^\{\{tasks\.([\w-]+)\.outputs\.parameters\.([\w-]+)\}\}$/.exec(a.value);
        if (!m) continue;
        const producer = tasks.get(m[1]);
        const outputs = templates.get(producer?.template)?.outputs?.parameters ?? [];
        if (!outputs.some((o: Json) => o.name === m[2])) problems.push(`${t.name}/${task.name}: ${a.value} is not an output`);
        if (!ancestors(tasks, task.name).has(m[1])) problems.push(`${t.name}/${task.name}: reads ${m[1]} without depending on it`);
      }
    }
  }
  for (const t of spec.templates.filter((x: Json) => x.container || x.dag)) {
    const declared = new Set((t.inputs?.parameters ?? []).map((p: Json) => p.name));
    for (const m of JSON.stringify(t.container ?? t.dag).matchAll(/inputs\.parameters(?:\['|\.)([\w-]+)/g)) if (!declared.has(m[1])) problems.push(`${t.name}: uses undeclared input ${m[1]}`);
  }
  return problems;
}

/**
 * Validates Argo manifest files with the Argo Workflows models (validate-argo.mjs, an ES module run as a child
 * process): one entry per file, null when valid, else the error.
 */
export function argoModelErrors(files: string[]): (string | null)[] {
  return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'validate-argo.mjs'), ...files], { encoding: 'utf8' }));
}

export const Trainer = containerComponent({
  name: 'TorchTrainer',
  image: `us-docker.pkg.dev/p/ml/torch-trainer@sha256:${'c3'.repeat(32)}`,
  command: ['python3', '-m', 'trainer'],
  args: ['--examples', "{{$.inputs.artifacts['examples'].path}}", '--model', "{{$.outputs.artifacts['model'].path}}", '--epochs', "{{$.inputs.parameters['epochs']}}"],
  inputs: { examples: { type: Examples } },
  outputs: { model: { type: Model } },
  parameters: z.object({ epochs: z.number().int().default(5) }),
  resources: { cpu: '4', memory: '16Gi', accelerator: { type: 'nvidia-l4', count: 1 } },
  env: { PYTHONUNBUFFERED: '1' },
});

export const Scorer = containerComponent({
  name: 'Scorer',
  image: 'us-docker.pkg.dev/p/ml/scorer:7',
  command: ['python3', '-m', 'scorer', '--model', "{{$.inputs.artifacts['model'].path}}", '--out', "{{$.outputs.artifacts['evaluation'].path}}"],
  inputs: { model: { type: Model } },
  outputs: { evaluation: { type: ModelEvaluation } },
});

/** ExampleGen (bundled) → trainer (container, GPU) → scorer (container). */
export function mixed(): Pipeline {
  const p = new Pipeline({ name: 'byo-trainer', parameters: z.object({ input_base: z.string() }) });
  const examples = p.add('example-gen', ExampleGen, { parameters: { input_base: p.param('input_base') } });
  const trainer = p.add('trainer', Trainer, { inputs: { examples: examples.outputs.examples }, parameters: { epochs: 3 } });
  p.add('scorer', Scorer, { inputs: { model: trainer.outputs.model } });
  return p;
}
