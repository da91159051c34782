// KFP v2 command-line placeholders, resolved against the ExecutorInput the container sees (KFP's launcher does
// this in a cluster; here the local executor does): `{{$}}`, `{{$.inputs.parameters['p']}}`,
// `{{$.inputs.artifacts['x'].uri|path|metadata}}`, `{{$.outputs.artifacts['y'].uri|path|metadata}}`,
// `{{$.outputs.parameters['m'].output_file}}`, inside any string, plus the Concat and IfPresent structures.
// A placeholder that names nothing given is an error, never an empty string.

import type { ExecutorInput } from '../../core/executor-io';
import { UserError } from '../../core/errors';
import type { CommandPart } from './spec';

const PLACEHOLDER_RE = /\{\{\$(.*?)\}\}/g;
const PARAMETER_RE = /^\.inputs\.parameters\['([^']+)'\]$/;
const ARTIFACT_RE = /^\.(inputs|outputs)\.artifacts\['([^']+)'\]\.(uri|path|metadata)$/;
const OUTPUT_PARAMETER_RE = /^\.outputs\.parameters\['([^']+)'\]\.output_file$/;

/**
 * The ExecutorInput as the command sees it, plus each artifact's local path (a file when the artifact holds
 * one file written at its KFP path, else its folder). Locally uri and path are the same, as in KFP's local runner.
 */
export interface PlaceholderView {
  executorInput: ExecutorInput;
  paths: { inputs: Record<string, string[]>; outputs: Record<string, string> };
}

/** A parameter value on a command line: strings as they are, everything else as JSON (as KFP renders them). */
export function parameterText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function resolveOne(expr: string, view: PlaceholderView, where: string): string {
  const ei = view.executorInput;
  if (expr === '') return JSON.stringify(ei);
  let m = PARAMETER_RE.exec(expr);
  if (m) {
    const value = ei.inputs?.parameterValues?.[m[1]];
    if (value === undefined || value === null) throw new UserError(`${where}: {{$${expr}}} names parameter "${m[1]}", which has no value (give it, or wrap the argument in IfPresent)`);
    return parameterText(value);
  }
  m = ARTIFACT_RE.exec(expr);
  if (m) {
    const [, side, port, field] = m;
    const artifact = side === 'inputs' ? ei.inputs?.artifacts?.[port]?.artifacts[0] : ei.outputs.artifacts?.[port]?.artifacts[0];
    if (!artifact) throw new UserError(`${where}: {{$${expr}}} names ${side === 'inputs' ? 'input' : 'output'} artifact "${port}", which is not given`);
    if (field === 'metadata') return JSON.stringify(artifact.metadata ?? {});
    return side === 'inputs' ? view.paths.inputs[port][0] : view.paths.outputs[port];
  }
  m = OUTPUT_PARAMETER_RE.exec(expr);
  if (m) {
    const file = ei.outputs.parameters?.[m[1]]?.outputFile;
    if (!file) throw new UserError(`${where}: {{$${expr}}} names output parameter "${m[1]}", which the component does not declare`);
    return file;
  }
  throw new UserError(`${where}: unsupported placeholder {{$${expr}}} (supported: {{$}}, inputs.parameters, inputs/outputs.artifacts .uri/.path/.metadata, outputs.parameters .output_file)`);
}

function resolveString(s: string, view: PlaceholderView, where: string): string {
  return s.replace(PLACEHOLDER_RE, (_, expr: string) => resolveOne(expr, view, where));
}

function isPresent(name: string, view: PlaceholderView): boolean {
  const inputs = view.executorInput.inputs;
  const value = inputs?.parameterValues?.[name];
  if (value !== undefined && value !== null) return true;
  return (inputs?.artifacts?.[name]?.artifacts.length ?? 0) > 0;
}

function resolvePart(part: CommandPart, view: PlaceholderView, where: string): string[] {
  if (typeof part === 'string') return [resolveString(part, view, where)];
  if ('Concat' in part) return [part.Concat.flatMap((p) => resolvePart(p, view, where)).join('')];
  const { InputName, Then, Else } = part.IfPresent;
  const branch = isPresent(InputName, view) ? Then : Else;
  if (branch === undefined) return [];
  return (Array.isArray(branch) ? branch : [branch]).flatMap((p) => resolvePart(p, view, where));
}

/** The command line with every placeholder resolved; IfPresent branches are spliced in (or dropped). */
export function resolveCommandLine(parts: readonly CommandPart[], view: PlaceholderView, where: string): string[] {
  return parts.flatMap((p) => resolvePart(p, view, where));
}

/** A command-line element of a KFP IR file: the JSON strings the KFP SDK writes for Concat / IfPresent become structures. */
export function fromKfpCommandPart(element: unknown, where: string): CommandPart {
  if (typeof element === 'string') {
    const t = element.trim();
    if (!t.startsWith('{"Concat"') && !t.startsWith('{"IfPresent"')) return element;
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (err) {
      throw new UserError(`${where}: ${t.slice(0, 60)}… looks like a Concat/IfPresent structure but is not JSON (${(err as Error).message})`);
    }
    return fromKfpCommandPart(parsed, where);
  }
  if (element && typeof element === 'object' && !Array.isArray(element)) {
    const o = element as Record<string, unknown>;
    if (Array.isArray(o.Concat) && Object.keys(o).length === 1) return { Concat: o.Concat.map((e) => fromKfpCommandPart(e, where)) };
    const ip = o.IfPresent as Record<string, unknown> | undefined;
    if (ip && Object.keys(o).length === 1 && typeof ip.InputName === 'string') {
      const branch = (b: unknown) => (b === undefined ? undefined : Array.isArray(b) ? b.map((e) => fromKfpCommandPart(e, where)) : fromKfpCommandPart(b, where));
      const Then = branch(ip.Then);
      const Else = branch(ip.Else);
      return { IfPresent: { InputName: ip.InputName, ...(Then !== undefined ? { Then } : {}), ...(Else !== undefined ? { Else } : {}) } };
    }
  }
  throw new UserError(`${where}: command-line element ${JSON.stringify(element).slice(0, 80)} is neither a string, Concat nor IfPresent`);
}
