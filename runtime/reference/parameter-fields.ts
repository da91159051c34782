// A zod parameter schema as a flat list of documented fields (`range.start_span`, `spec[].top_k`,
// `thresholds.<key>.value_threshold.lower_bound`): path, type, required, default and description. zod's own
// JSON Schema conversion (z.toJSONSchema, input side: what a pipeline author writes) does the reading of the
// schema; this module only flattens the JSON Schema for `mlp component describe`, `mlp pipelines` and
// docs/components.md.

import { z } from 'zod';

export interface ParameterField {
  /** Dotted path from the parameter: `[]` steps into list items, `<key>` into a map's values. */
  path: string;
  /** Compact type: string, integer ≥ 0, "a" | "b", string[], Record<string, object>, object (by kind) … */
  type: string;
  /** Must be given (within its parent, for a nested field). */
  required: boolean;
  /** Present only when the schema has a default. */
  default?: unknown;
  /** Why the default could not be computed (a pipeline's default read from this machine, e.g. an uninstalled package). */
  defaultError?: string;
  description?: string;
  /** For a field of some variants of a union only: which, e.g. `kind: vocabulary, hash`. */
  when?: string;
}

// A JSON Schema node as z.toJSONSchema writes it (the keys this module reads).
interface Json {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Json>;
  required?: string[];
  additionalProperties?: Json | boolean;
  propertyNames?: Json;
  items?: Json;
  oneOf?: Json[];
  anyOf?: Json[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** The fields of an object schema's parameters, each top-level parameter followed by its nested fields. */
export function parameterFields(schema: z.ZodObject<z.ZodRawShape>): ParameterField[] {
  const fields: ParameterField[] = [];
  for (const [name, param] of Object.entries(schema.shape)) {
    // One parameter at a time, so a default that cannot be computed here (a function reading this machine)
    // costs only that parameter its default.
    let json: Json;
    let defaultError: string | undefined;
    try {
      json = toJson(z.object({ [name]: param }));
    } catch (err) {
      if (!(param instanceof z.ZodDefault)) throw err;
      defaultError = (err as Error).message;
      json = toJson(z.object({ [name]: z.optional(param.removeDefault()) }));
    }
    const before = fields.length;
    walk(json.properties![name], name, (json.required ?? []).includes(name), undefined, fields);
    if (defaultError !== undefined) fields[before].defaultError = defaultError;
  }
  return fields;
}

function toJson(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
}

function walk(node: Json, path: string, required: boolean, when: string | undefined, out: ParameterField[]): void {
  const field: ParameterField = { path, type: typeOf(node), required };
  if ('default' in node) field.default = node.default;
  if (node.description !== undefined) field.description = node.description;
  if (when !== undefined) field.when = when;
  out.push(field);
  children(node, path, when, out);
}

/** The fields inside a node: an object's properties, a list's items, a map's values, a union's variants. */
function children(node: Json, path: string, when: string | undefined, out: ParameterField[]): void {
  if (node.properties) {
    for (const [key, child] of Object.entries(node.properties)) walk(child, `${path}.${key}`, (node.required ?? []).includes(key), when, out);
  }
  if (node.items) children(node.items, `${path}[]`, when, out);
  if (typeof node.additionalProperties === 'object') children(node.additionalProperties, `${path}.<key>`, when, out);
  const variants = node.oneOf ?? node.anyOf;
  const key = variants ? discriminator(variants) : undefined;
  if (variants && key) variantFields(variants, key, path, out);
}

/** The property every variant fixes to a different constant (zod's discriminatedUnion key), if any. */
function discriminator(variants: Json[]): string | undefined {
  const first = variants[0]?.properties ?? {};
  return Object.keys(first).find((key) => variants.every((v) => v.properties?.[key]?.const !== undefined && (v.required ?? []).includes(key)));
}

/**
 * A discriminated union's fields: the discriminator once (its values, each with its variant's description),
 * then every other field once per distinct definition, marked with the variants that have it.
 */
function variantFields(variants: Json[], key: string, path: string, out: ParameterField[]): void {
  const tag = (v: Json) => String(v.properties![key].const);
  const described = variants.filter((v) => v.properties![key].description);
  out.push({
    path: `${path}.${key}`,
    type: variants.map((v) => JSON.stringify(v.properties![key].const)).join(' | '),
    required: true,
    ...(described.length ? { description: described.map((v) => `${tag(v)}: ${v.properties![key].description}`).join('; ') } : {}),
  });
  const groups = new Map<string, { fields: ParameterField[]; tags: string[] }>();
  for (const v of variants) {
    for (const [name, child] of Object.entries(v.properties!)) {
      if (name === key) continue;
      const fields: ParameterField[] = [];
      walk(child, `${path}.${name}`, (v.required ?? []).includes(name), undefined, fields);
      const id = JSON.stringify(fields);
      const group = groups.get(id) ?? groups.set(id, { fields, tags: [] }).get(id)!;
      group.tags.push(tag(v));
    }
  }
  for (const { fields, tags } of groups.values()) {
    const when = tags.length === variants.length ? undefined : `${key}: ${tags.join(', ')}`;
    for (const f of fields) out.push(when === undefined ? f : { ...f, when });
  }
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** The compact type of a JSON Schema node. */
export function typeOf(node: Json): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  const variants = node.oneOf ?? node.anyOf;
  if (variants) {
    const key = discriminator(variants);
    return key ? `object (by ${key})` : variants.map((v) => typeOf(v)).join(' | ');
  }
  if (Array.isArray(node.type)) return node.type.map((t) => typeOf({ ...node, type: t })).join(' | ');
  switch (node.type) {
    case 'integer':
    case 'number':
      return `${node.type}${bounds(node)}`;
    case 'array': {
      const item = node.items ? typeOf(node.items) : 'any';
      return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
    }
    case 'object':
      if (node.properties) return 'object';
      return `Record<string, ${typeof node.additionalProperties === 'object' ? typeOf(node.additionalProperties) : 'any'}>`;
    case undefined:
      return 'any';
    default:
      return node.type;
  }
}

function bounds(node: Json): string {
  const low = node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined && node.minimum > -SAFE ? `≥ ${node.minimum}` : '';
  const high = node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : node.maximum !== undefined && node.maximum < SAFE ? `≤ ${node.maximum}` : '';
  return [low, high].filter(Boolean).map((b) => ` ${b}`).join(',');
}
