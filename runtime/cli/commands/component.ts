// `mlp component run`: the container entry point. Reads a KFP ExecutorInput (a file or inline JSON), runs
// the named component and writes the ExecutorOutput to the outputFile the input names.
//
// With --metadata (or $MLP_METADATA) and --pipeline/--run-id/--node it runs as a cloud step
// (runtime/runner/cloud-step.ts): cache lookup, then CACHED, or RUNNING → COMPLETE / FAILED in the metadata
// store, as the local runner records it. `mlp component run mlp.Resolver` is a resolver node's step.
// With --container-spec it is a container component's step on Argo or Airflow, run in the user's image from
// the runtime an init container copied there (runtime/compilers/container-step.ts): the spec rebuilds the
// component, whose executor runs the image's command with the placeholders resolved from the ExecutorInput.
// With --executor-output-uri it also creates the ExecutorOutput there, exclusively (rank 0 of a distributed step on
// Argo, whose result a resource template cannot return; `mlp component result` reads it back, component-result.ts).

import * as fs from 'fs';
import type { Command } from 'commander';
import { getComponent } from '../../core/component';
import { launchComponent, parseExecutorInput, writeFileAtomic } from '../../core/launcher';
import { UserError } from '../../core/errors';
import { openMetadataStore } from '../../metadata';
import { containerComponentFromStepSpec } from '../../components/container/step-spec';
import { loadComponentModules } from '../../runner/component-modules';
import { runResolverStep, runStep } from '../../runner/cloud-step';
import { dropUnresolved, RESOLVER_COMPONENT } from '../../runner/step-protocol';
import type { ExecutorOutput } from '../../core/executor-io';
import { storageFor } from '../../storage';
import { registerResultCommand, writeExecutorOutput } from './component-result';

interface RunFlags {
  executorInput: string;
  module?: string[];
  containerSpec?: string;
  json?: boolean;
  metadata?: string;
  pipeline?: string;
  runId?: string;
  node?: string;
  cache: boolean;
  executorOutputUri?: string;
}

