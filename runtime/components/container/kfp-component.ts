// KFP component files: `loadKfpComponent(path)` reads the YAML the KFP v2 SDK writes for a component
// (`compiler.Compiler().compile(component, 'x.yaml')`, what `kfp.components.load_component_from_file` takes: a
// PipelineSpec holding the component and its executor) and returns a container component usable in
// `pipeline.add`, KFP artifact types mapped onto ours. `kfpComponentIR` writes a container component back out
// as the KFP IR component + executor, so what was loaded compiles back to what the SDK wrote.

import * as fs from 'fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Examples, GenericArtifact, Model, ModelEvaluation, STANDARD_ARTIFACT_TYPES, type ArtifactType } from '../../core/artifact-types';
import type { InputPorts, OutputPorts } from '../../core/component';
import { UserError } from '../../core/errors';
import type { ResourceSpec } from '../../../pipelines/dsl/pipeline';
import { parameterInfo } from '../../compilers/common';
import { kfpArtifactType } from '../../compilers/kfp-artifact-types';
import { fromKfpCommandPart } from './placeholders';
import { containerComponent, kfpCommandLine, type ContainerComponent, type KfpParameterType } from './spec';

/**
 * KFP's artifact schema titles and the type each becomes here: KFP's system types with a counterpart, and
 * `tfx.<Type>` for each standard type (the titles our KFP compiler gives types KFP has none for).
 */
export const KFP_ARTIFACT_TYPES: Readonly<Record<string, ArtifactType>> = {
  'system.Dataset': Examples,
  'system.Model': Model,
  'system.Metrics': ModelEvaluation,
  'system.Artifact': GenericArtifact,
  ...Object.fromEntries(STANDARD_ARTIFACT_TYPES.map((t) => [`tfx.${t.name}`, t])),
};

const PARAMETER_TYPES: readonly KfpParameterType[] = ['STRING', 'NUMBER_INTEGER', 'NUMBER_DOUBLE', 'BOOLEAN', 'LIST', 'STRUCT', 'TASK_FINAL_STATUS'];
const CONTAINER_FIELDS = new Set(['image', 'command', 'args', 'env', 'resources']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function parameterSchema(type: KfpParameterType): z.ZodType {
  switch (type) {
    case 'STRING': return z.string();
    case 'NUMBER_INTEGER': return z.number().int();
    case 'NUMBER_DOUBLE': return z.number();
    case 'BOOLEAN': return z.boolean();
    case 'LIST': return z.array(z.unknown());
    // TASK_FINAL_STATUS is the struct KFP hands an exit handler (state, pipelineJobResourceName, error…).
    default: return z.record(z.string(), z.unknown());
  }
}

/** A parameter as KFP's inputDefinitions declare it (description, defaultValue, isOptional) as a zod field. */
export function parameterField(type: KfpParameterType, def: { description?: unknown; defaultValue?: unknown; isOptional?: unknown }): z.ZodType {
  let s = parameterSchema(type);
  if (typeof def.description === 'string') s = s.describe(def.description);
  if (def.defaultValue !== undefined) s = s.default(def.defaultValue as never);
  else if (def.isOptional) s = s.optional();
  return s;
}

function artifactType(spec: unknown, where: string): ArtifactType {
  const title = isObject(spec) && isObject(spec.artifactType) ? spec.artifactType.schemaTitle : undefined;
  if (isObject(spec) && spec.isArtifactList) throw new UserError(`${where}: artifact lists are not supported`);
  const type = typeof title === 'string' ? KFP_ARTIFACT_TYPES[title] : undefined;
  if (!type) throw new UserError(`${where}: artifact type ${JSON.stringify(title)} has no counterpart here (supported: ${Object.keys(KFP_ARTIFACT_TYPES).join(', ')})`);
  return type;
}

/** KFP IR container resources → a node's resources (cpu/memory limits, accelerator as GKE labels it). */
function resources(r: unknown, where: string): ResourceSpec | undefined {
  if (r === undefined) return undefined;
  if (!isObject(r)) throw new UserError(`${where}: resources must be a mapping`);
  const out: ResourceSpec = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'cpuLimit' || k === 'resourceCpuLimit') out.cpu = String(v);
    else if (k === 'memoryLimit') out.memory = `${v}G`;
    else if (k === 'resourceMemoryLimit') out.memory = String(v);
    else if (k === 'accelerator' && isObject(v) && (typeof v.type === 'string' || typeof v.resourceType === 'string')) {
      out.accelerator = { type: String(v.type ?? v.resourceType).toLowerCase().replace(/_/g, '-'), count: Number(v.count ?? v.resourceCount ?? 1) };
    } else throw new UserError(`${where}: resources.${k} is not supported (cpuLimit, memoryLimit, accelerator and their resource* forms are)`);
  }
  return out;
}

