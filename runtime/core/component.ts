// The component contract: a typed spec (input and output ports with artifact types, parameters as a zod
// schema with defaults and descriptions) plus an executor that only reads its inputs and writes its outputs.
// Drivers, publishers and the metadata store live elsewhere (runtime/runner); executors never see them.

import { z } from 'zod';
import type { ArtifactType } from './artifact-types';
import type { Properties } from '../metadata/types';
import { UserError } from './errors';
import type { ShardingSpec } from './sharding';

export interface InputPortSpec {
  type: ArtifactType;
  /** An optional input may be left unwired; the executor then sees an empty list. */
  optional?: boolean;
  description?: string;
}

export interface OutputPortSpec {
  type: ArtifactType;
  description?: string;
}

export type InputPorts = Record<string, InputPortSpec>;
export type OutputPorts = Record<string, OutputPortSpec>;
export type ParameterSchema = z.ZodObject<z.ZodRawShape>;

/** An input artifact as the executor sees it: a local folder to read (downloaded first when remote). */
export interface InputArtifact {
  /** The artifact's MLMD id, when the orchestrator named it (see artifactResourceName). */
  id?: number;
  uri: string;
  /** Local folder holding the artifact's files. */
  path: string;
  properties: Properties;
}

/** An output artifact: the executor writes files under `path` and may set `properties`. */
export interface OutputArtifact {
  /** Final URI the artifact is published to once the executor succeeds. */
  uri: string;
  /** Local scratch folder the executor writes into; published atomically afterwards. */
  path: string;
  properties: Properties;
}

/** The pipeline node an execution runs for, so an executor can name it in structured log lines. */
export interface StepIdentity {
  pipeline: string;
  node: string;
}

export interface ExecutorContext<I extends InputPorts, O extends OutputPorts, P extends ParameterSchema> {
  inputs: { [K in keyof I]: InputArtifact[] };
  outputs: { [K in keyof O]: OutputArtifact };
  parameters: z.output<P>;
  /** Writes a line to the node's log. */
  log(message: string): void;
  /**
   * A one-line status of a long executor for people (e.g. the Tuner's trial i/N and best objective so far):
   * `mlp run` shows it next to the node while it runs; elsewhere it is a log line.
   */
  progress(status: string): void;
  /** Set by the local runner and cloud steps; undefined when a component runs on its own (`mlp component run` outside a cloud step). */
  step?: StepIdentity;
  /** KFP output parameters the executor produced (container components); they go to ExecutorOutput.parameterValues. */
  outputParameters: Record<string, unknown>;
}

export type Executor<I extends InputPorts, O extends OutputPorts, P extends ParameterSchema> = (
  ctx: ExecutorContext<I, O, P>,
) => Promise<void> | void;

/** What a component reads from outside the pipeline (e.g. ExampleGen's input files), for the cache key. */
export interface ExternalInputs {
  /** Changes whenever the external data does (e.g. a hash over file names, sizes and modification times). */
  fingerprint: string;
  /** For people: what was found (e.g. "span 2 version 0: 3 files"). */
  summary: string;
}

export interface ComponentDefinition<
  I extends InputPorts = InputPorts,
  O extends OutputPorts = OutputPorts,
  P extends ParameterSchema = ParameterSchema,
> {
  /** Unique name; also the MLMD execution type name. */
  name: string;
  /** Part of the cache key: bump it when the executor's behaviour changes. */
  version: string;
  description: string;
  inputs: I;
  outputs: O;
  parameters: P;
  executor: Executor<I, O, P>;
  /**
   * Components that read data from outside the pipeline describe it here; the driver calls this before the
   * cache lookup, so new or changed external data is a cache miss (as TFX's ExampleGen driver does).
   * @default - no external inputs: parameters and input artifacts decide the cache key
   */
  externalInputs?: (parameters: z.output<P>) => Promise<ExternalInputs>;
  /**
   * Components whose work splits into shards with a merge (runtime/core/sharding.ts) say how; a node then takes
   * `shards: N | 'auto'`.
   * @default - not shardable: a node asking for shards is refused when the pipeline is built
   */
  sharding?: ShardingSpec<I, O, P>;
}

/** Any component, whatever its ports and parameters (the executor's context is checked where it is defined). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyComponent = Omit<ComponentDefinition, 'executor' | 'externalInputs' | 'sharding'> & {
  executor: Executor<any, any, any>;
  externalInputs?: (parameters: any) => Promise<ExternalInputs>;
  sharding?: ShardingSpec<any, any, any>;
};

const registry = new Map<string, AnyComponent>();

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const PORT_RE = /^[a-z][a-z0-9_]*$/;

/**
 * Defines a component and registers it by name, so `mlp component run <name>` (in a container or a runner
 * worker) finds it once its module is loaded.
 */
export function defineComponent<I extends InputPorts, O extends OutputPorts, P extends ParameterSchema>(
  def: ComponentDefinition<I, O, P>,
): ComponentDefinition<I, O, P> {
  if (!NAME_RE.test(def.name)) throw new UserError(`component name "${def.name}" must match ${NAME_RE}`);
  for (const port of [...Object.keys(def.inputs), ...Object.keys(def.outputs)]) {
    if (!PORT_RE.test(port)) throw new UserError(`component ${def.name}: port name "${port}" must match ${PORT_RE}`);
  }
  const clash = Object.keys(def.inputs).find((p) => p in def.outputs);
  if (clash) throw new UserError(`component ${def.name}: "${clash}" is both an input and an output port`);
  const existing = registry.get(def.name);
  if (existing && existing.version !== def.version) {
    throw new UserError(`component ${def.name} is defined twice, as versions ${existing.version} and ${def.version}`);
  }
  const frozen = Object.freeze({ ...def });
  registry.set(def.name, frozen as unknown as AnyComponent);
  return frozen;
}

export function getComponent(name: string): AnyComponent {
  const c = registry.get(name);
  if (!c) {
    const known = [...registry.keys()].sort().join(', ') || '(none)';
    throw new UserError(`unknown component "${name}"; known components: ${known}`);
  }
  return c;
}

export function listComponents(): AnyComponent[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