export function registerComponentCommand(program: Command): void {
  const component = program.command('component').description('list and describe components, or run one directly (what a container step does)');
  registerReferenceCommands(component);
  component
    .command('run')
    .description('run one component from a KFP v2 ExecutorInput')
    .argument('<name>', `component name, e.g. ProduceNumbers (${RESOLVER_COMPONENT} for a resolver node's step)`)
    .requiredOption('--executor-input <file-or-json>', 'ExecutorInput as a JSON file path or inline JSON')
    .option('--module <file...>', 'modules to load first (where user-defined components live)')
    .option('--container-spec <spec>', 'a container component\'s step spec (what the Argo and Airflow compilers embed): inline JSON, base64:<JSON as base64> or a file')
    .option('--json', 'print the ExecutorOutput on stdout')
    .option('--metadata <address>', 'metadata store of a cloud step: sqlite:PATH or postgres://... (default: $MLP_METADATA)')
    .option('--pipeline <name>', 'cloud step: the pipeline this step belongs to (with --run-id and --node)')
    .option('--run-id <id>', 'cloud step: the run (the engine\'s workflow or job id)')
    .option('--node <id>', 'cloud step: the node id')
    .option('--no-cache', 'cloud step: do not reuse a cached execution (the node has caching off)')
    .option('--executor-output-uri <uri>', 'also create the ExecutorOutput there, only if absent (rank 0 of a distributed step on Argo; read back by mlp component result)')
    .action(async (name: string, flags: RunFlags) => {
      const raw = flags.executorInput.trimStart().startsWith('{') ? flags.executorInput : readInputFile(flags.executorInput);
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (err) {
        throw new UserError(`--executor-input is not valid JSON: ${(err as Error).message}`);
      }
      const where = raw === flags.executorInput ? '--executor-input' : flags.executorInput;
      const input = parseExecutorInput(json, where);
      const step = cloudStep(name, flags);
      // An unsupported --executor-output-uri is refused before the step runs and publishes anything.
      if (flags.executorOutputUri) storageFor(flags.executorOutputUri);
      const load = () => (flags.containerSpec !== undefined ? loadContainerStep(name, flags.containerSpec, flags.module) : loadComponentModules(name, flags.module ?? []));
      let output: ExecutorOutput;
      if (step) {
        const store = await openMetadataStore(step.metadata);
        try {
          const scope = { store, pipeline: step.pipeline, runId: step.runId, nodeId: step.node, noCache: !flags.cache };
          if (name === RESOLVER_COMPONENT) {
            output = (await runResolverStep(input, scope)).output;
          } else {
            load();
            // The engine stops the pod with SIGTERM: the step records itself CANCELED rather than RUNNING forever.
            output = (await runStep(getComponent(name), input, { ...scope, exitOnSignal: true })).output;
          }
        } finally {
          await store.close();
        }
      } else {
        load();
        output = await launchComponent(getComponent(name), dropUnresolved(input));
      }
      // The same JSON the launcher writes to the ExecutorInput's outputFile.
      if (flags.executorOutputUri) await writeExecutorOutput(flags.executorOutputUri, JSON.stringify(output, null, 2));
      if (flags.json) process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    });
  registerResultCommand(component);

  // The Tuner fanned out over pods (runtime/runner/tuner-fanout.ts); the compilers emit these steps.
  component
    .command('tuner')
    .description("one phase of a Tuner fanned out over pods: suggest a round's trials, run one trial, or collect the results as the Tuner's outputs")
    .argument('<phase>', 'suggest, trial or collect')
    .requiredOption('--executor-input <file-or-json>', "the Tuner node's ExecutorInput (file path or inline JSON)")
    .requiredOption('--trials-dir <uri>', "folder (or gs:// prefix) of this run's trial results")
    .option('--round <n>', 'suggest: which round (1, 2, ...)')
    .option('--per-round <n>', 'suggest: trials per round (the pods running at once)')
    .option('--out <file>', 'suggest: where to write the round\'s trials (a JSON list)')
    .option('--trial <json>', 'trial: the trial to run, as suggest wrote it')
    .option('--metadata <address>', 'suggest, collect: metadata store (default: $MLP_METADATA)')
    .option('--pipeline <name>', 'suggest, collect: cloud step pipeline (with --run-id and --node)')
    .option('--run-id <id>', 'suggest, collect: cloud step run')
    .option('--node <id>', 'suggest, collect: cloud step node id')
    .option('--no-cache', 'suggest, collect: do not reuse a cached execution')
    .action(async (phase: string, flags: RunFlags & { trialsDir: string; round?: string; perRound?: string; out?: string; trial?: string }) => {
      const { suggestTrials, runTrial, collectTrials } = await import('../../runner/tuner-fanout');
      const input = parseExecutorInput(parseJson(readInput(flags.executorInput), '--executor-input'), '--executor-input');
      const step = phase === 'trial' ? undefined : cloudStep('Tuner', flags);
      const store = step ? await openMetadataStore(step.metadata) : undefined;
      const scope = step && store ? { store, pipeline: step.pipeline, runId: step.runId, nodeId: step.node, noCache: !flags.cache } : undefined;
      try {
        if (phase === 'suggest') {
          const round = positive('--round', flags.round);
          const perRound = positive('--per-round', flags.perRound);
          if (!flags.out) throw new UserError('suggest needs --out FILE');
          const trials = await suggestTrials(input, { trialsDir: flags.trialsDir, round, perRound, scope });
          await writeFileAtomic(flags.out, JSON.stringify(trials));
          process.stderr.write(`round ${round}: ${trials.length ? trials.map((t) => t.trialId).join(', ') : 'no trials'}\n`);
        } else if (phase === 'trial') {
          if (!flags.trial) throw new UserError('trial needs --trial JSON (one entry of what suggest wrote)');
          await runTrial(input, { trialsDir: flags.trialsDir, trial: parseJson(flags.trial, '--trial') as never });
        } else if (phase === 'collect') {
          await collectTrials(input, { trialsDir: flags.trialsDir, scope });
        } else {
          throw new UserError(`phase must be suggest, trial or collect, got "${phase}"`);
        }
      } finally {
        await store?.close();
      }
    });
  registerShardCommand(component);
  component.exitOverride();
}

/** A sharded step's phases (runtime/runner/shard-steps.ts); the compilers emit these steps, the local runner runs them too. */
function registerShardCommand(component: Command): void {
  component
    .command('shard')
    .description("one phase of a sharded step: plan the shards, run one shard's partial state, or merge them into the node's outputs")
    .argument('<phase>', 'plan, run or merge')
    .argument('<name>', 'the component, e.g. StatisticsGen (it must declare sharding)')
    .requiredOption('--executor-input <file-or-json>', "the node's ExecutorInput (file path or inline JSON)")
    .requiredOption('--shards-dir <uri>', "folder (or gs:// prefix) of this execution's shard states: plan.json and one folder per shard")
    .option('--shards <n|auto>', 'plan: the node\'s shard count, or auto (the component decides from the input size)', 'auto')
    .option('--out <file>', 'plan: where to write the shard items, a JSON list of "i/N" ([] when the outputs are cached)')
    .option('--shard <i/N>', 'run: which shard')
    .option('--module <file...>', 'modules to load first (where user-defined components live)')
    .option('--metadata <address>', 'plan, merge: metadata store (default: $MLP_METADATA)')
    .option('--pipeline <name>', 'plan, merge: cloud step pipeline (with --run-id and --node)')
    .option('--run-id <id>', 'plan, merge: cloud step run')
    .option('--node <id>', 'plan, merge: cloud step node id')
    .option('--no-cache', 'plan, merge: do not reuse a cached execution')
    .action(async (phase: string, name: string, flags: RunFlags & { shardsDir: string; shards: string; out?: string; shard?: string }) => {
      const { planShards, runShard, mergeShards } = await import('../../runner/shard-steps');
      const { checkShardsOption, parseShardItem } = await import('../../core/sharding');
      if (!['plan', 'run', 'merge'].includes(phase)) throw new UserError(`phase must be plan, run or merge, got "${phase}"`);
      const input = parseExecutorInput(parseJson(readInput(flags.executorInput), '--executor-input'), '--executor-input');
      loadComponentModules(name, flags.module ?? []);
      const target = getComponent(name);
      const step = phase === 'run' ? undefined : cloudStep(name, flags);
      const store = step ? await openMetadataStore(step.metadata) : undefined;
      const scope = step && store ? { store, pipeline: step.pipeline, runId: step.runId, nodeId: step.node, noCache: !flags.cache } : undefined;
      try {
        if (phase === 'plan') {
          if (!flags.out) throw new UserError('plan needs --out FILE');
          // Only digits are a count: Number() would make "" 0 and "abc" NaN, which the error shows as null.
          const shards = checkShardsOption(/^\d+$/.test(flags.shards) ? Number(flags.shards) : flags.shards, '--shards');
          const items = await planShards(target, input, { shardsDir: flags.shardsDir, shards, scope });
          await writeFileAtomic(flags.out, JSON.stringify(items));
          process.stderr.write(`${name}: ${items.length ? `${items.length} shards` : 'cached, no shards'}\n`);
        } else if (phase === 'run') {
          if (!flags.shard) throw new UserError('run needs --shard i/N (one item of what plan wrote)');
          await runShard(target, input, { shardsDir: flags.shardsDir, shard: parseShardItem(flags.shard, '--shard') });
        } else {
          await mergeShards(target, input, { shardsDir: flags.shardsDir, scope });
        }
      } finally {
        await store?.close();
      }
    });
}