function buildComponent(file: string, key: string, comp: Json, executors: Json, name: string): ContainerComponent {
  const where = `${file}: component ${key}`;
  const label = comp.executorLabel;
  if (typeof label !== 'string') throw new UserError(`${where} has no executorLabel (a sub-pipeline, not a container component)`);
  const exec = executors[label];
  if (!isObject(exec) || !isObject(exec.container)) throw new UserError(`${where}: executor ${label} is not a container executor (importers and resolvers are not supported)`);
  const container = exec.container;
  for (const k of Object.keys(container)) if (!CONTAINER_FIELDS.has(k)) throw new UserError(`${where}: container field "${k}" is not supported (${[...CONTAINER_FIELDS].join(', ')} are)`);
  if (typeof container.image !== 'string') throw new UserError(`${where}: container has no image`);
  const commandLine = (v: unknown, field: string) => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new UserError(`${where}: container.${field} must be a list`);
    return v.map((e) => fromKfpCommandPart(e, `${where}: container.${field}`));
  };

  const inputDefs = isObject(comp.inputDefinitions) ? comp.inputDefinitions : {};
  const outputDefs = isObject(comp.outputDefinitions) ? comp.outputDefinitions : {};
  const shape: Record<string, z.ZodType> = {};
  const parameterTypes: Record<string, KfpParameterType> = {};
  for (const [p, def] of Object.entries(isObject(inputDefs.parameters) ? inputDefs.parameters : {})) {
    const type = isObject(def) ? def.parameterType : undefined;
    if (!PARAMETER_TYPES.includes(type as KfpParameterType)) throw new UserError(`${where}: input parameter "${p}" has unknown type ${JSON.stringify(type)}`);
    shape[p] = parameterField(type as KfpParameterType, def as Json);
    if (type === 'TASK_FINAL_STATUS') parameterTypes[p] = type;
  }
  const inputs: InputPorts = {};
  for (const [port, def] of Object.entries(isObject(inputDefs.artifacts) ? inputDefs.artifacts : {})) {
    inputs[port] = { type: artifactType(def, `${where}: input artifact "${port}"`), ...(isObject(def) && def.isOptional ? { optional: true } : {}) };
  }
  const outputs: OutputPorts = {};
  for (const [port, def] of Object.entries(isObject(outputDefs.artifacts) ? outputDefs.artifacts : {})) {
    outputs[port] = { type: artifactType(def, `${where}: output artifact "${port}"`) };
  }
  const outputParameters: Record<string, KfpParameterType> = {};
  for (const [p, def] of Object.entries(isObject(outputDefs.parameters) ? outputDefs.parameters : {})) {
    outputParameters[p] = (isObject(def) ? def.parameterType : undefined) as KfpParameterType;
  }
  const env: Record<string, string> = {};
  for (const e of Array.isArray(container.env) ? container.env : []) {
    if (!isObject(e) || typeof e.name !== 'string') throw new UserError(`${where}: container.env entries need a name`);
    env[e.name] = String(e.value ?? '');
  }
  const res = resources(container.resources, `${where}: container`);
  try {
    return containerComponent({
      name,
      description: `KFP component ${key} from ${file}`,
      image: container.image,
      command: commandLine(container.command, 'command'),
      args: commandLine(container.args, 'args'),
      inputs,
      outputs,
      parameters: z.object(shape),
      outputParameters,
      parameterTypes,
      env,
      ...(res ? { resources: res } : {}),
    });
  } catch (err) {
    throw err instanceof UserError ? new UserError(`${file}: ${err.message}`) : err;
  }
}

