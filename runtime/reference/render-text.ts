// Component and parameter references as terminal text: `mlp component list`, `mlp component describe` and
// the parameter tables `mlp pipelines` shares.

import { table } from '../cli/format';
import type { ComponentReference, PortReference } from './component-reference';
import type { ParameterField } from './parameter-fields';

export function componentListText(refs: ComponentReference[]): string {
  const ports = (ps: PortReference[]) => ps.map((p) => `${p.name}${p.optional ? '?' : ''}`).join(', ') || '-';
  return table(
    ['COMPONENT', 'INPUTS', 'OUTPUTS', 'DESCRIPTION'],
    refs.map((r) => [r.name, ports(r.inputs), ports(r.outputs), r.description]),
  );
}

export function componentText(ref: ComponentReference): string {
  const parts = [`${ref.name} (version ${ref.version}${ref.bundled ? '' : ', user-defined'})\n${ref.description}\n`];
  parts.push(`Inputs\n${portsText(ref.inputs)}`);
  parts.push(`Outputs\n${portsText(ref.outputs)}`);
  parts.push(`Parameters\n${fieldsText(ref.parameters)}`);
  if (ref.bundledTrainerParameters) {
    parts.push(`Read by the bundled wide & deep trainer (when module_file is not set)\n${fieldsText(ref.bundledTrainerParameters)}`);
  }
  return parts.join('\n');
}

function portsText(ports: PortReference[]): string {
  if (ports.length === 0) return '  none\n';
  return indent(table(
    ['PORT', 'ARTIFACT TYPE', 'DESCRIPTION'],
    ports.map((p) => [p.name, `${p.artifactType}${p.optional ? ' (optional)' : ''}`, p.description ?? p.artifactTypeDescription]),
  ));
}

/** A table of parameter fields (a pipeline's or a component's): path, type, default, description. */
export function fieldsText(fields: ParameterField[]): string {
  if (fields.length === 0) return '  none\n';
  return indent(table(['PARAMETER', 'TYPE', 'DEFAULT', 'DESCRIPTION'], fields.map((f) => [f.path, f.type, defaultText(f), fieldDescription(f)])));
}

/** "required", the default as JSON, why it could not be computed, or nothing (optional without a default). */
export function defaultText(f: ParameterField): string {
  if (f.defaultError !== undefined) return `(not available here: ${f.defaultError})`;
  if ('default' in f) return JSON.stringify(f.default);
  return f.required ? 'required' : '';
}

/** The description, prefixed with the union variants the field belongs to. */
export function fieldDescription(f: ParameterField): string {
  return [f.when ? `[${f.when}]` : '', f.description ?? ''].filter(Boolean).join(' ');
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}
