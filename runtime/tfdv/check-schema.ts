// Checks that a curated schema file (ImportSchemaGen) is a usable tensorflow_metadata Schema in proto3 JSON:
// the fields this runtime reads must have the right shapes, enum names and ranges, and every domain a
// feature names must exist. Fields we do not read are allowed (TFDV schemas carry many more).

import { z } from 'zod';
import { formatZodIssues } from '../core/executor-io';
import type { Schema } from './schema-proto';

const int64 = z.union([z.string().regex(/^-?\d+$/, 'an integer (int64 as a string)'), z.number().int()]);
const fraction = z.number().min(0).max(1);
const threshold = z.object({ threshold: z.number().min(0) }).loose();
const comparator = z
  .object({ infinityNorm: threshold.optional(), jensenShannonDivergence: threshold.optional(), normalizedAbsDifference: threshold.optional() })
  .loose();
const stringDomain = z.object({ name: z.string().optional(), value: z.array(z.string()).default([]) }).loose();

const feature = z
  .object({
    name: z.string().min(1),
    type: z.enum(['TYPE_UNKNOWN', 'BYTES', 'INT', 'FLOAT', 'STRUCT']),
    presence: z.object({ minFraction: fraction.optional(), minCount: int64.optional() }).loose().optional(),
    valueCount: z.object({ min: int64.optional(), max: int64.optional() }).loose().optional(),
    shape: z.object({ dim: z.array(z.object({ size: int64 }).loose()) }).loose().optional(),
    domain: z.string().optional(),
    intDomain: z.object({ min: int64.optional(), max: int64.optional() }).loose().optional(),
    floatDomain: z.object({ min: z.number().optional(), max: z.number().optional(), disallowNan: z.boolean().optional(), disallowInf: z.boolean().optional() }).loose().optional(),
    stringDomain: stringDomain.optional(),
    boolDomain: z.object({ trueValue: z.string().optional(), falseValue: z.string().optional() }).loose().optional(),
    skewComparator: comparator.optional(),
    driftComparator: comparator.optional(),
    lifecycleStage: z.string().optional(),
  })
  .loose();

const schemaShape = z
  .object({
    feature: z.array(feature).default([]),
    stringDomain: z.array(stringDomain.extend({ name: z.string() })).optional(),
    intDomain: z.array(z.object({ name: z.string() }).loose()).optional(),
    floatDomain: z.array(z.object({ name: z.string() }).loose()).optional(),
    datasetConstraints: z
      .object({
        numExamplesDriftComparator: z.object({ minFractionThreshold: z.number().optional(), maxFractionThreshold: z.number().optional() }).loose().optional(),
        minExamplesCount: int64.optional(),
        maxExamplesCount: int64.optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** The schema, or the list of problems that make it unusable. */
export function checkSchema(raw: unknown): { schema: Schema; problems: [] } | { schema?: undefined; problems: string[] } {
  const parsed = schemaShape.safeParse(raw);
  if (!parsed.success) return { problems: [formatZodIssues(parsed.error.issues)] };
  // int64 fields may be numbers in a hand-written file (json_format.Parse accepts both); readers use Number().
  const schema = parsed.data as Schema;
  const problems: string[] = [];
  const names = new Set<string>();
  for (const f of schema.feature) {
    if (names.has(f.name)) problems.push(`feature "${f.name}" is declared twice`);
    names.add(f.name);
    if (f.domain) {
      const found = [...(schema.stringDomain ?? []), ...(schema.intDomain ?? []), ...(schema.floatDomain ?? [])].some((d) => d.name === f.domain);
      if (!found) problems.push(`feature "${f.name}" refers to domain "${f.domain}", which the schema does not define`);
    }
    if (f.shape && f.valueCount) problems.push(`feature "${f.name}" has both shape and valueCount`);
  }
  return problems.length ? { problems } : { schema, problems: [] };
}
