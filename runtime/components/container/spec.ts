// Container components: a step that runs a user's image (any language, any framework) with KFP v2's
// command-line placeholders, typed with our artifact types so it gets caching, lineage, retries and atomic
// publish exactly like a bundled component. `containerComponent()` defines one; `loadKfpComponent()`
// (kfp-component.ts) builds the same thing from a KFP component YAML.
//
// How compilers recognise and emit one: a component with a `container` field (isContainerComponent) is a
// container step. `container.image/command/args/env` are the step's own (not the runtime image's `mlp
// component run`); command and args are KFP placeholder strings plus Concat / IfPresent structures, which
// kfpCommandLine() turns into KFP IR strings. `container.outputParameters` are KFP output parameters (types as
// KFP names them); input parameters are the zod `parameters` schema, as for every component, with
// `container.parameterTypes` overriding the KFP type derived from it where a KFP file said otherwise.

import { createHash } from 'crypto';
import { z } from 'zod';
import { defineComponent, type AnyComponent, type ComponentDefinition, type InputPorts, type OutputPorts, type ParameterSchema } from '../../core/component';
import { UserError } from '../../core/errors';
import type { ResourceSpec } from '../../../pipelines/dsl/pipeline';
import { runContainer } from './executor';
import { CONTAINER_DISTRIBUTION_ENV, rankLayout, type DistributionSpec, type TpuSlice } from './distribution';

/** KFP v2 parameter types (pipeline_spec.proto ParameterType). */
export type KfpParameterType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT' | 'TASK_FINAL_STATUS';

/**
 * One element of a command line: a string with placeholders such as `{{$.inputs.parameters['p']}}`, or
 * KFP's structures — `Concat` joins its parts into one argument, `IfPresent` gives `Then` when the named input
 * (parameter or artifact) is given and `Else` otherwise (each a part or a list of parts, spliced in).
 */
export type CommandPart =
  | string
  | { Concat: CommandPart[] }
  | { IfPresent: { InputName: string; Then?: CommandPart | CommandPart[]; Else?: CommandPart | CommandPart[] } };

export interface ContainerSpec {
  /** The step's image (cloud targets and `--local-exec docker`). */
  image: string;
  /** Replaces the image's entrypoint (KFP: `command`). */
  command: CommandPart[];
  args: CommandPart[];
  /** Environment of the step. */
  env: Readonly<Record<string, string>>;
  /** Default resources of the step; a node's `resources` option replaces them. @default - none */
  resources?: ResourceSpec;
  /**
   * The command as a local process runs it (`mlp run` without a container engine), e.g. a virtualenv's python
   * instead of the image's `python3`; args are the same. @default - `command`, with `--local-exec subprocess`
   */
  localCommand?: CommandPart[];
  /** KFP output parameters the command writes (`{{$.outputs.parameters['m'].output_file}}` or its ExecutorOutput). */
  outputParameters: Readonly<Record<string, KfpParameterType>>;
  /** KFP types of input parameters where they differ from what the zod schema gives (e.g. TASK_FINAL_STATUS). */
  parameterTypes: Readonly<Record<string, KfpParameterType>>;
  /** Runs the command as N workers × M processes with the launchers' environment (distribution.ts). @default - one process */
  distribution?: DistributionSpec;
  /** Runs the command on a TPU slice: one worker per host of the topology. @default - none */
  tpu?: TpuSlice;
}

export interface ContainerComponentProps<I extends InputPorts, O extends OutputPorts, P extends ParameterSchema> {
  /** Unique component name (also the MLMD execution type). */
  name: string;
  description?: string;
  image: string;
  command: CommandPart[];
  /** @default [] */
  args?: CommandPart[];
  /** Input artifacts by port, typed with our artifact types. @default {} */
  inputs?: I;
  /** Output artifacts by port. @default {} */
  outputs?: O;
  /** Input parameters (zod, with defaults and descriptions). @default none */
  parameters?: P;
  /** KFP output parameters by name and type. @default none */
  outputParameters?: Record<string, KfpParameterType>;
  resources?: ResourceSpec;
  /** @default {} */
  env?: Record<string, string>;
  localCommand?: CommandPart[];
  parameterTypes?: Record<string, KfpParameterType>;
  distribution?: DistributionSpec;
  tpu?: TpuSlice;
}