function readSpec(file: string): { components: Json; executors: Json } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`KFP component file ${file} cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UserError(`KFP component file ${file} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const executors = isObject(doc) && isObject(doc.deploymentSpec) ? doc.deploymentSpec.executors : undefined;
  if (!isObject(doc) || !isObject(doc.components) || !isObject(executors)) {
    throw new UserError(`${file} is not a KFP v2 component file (a PipelineSpec with components and deploymentSpec.executors, as the KFP v2 SDK compiles)`);
  }
  return { components: doc.components, executors };
}

const componentName = (key: string) => key.replace(/^comp-/, '');

/** Every container component of a KFP file, by name (the IR key without its `comp-` prefix). */
export function loadKfpComponents(file: string): Record<string, ContainerComponent> {
  const { components, executors } = readSpec(file);
  const out: Record<string, ContainerComponent> = {};
  for (const [key, comp] of Object.entries(components)) {
    if (isObject(comp) && typeof comp.executorLabel === 'string') out[componentName(key)] = buildComponent(file, key, comp, executors, componentName(key));
  }
  return out;
}

/**
 * The component of a KFP component file; `name` picks one when the file holds several (a compiled pipeline).
 * It is registered under that name, so the pipeline module that loads it is all a worker needs.
 */
export function loadKfpComponent(file: string, name?: string): ContainerComponent {
  const { components, executors } = readSpec(file);
  const keys = Object.keys(components).filter((k) => isObject(components[k]) && typeof (components[k] as Json).executorLabel === 'string');
  const names = keys.map(componentName);
  if (name === undefined && keys.length !== 1) throw new UserError(`${file} holds ${keys.length} container components (${names.join(', ')}): name the one to load`);
  const key = name === undefined ? keys[0] : keys[names.indexOf(name)];
  if (!key) throw new UserError(`${file} has no container component "${name}" (it has: ${names.join(', ') || 'none'})`);
  return buildComponent(file, key, components[key] as Json, executors, componentName(key));
}

/** A container component as KFP IR: its component definition and its executor, as the KFP SDK writes them. */
export function kfpComponentIR(c: ContainerComponent): { component: Json; executor: Json } {
  const params = parameterInfo(c.parameters, `component ${c.name}`);
  const parameters = Object.fromEntries(Object.entries(params).map(([p, info]) => [p, {
    parameterType: c.container.parameterTypes[p] ?? info.type,
    ...(info.default !== undefined ? { defaultValue: info.default } : {}),
    ...(info.optional ? { isOptional: true } : {}),
    ...(info.description ? { description: info.description } : {}),
  }]));
  const artifactDefs = (ports: InputPorts | OutputPorts) => Object.fromEntries(Object.entries(ports).map(([p, s]) => [p, {
    artifactType: kfpArtifactType(s.type, `component ${c.name}: port ${p}`),
    ...('optional' in s && s.optional ? { isOptional: true } : {}),
  }]));
  const section = (artifacts: Json, parameters: Json) => ({
    ...(Object.keys(artifacts).length ? { artifacts } : {}),
    ...(Object.keys(parameters).length ? { parameters } : {}),
  });
  const inputDefinitions = section(artifactDefs(c.inputs), parameters);
  const outputDefinitions = section(artifactDefs(c.outputs), Object.fromEntries(Object.entries(c.container.outputParameters).map(([p, type]) => [p, { parameterType: type }])));
  const { image, command, args, env } = c.container;
  return {
    component: {
      executorLabel: `exec-${c.name}`,
      ...(Object.keys(inputDefinitions).length ? { inputDefinitions } : {}),
      ...(Object.keys(outputDefinitions).length ? { outputDefinitions } : {}),
    },
    executor: {
      container: {
        ...(args.length ? { args: kfpCommandLine(args) } : {}),
        command: kfpCommandLine(command),
        ...(Object.keys(env).length ? { env: Object.entries(env).map(([name, value]) => ({ name, value })) } : {}),
        image,
      },
    },
  };
}
