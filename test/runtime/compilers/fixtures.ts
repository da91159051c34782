// Shared by the compiler tests: a pipeline with every per-node option the compilers translate (GPU, TPU,
// retries, a parameter condition, cache off), the data-validation pipeline without its resolver (to compile
// the data components' parameter types everywhere), a commander harness for `mlp compile`, and running a
// compiled step's ExecutorInput through the real launcher; a pipeline mixing bundled and container components.

import { Command } from 'commander';
import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { DataReport, ExampleGen, ExampleValidator, ImportSchemaGen, ProduceNumbers, ScaleNumbers, StatisticsGen, SummarizeNumbers } from '../../../runtime/components';
import { registerCompileCommand } from '../../../runtime/cli/commands/compile';
import { getComponent } from '../../../runtime/core/component';
import { containerComponent, isContainerComponent } from '../../../runtime/components/container';
import { Examples, Model, ModelEvaluation } from '../../../runtime/core/artifact-types';
import { launchComponent, parseExecutorInput } from '../../../runtime/core/launcher';
import { compilePlan } from '../../../runtime/compilers/common';
import { KFP_RUN_ID, RUN_ID_INPUT } from '../../../runtime/compilers/kfp';

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
  const tasks = kfpNodeTasks(spec);
  for (const [name, task] of Object.entries<Json>(tasks)) {
    const comp = spec.components[task.componentRef.name];
    if (!comp) {
      problems.push(`${name}: componentRef ${task.componentRef.name} missing`);
      continue;
    }
    if (!spec.deploymentSpec.executors[comp.executorLabel]) {
      problems.push(`${name}: executor ${comp.executorLabel} missing`);
      continue;
    }
    const node = pipeline.node(name);
    const executor = spec.deploymentSpec.executors[comp.executorLabel].container;
    let component = node.component;
    if (isContainerComponent(node.component)) {
      // A container component's step runs its own image and command line.
      if (executor.image !== node.component.container.image || executor.command[0] !== node.component.container.command[0]) problems.push(`${name}: executor runs ${executor.image} ${executor.command[0]}, not the container component's`);
    } else {
      const executorName = executor.command[3];
      // A resolver's step runs mlp.Resolver, whose parameters are the strategy and the artifact type.
      component = node.resolver ? compilePlan(pipeline, 'kfp').nodes.find((n) => n.id === name)!.component : getComponent(executorName);
      if (component.name !== executorName || (!node.resolver && component !== node.component)) problems.push(`${name}: executor runs ${executorName}, node is ${node.component.name}`);
    }
    for (const [param, value] of Object.entries<Json>(task.inputs?.parameters ?? {})) {
      const def = comp.inputDefinitions?.parameters?.[param];
      if (!def) problems.push(`${name}: input parameter ${param} not in inputDefinitions`);
      if (value.componentInputParameter && !channels[value.componentInputParameter]) problems.push(`${name}: pipeline parameter ${value.componentInputParameter} undefined`);
      if (param === RUN_ID_INPUT) {
        if (value.runtimeValue?.constant !== KFP_RUN_ID) problems.push(`${name}: ${RUN_ID_INPUT} is not the pipeline job's id`);
      } else if (value.runtimeValue) {
        const ok = (component.parameters.shape[param] as z.ZodType).safeParse(value.runtimeValue.constant).success;
        if (!ok) problems.push(`${name}: constant for ${param} does not satisfy the component schema`);
      }
    }
    for (const [port, value] of Object.entries<Json>(task.inputs?.artifacts ?? {})) {
      const { producerTask, outputArtifactKey } = value.taskOutputArtifact;
      if (!(task.dependentTasks ?? []).includes(producerTask)) problems.push(`${name}: producer ${producerTask} not in dependentTasks`);
      const producer = spec.components[tasks[producerTask]?.componentRef.name];
      const out = producer?.outputDefinitions?.artifacts?.[outputArtifactKey];
      const inp = comp.inputDefinitions?.artifacts?.[port];
      if (!out || !inp) problems.push(`${name}: ${port} ← ${producerTask}.${outputArtifactKey} does not resolve`);
      else if (out.artifactType.schemaTitle !== inp.artifactType.schemaTitle) problems.push(`${name}: ${port} schemaTitle mismatch`);
    }
    for (const [port, spec_] of Object.entries(component.inputs)) {
      if (!spec_.optional && !task.inputs?.artifacts?.[port]) problems.push(`${name}: required input ${port} not wired`);
    }
    for (const dep of task.dependentTasks ?? []) if (!tasks[dep]) problems.push(`${name}: dependent task ${dep} missing`);
  }
  return problems;
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