export type ContainerComponent<I extends InputPorts = InputPorts, O extends OutputPorts = OutputPorts, P extends ParameterSchema = ParameterSchema> =
  AnyComponent & { inputs: I; outputs: O; parameters: P; container: ContainerSpec };

export function isContainerComponent(c: AnyComponent): c is ContainerComponent {
  return 'container' in c && (c as { container?: unknown }).container !== undefined;
}

const OUTPUT_PARAMETER_TYPES: readonly KfpParameterType[] = ['STRING', 'NUMBER_INTEGER', 'NUMBER_DOUBLE', 'BOOLEAN', 'LIST', 'STRUCT'];

/**
 * Defines (and registers by name) a component that runs `image` with `command` + `args`. The version in the
 * cache key is a hash of the container spec, so a changed image, command or environment is a cache miss.
 */
export function containerComponent<I extends InputPorts = {}, O extends OutputPorts = {}, P extends ParameterSchema = ParameterSchema>(
  props: ContainerComponentProps<I, O, P>,
): ContainerComponent<I, O, P> {
  const where = `container component ${props.name}`;
  if (!props.image) throw new UserError(`${where}: image is required`);
  if (!Array.isArray(props.command) || props.command.length === 0) throw new UserError(`${where}: command must be a non-empty list`);
  const parameters = props.parameters ?? (z.object({}) as unknown as P);
  for (const [name, type] of Object.entries(props.outputParameters ?? {})) {
    if (!OUTPUT_PARAMETER_TYPES.includes(type)) throw new UserError(`${where}: output parameter "${name}" has type ${type}; KFP output parameters are ${OUTPUT_PARAMETER_TYPES.join(', ')}`);
    if (name in parameters.shape) throw new UserError(`${where}: "${name}" is both an input and an output parameter`);
  }
  const container: ContainerSpec = Object.freeze({
    image: props.image,
    command: props.command,
    args: props.args ?? [],
    env: Object.freeze({ ...(props.env ?? {}) }),
    ...(props.resources ? { resources: props.resources } : {}),
    ...(props.localCommand ? { localCommand: props.localCommand } : {}),
    outputParameters: Object.freeze({ ...(props.outputParameters ?? {}) }),
    parameterTypes: Object.freeze({ ...(props.parameterTypes ?? {}) }),
    ...(props.distribution ? { distribution: Object.freeze({ ...props.distribution }) } : {}),
    ...(props.tpu ? { tpu: Object.freeze({ ...props.tpu }) } : {}),
  });
  rankLayout(container.distribution, container.tpu, where);
  const inputs = (props.inputs ?? {}) as I;
  const outputs = (props.outputs ?? {}) as O;
  checkPlaceholderNames(where, container, inputs, outputs, parameters);
  const version = containerVersion(container, inputs, outputs);
  // defineComponent keeps every field of what it is given, so the registered component carries `container`.
  const definition: ComponentDefinition<I, O, P> & { container: ContainerSpec } = {
    name: props.name,
    version,
    description: props.description ?? `container ${props.image}`,
    inputs,
    outputs,
    parameters,
    executor: (ctx) => runContainer(props.name, container, { inputs, outputs }, ctx),
    container,
  };
  return defineComponent(definition) as unknown as ContainerComponent<I, O, P>;
}

function portTypes(ports: InputPorts | OutputPorts): Record<string, string> {
  return Object.fromEntries(Object.entries(ports).map(([p, s]) => [p, s.type.name]));
}

