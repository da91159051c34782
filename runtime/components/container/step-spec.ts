// A container component as the JSON the Argo and Airflow compilers embed in its step (`mlp component run NAME
// --container-spec ...`), and back: the pod runs in the user's image, where no pipeline module defines the
// component, so the step carries what rebuilds it — image, command line, env, ports with their artifact types,
// parameters as KFP's inputDefinitions declare them. The rebuilt component has the same version (cache key) as
// the one defined in code unless that one declares a localCommand, which the pod does not run (its image's
// command is what runs there).

import { z } from 'zod';
import { STANDARD_ARTIFACT_TYPES } from '../../core/artifact-types';
import type { InputPorts, OutputPorts } from '../../core/component';
import { UserError } from '../../core/errors';
import { formatZodIssues } from '../../core/executor-io';
import { parameterInfo } from '../../compilers/common';
import { parameterField } from './kfp-component';
import { containerComponent, type CommandPart, type ContainerComponent, type KfpParameterType } from './spec';

const KFP_PARAMETER_TYPES = ['STRING', 'NUMBER_INTEGER', 'NUMBER_DOUBLE', 'BOOLEAN', 'LIST', 'STRUCT', 'TASK_FINAL_STATUS'] as const;

const CommandPartSchema: z.ZodType<CommandPart> = z.lazy(() =>
  z.union([
    z.string(),
    z.strictObject({ Concat: z.array(CommandPartSchema) }),
    z.strictObject({
      IfPresent: z.strictObject({
        InputName: z.string(),
        Then: z.union([CommandPartSchema, z.array(CommandPartSchema)]).optional(),
        Else: z.union([CommandPartSchema, z.array(CommandPartSchema)]).optional(),
      }),
    }),
  ]),
);

const StepSpecSchema = z.strictObject({
  name: z.string().min(1),
  image: z.string().min(1),
  command: z.array(CommandPartSchema).min(1),
  args: z.array(CommandPartSchema),
  env: z.record(z.string(), z.string()),
  resources: z
    .strictObject({
      cpu: z.string().optional(),
      memory: z.string().optional(),
      accelerator: z.strictObject({ type: z.string(), count: z.number() }).optional(),
      tpu: z.strictObject({ type: z.string(), topology: z.string() }).optional(),
    })
    .optional(),
  outputParameters: z.record(z.string(), z.enum(KFP_PARAMETER_TYPES)),
  parameterTypes: z.record(z.string(), z.enum(KFP_PARAMETER_TYPES)),
  // A JobSet pod of a step with several processes per worker starts them (argo-jobset.ts, distributed-launch.ts).
  distribution: z.strictObject({ workers: z.number(), processesPerWorker: z.number().optional() }).optional(),
  inputs: z.record(z.string(), z.strictObject({ type: z.string(), optional: z.boolean().optional() })),
  outputs: z.record(z.string(), z.strictObject({ type: z.string() })),
  parameters: z.record(
    z.string(),
    z.strictObject({ parameterType: z.enum(KFP_PARAMETER_TYPES), defaultValue: z.unknown().optional(), isOptional: z.boolean().optional(), description: z.string().optional() }),
  ),
});

/** What a container step carries to rebuild its component in the pod. */
export type ContainerStepSpec = z.infer<typeof StepSpecSchema>;

const artifactTypeNamed = (name: string) => STANDARD_ARTIFACT_TYPES.find((t) => t.name === name);

/**
 * The step spec of a container component. Only the standard artifact types can be named in it (the pod knows no
 * other): a port of another type is an error naming it and `where`.
 */
export function containerStepSpec(c: ContainerComponent, where: string): ContainerStepSpec {
  const ports = <T extends { type: { name: string } }>(list: Record<string, T>, kind: string) =>
    Object.entries(list).map(([port, s]) => {
      if (artifactTypeNamed(s.type.name) !== s.type) {
        throw new UserError(`${where}: ${kind} "${port}" of container component ${c.name} has artifact type ${s.type.name}, which is not a standard artifact type; its step in the user's image can only rebuild ports of the standard types (${STANDARD_ARTIFACT_TYPES.map((t) => t.name).join(', ')})`);
      }
      return [port, s] as const;
    });
  const { image, command, args, env, resources, outputParameters, parameterTypes, distribution } = c.container;
  return {
    name: c.name,
    image,
    command,
    args,
    env: { ...env },
    ...(resources ? { resources } : {}),
    outputParameters: { ...outputParameters },
    parameterTypes: { ...parameterTypes },
    ...(distribution ? { distribution: { ...distribution } } : {}),
    inputs: Object.fromEntries(ports(c.inputs, 'input').map(([p, s]) => [p, { type: s.type.name, ...(s.optional ? { optional: true } : {}) }])),
    outputs: Object.fromEntries(ports(c.outputs, 'output').map(([p, s]) => [p, { type: s.type.name }])),
    parameters: Object.fromEntries(
      Object.entries(parameterInfo(c.parameters, `${where}: container component ${c.name}`)).map(([p, info]) => [
        p,
        {
          parameterType: c.container.parameterTypes[p] ?? info.type,
          ...(info.default !== undefined ? { defaultValue: info.default } : {}),
          ...(info.optional ? { isOptional: true } : {}),
          ...(info.description ? { description: info.description } : {}),
        },
      ]),
    ),
  };
}

/** Rebuilds (and registers) the container component a step spec describes; what is wrong is one line naming `where`. */
export function containerComponentFromStepSpec(json: unknown, where: string): ContainerComponent {
  const parsed = StepSpecSchema.safeParse(json);
  if (!parsed.success) throw new UserError(`${where} is not a container step spec: ${formatZodIssues(parsed.error.issues)}`);
  const spec = parsed.data;
  const type = (name: string, port: string) => {
    const t = artifactTypeNamed(name);
    if (!t) throw new UserError(`${where}: port "${port}" has artifact type ${name}, which is not a standard artifact type (${STANDARD_ARTIFACT_TYPES.map((s) => s.name).join(', ')})`);
    return t;
  };
  const inputs: InputPorts = Object.fromEntries(Object.entries(spec.inputs).map(([p, s]) => [p, { type: type(s.type, p), ...(s.optional ? { optional: true } : {}) }]));
  const outputs: OutputPorts = Object.fromEntries(Object.entries(spec.outputs).map(([p, s]) => [p, { type: type(s.type, p) }]));
  const shape = Object.fromEntries(Object.entries(spec.parameters).map(([p, def]) => [p, parameterField(def.parameterType, def)]));
  try {
    return containerComponent({
      name: spec.name,
      image: spec.image,
      command: spec.command,
      args: spec.args,
      env: spec.env,
      ...(spec.resources ? { resources: spec.resources } : {}),
      inputs,
      outputs,
      parameters: z.object(shape),
      outputParameters: spec.outputParameters as Record<string, KfpParameterType>,
      parameterTypes: spec.parameterTypes,
      ...(spec.distribution ? { distribution: spec.distribution } : {}),
    });
  } catch (err) {
    throw err instanceof UserError ? new UserError(`${where}: ${err.message}`) : err;
  }
}
