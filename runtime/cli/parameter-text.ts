// `--param key=value` values are text; each is read as its pipeline parameter's declared type, so a string
// parameter keeps "2024" as text while numbers, booleans, lists and objects are read from JSON.

import { z } from 'zod';
import { UserError } from '../core/errors';
import { jsonTypes, type JsonSchema } from '../core/json-schema-types';

/** Each parameter's JSON Schema types (input side: what a caller may pass). */
export function declaredParameterTypes(schema: z.ZodObject<z.ZodRawShape>): Record<string, string[]> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema> };
  return Object.fromEntries(Object.entries(json.properties ?? {}).map(([name, prop]) => [name, jsonTypes(prop)]));
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * The values of `--param` texts by the declared types: a string-only parameter takes the text as it is; others
 * take the JSON the text parses to when it is of a declared type (a string, if declared, otherwise). A name the
 * pipeline does not declare (or one typed "anything") is read as JSON when it parses: the pipeline's own check
 * then names an unknown parameter.
 */
export function parameterValuesFromText(text: Record<string, string>, declared: Record<string, readonly string[]>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(text)) {
    const types = new Set(declared[name] ?? []);
    if (types.has('integer')) types.add('number');
    let parsed: { value: unknown } | undefined;
    try {
      parsed = { value: JSON.parse(raw) };
    } catch {
      parsed = undefined;
    }
    if (types.size === 0) values[name] = parsed ? parsed.value : raw;
    else if (types.size === 1 && types.has('string')) values[name] = raw;
    else if (parsed && jsonTypeOf(parsed.value) !== 'string' && types.has(jsonTypeOf(parsed.value))) values[name] = parsed.value;
    else if (types.has('string')) values[name] = raw;
    else {
      const wanted = [...types].filter((t) => t !== 'number' || !types.has('integer')).join(' or ');
      throw new UserError(`--param ${name}=${raw}: parameter ${name} takes ${wanted} (JSON), and ${JSON.stringify(raw)} is not one`);
    }
  }
  return values;
}