/** `mlp component list` and `mlp component describe <name>`: ports, artifact types and parameters from the specs. */
function registerReferenceCommands(component: Command): void {
  component
    .command('list')
    .description('list the bundled components: input and output ports (? = optional) and what each does')
    .option('--json', 'print every component\'s description (ports, parameters) as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { describeComponents, loadBundledComponents } = await import('../../reference/component-reference');
      const { componentListText } = await import('../../reference/render-text');
      loadBundledComponents();
      const refs = describeComponents();
      process.stdout.write(flags.json ? `${JSON.stringify(refs, null, 2)}\n` : componentListText(refs));
    });
  component
    .command('describe')
    .description('describe a component: inputs and outputs with artifact types, parameters with type, default and description')
    .argument('<name>', 'component name, e.g. ExampleGen (see mlp component list)')
    .option('--module <file...>', 'modules defining the component, when it is your own (e.g. your pipeline module)')
    .option('--json', 'print the description as JSON')
    .action(async (name: string, flags: { module?: string[]; json?: boolean }) => {
      const { describeComponent } = await import('../../reference/component-reference');
      const { componentText } = await import('../../reference/render-text');
      loadComponentModules(name, flags.module ?? []);
      const ref = describeComponent(getComponent(name));
      process.stdout.write(flags.json ? `${JSON.stringify(ref, null, 2)}\n` : componentText(ref));
    });
}

/** Rebuilds the container component of a --container-spec; it must be the one the step names. */
function loadContainerStep(name: string, text: string, modules: string[] | undefined): void {
  if (modules?.length) throw new UserError('--container-spec and --module exclude each other: the spec is the whole component');
  const raw = text.startsWith('base64:') ? Buffer.from(text.slice('base64:'.length), 'base64').toString('utf8') : readInput(text, '--container-spec');
  const where = text.startsWith('{') || text.startsWith('base64:') ? '--container-spec' : `--container-spec ${text}`;
  const component = containerComponentFromStepSpec(parseJson(raw, where), where);
  if (component.name !== name) throw new UserError(`${where} describes container component ${component.name}, not ${name}`);
}

function readInput(value: string, flag = '--executor-input'): string {
  return value.trimStart().startsWith('{') ? value : readInputFile(value, flag);
}

function parseJson(raw: string, where: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new UserError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a whole number ≥ 1, got ${value ?? 'nothing'}`);
  return n;
}

/** The cloud-step settings, when given; all of them or none. */
function cloudStep(name: string, flags: RunFlags): { metadata: string; pipeline: string; runId: string; node: string } | undefined {
  const given = [flags.pipeline, flags.runId, flags.node].filter((v) => v !== undefined).length;
  if (given === 0 && !flags.metadata) {
    if (name === RESOLVER_COMPONENT) throw new UserError(`${RESOLVER_COMPONENT} resolves from the metadata store: pass --metadata (or set MLP_METADATA) with --pipeline, --run-id and --node`);
    if (!flags.cache) throw new UserError('--no-cache applies to cloud steps only (with --metadata, --pipeline, --run-id and --node)');
    return undefined;
  }
  if (given !== 3) throw new UserError('a cloud step needs --pipeline, --run-id and --node together');
  const metadata = flags.metadata ?? process.env.MLP_METADATA;
  if (!metadata) throw new UserError('a cloud step needs the metadata store: pass --metadata or set MLP_METADATA');
  return { metadata, pipeline: flags.pipeline!, runId: flags.runId!, node: flags.node! };
}

function readInputFile(file: string, flag = '--executor-input'): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${flag} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