const PLACEHOLDER_RE = /\{\{\$(?:\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\])?/g;

/** Refuses a placeholder naming an input or output the component does not declare, when it is defined. */
function checkPlaceholderNames(where: string, spec: ContainerSpec, inputs: InputPorts, outputs: OutputPorts, parameters: ParameterSchema): void {
  const known = {
    'inputs.parameters': new Set(Object.keys(parameters.shape)),
    'inputs.artifacts': new Set(Object.keys(inputs)),
    'outputs.parameters': new Set(Object.keys(spec.outputParameters)),
    'outputs.artifacts': new Set(Object.keys(outputs)),
  };
  const visit = (part: CommandPart): void => {
    if (typeof part === 'string') {
      for (const m of part.matchAll(PLACEHOLDER_RE)) {
        if (!m[1]) continue;
        const kind = `${m[1]}.${m[2]}` as keyof typeof known;
        if (!known[kind].has(m[3])) {
          throw new UserError(`${where}: placeholder ${m[0]}…}} names ${kind.replace('.', ' ')} "${m[3]}", which the component does not declare (declared: ${[...known[kind]].join(', ') || 'none'})`);
        }
      }
    } else if ('Concat' in part) part.Concat.forEach(visit);
    else if ('IfPresent' in part) {
      const { InputName, Then, Else } = part.IfPresent;
      if (!known['inputs.parameters'].has(InputName) && !known['inputs.artifacts'].has(InputName)) {
        throw new UserError(`${where}: IfPresent names input "${InputName}", which the component does not declare`);
      }
      for (const branch of [Then, Else]) if (branch !== undefined) (Array.isArray(branch) ? branch : [branch]).forEach(visit);
    } else throw new UserError(`${where}: command part ${JSON.stringify(part)} is neither a string, Concat nor IfPresent`);
  };
  [...spec.command, ...spec.args, ...(spec.localCommand ?? [])].forEach(visit);
}

/** A command line in KFP IR form: Concat / IfPresent structures as the JSON strings the KFP SDK writes. */
export function kfpCommandLine(parts: readonly CommandPart[]): string[] {
  return parts.map((p) => (typeof p === 'string' ? p : pythonJson(p)));
}

/** JSON as Python's json.dumps writes it (the KFP SDK's serializer): `", "` and `": "` separators, ASCII only. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A container component's version (its cache key's): a hash of its container spec and port types. */
function containerVersion(container: ContainerSpec, inputs: InputPorts, outputs: OutputPorts): string {
  return createHash('sha256')
    .update(JSON.stringify({ container, inputs: portTypes(inputs), outputs: portTypes(outputs) }))
    .digest('hex')
    .slice(0, 16);
}

/** What a pipeline node may set for its container component's run: `pipeline.add(id, c, { distribution, tpu })`. */
export interface DistributionOverride {
  distribution?: DistributionSpec;
  tpu?: TpuSlice;
}

/**
 * The component a node runs when it sets `distribution` / `tpu` (replacing the component's pair): the same
 * component with that container spec, checked as the component's own is, and its version computed from it as
 * for a component defined with it (a different distribution is a different cache key). Not registered: the name
 * stays the component's, and a node's runner process gets the override as CONTAINER_DISTRIBUTION_ENV.
 */
export function withDistribution(c: AnyComponent, override: DistributionOverride, where: string): ContainerComponent {
  if (!isContainerComponent(c)) {
    throw new UserError(`${where}: ${override.tpu ? 'tpu' : 'distribution'} is set, but component ${c.name} is not a container component (only container components run distributed)`);
  }
  // The node's pair replaces the component's: a node setting tpu runs a slice, whatever distribution the component has.
  const container: ContainerSpec = Object.freeze({
    ...c.container,
    distribution: override.distribution ? Object.freeze({ ...override.distribution }) : undefined,
    tpu: override.tpu ? Object.freeze({ ...override.tpu }) : undefined,
  });
  rankLayout(container.distribution, container.tpu, `${where}: container component ${c.name}`);
  const ports = { inputs: c.inputs, outputs: c.outputs };
  return Object.freeze({
    ...c,
    version: containerVersion(container, c.inputs, c.outputs),
    container,
    executor: (ctx: Parameters<typeof runContainer>[3]) => runContainer(c.name, container, ports, ctx),
  }) as unknown as ContainerComponent;
}

/**
 * The environment of a node's executor process (the local runner's) that carries its container component's
 * distribution: the executor process finds the component by name, the registered one, without a node's override.
 */
export function containerDistributionEnv(c: AnyComponent): Record<string, string> {
  if (!isContainerComponent(c) || (!c.container.distribution && !c.container.tpu)) return {};
  return { [CONTAINER_DISTRIBUTION_ENV]: JSON.stringify({ distribution: c.container.distribution, tpu: c.container.tpu }) };
}
