// What a component is for a pipeline author, read from its spec and zod schema: ports with their artifact
// types, parameters as documented fields. The one source of `mlp component list|describe` and
// docs/components.md.

import type { z } from 'zod';
import type { AnyComponent } from '../core/component';
import { listComponents } from '../core/component';
import { BUNDLED_COMPONENT_MODULES, loadBundledComponent } from '../components/catalog';
import { parameterFields, type ParameterField } from './parameter-fields';

export interface PortReference {
  name: string;
  artifactType: string;
  /** Inputs only: may be left unwired. */
  optional?: boolean;
  description?: string;
  artifactTypeDescription: string;
}

export interface ComponentReference {
  name: string;
  version: string;
  description: string;
  bundled: boolean;
  inputs: PortReference[];
  outputs: PortReference[];
  parameters: ParameterField[];
  /**
   * Fields of free-form parameters that the bundled wide & deep trainer reads when no module_file is given
   * (Trainer and Tuner), e.g. `hyperparameters.learning_rate`.
   */
  bundledTrainerParameters?: ParameterField[];
}

/** Loads every bundled component (and so registers it), in name order. */
export function loadBundledComponents(): void {
  for (const name of Object.keys(BUNDLED_COMPONENT_MODULES)) loadBundledComponent(name);
}

/** Every registered component, described (bundled ones and those the loaded modules define). */
export function describeComponents(): ComponentReference[] {
  return listComponents().map(describeComponent);
}

export function describeComponent(c: AnyComponent): ComponentReference {
  const ref: ComponentReference = {
    name: c.name,
    version: c.version,
    description: c.description,
    bundled: c.name in BUNDLED_COMPONENT_MODULES,
    inputs: Object.entries(c.inputs).map(([name, p]) => ({ name, artifactType: p.type.name, optional: !!p.optional, ...port(p) })),
    outputs: Object.entries(c.outputs).map(([name, p]) => ({ name, artifactType: p.type.name, ...port(p) })),
    parameters: parameterFields(c.parameters),
  };
  const trainer = bundledTrainerSchemas(c);
  if (trainer) ref.bundledTrainerParameters = Object.entries(trainer).flatMap(([param, schema]) => parameterFields(schema).map((f) => ({ ...f, path: `${param}.${f.path}` })));
  return ref;
}

function port(p: { description?: string; type: { description: string } }): { description?: string; artifactTypeDescription: string } {
  return { ...(p.description ? { description: p.description } : {}), artifactTypeDescription: p.type.description };
}

/** The schemas the bundled trainer gives to a Trainer's or Tuner's free-form `hyperparameters` and `custom_config`. */
function bundledTrainerSchemas(c: AnyComponent): Record<string, z.ZodObject<z.ZodRawShape>> | undefined {
  if (c.name !== 'Trainer' && c.name !== 'Tuner') return undefined;
  // Loaded only here: the trainer pulls in TensorFlow.js, which listing components does not need.
  const { WideDeepHyperparameters } = require('../ml/wide-deep') as typeof import('../ml/wide-deep');
  const { WideDeepConfig } = require('../components/trainer/wide-deep-run-fn') as typeof import('../components/trainer/wide-deep-run-fn');
  return { hyperparameters: WideDeepHyperparameters, custom_config: WideDeepConfig };
}
