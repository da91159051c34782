// The JSON types a JSON Schema property admits (as z.toJSONSchema writes them: type, oneOf/anyOf, enum,
// const), shared by the compilers' KFP parameter types and the CLI's reading of `--param` text.

export type JsonSchema = { type?: string | string[]; default?: unknown; description?: string; oneOf?: JsonSchema[]; anyOf?: JsonSchema[]; const?: unknown; enum?: unknown[] };

/** JSON Schema type names ('string', 'integer', 'number', 'boolean', 'array', 'object', 'null'); none for "anything". */
export function jsonTypes(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  const branches = s.oneOf ?? s.anyOf;
  if (branches) return branches.flatMap(jsonTypes);
  const values = s.enum ?? (s.const !== undefined ? [s.const] : []);
  return values.map((v) => (v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v));
}
