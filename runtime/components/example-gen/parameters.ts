// ExampleGen's parameters: where the input files are and which spans to take, how to read them, which columns
// to derive, how to split them and how many bad rows to tolerate. Validated (with defaults filled in) before the
// executor runs; derived columns' SQL is parsed by DuckDB when the executor starts (derived-columns.ts).

import { z } from 'zod';
import { UserError } from '../../core/errors';
import { FeatureType } from '../../data/feature-types';
import { DerivedColumnsParameter } from './derived-columns';

// Split names become folder names (Split-<name>) and SQL literals; '__' is reserved for internal partitions.
const SplitName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'split names are letters, digits, "_" and "-", starting with a letter');

const InputSplit = z.object({
  name: SplitName.describe('Split name; a single input split is hash-split by output_splits'),
  pattern: z.string().min(1).describe('Glob relative to input_base: * and ? within one path segment, {SPAN}, {SPAN:n}, {VERSION}, {VERSION:n}, or {YYYY}{MM}{DD} instead of {SPAN}'),
});

const HashSplit = z.object({
  name: SplitName.describe('Output split name'),
  buckets: z.number().int().min(1).max(1_000_000).describe('Hash buckets of this split (its share of the total)'),
});

const Range = z.discriminatedUnion('type', [
  z.object({ type: z.literal('latest').describe('Only the latest span (and its latest version)') }),
  z.object({
    type: z.literal('static').describe('Every span from start_span to end_span (inclusive); all must exist'),
    start_span: z.number().int().min(0).describe('First span'),
    end_span: z.number().int().min(0).describe('Last span'),
  }),
  z.object({
    type: z.literal('rolling').describe('The latest num_spans spans that are >= start_span'),
    num_spans: z.number().int().min(1).describe('How many spans'),
    start_span: z.number().int().min(0).default(0).describe('Lower bound of the spans considered'),
  }),
]);

export const ExampleGenParameters = z.object({
  input_base: z.string().min(1).describe('Folder the input patterns are relative to: a local path, file:// or gs:// URI'),
  input_splits: z
    .array(InputSplit)
    .min(1)
    .default([{ name: 'single_split', pattern: '*' }])
    .describe('One pattern (hash-split into output_splits) or one pattern per predefined split (kept as they are)'),
  format: z.enum(['auto', 'csv', 'jsonl', 'parquet']).default('auto').describe('Input format; auto picks it from the file extension (.csv, .jsonl/.json/.ndjson, .parquet)'),
  range: Range.default({ type: 'latest' }).describe('Which spans to read: latest (default), static [start_span, end_span] or rolling'),
  span: z.number().int().min(0).optional().describe('Read exactly this span (shorthand for a static range of one span, e.g. from a pipeline parameter)'),
  output_splits: z
    .array(HashSplit)
    .min(1)
    .default([
      { name: 'train', buckets: 2 },
      { name: 'eval', buckets: 1 },
    ])
    .describe('Hash-bucket splits, in order (used when there is a single input split)'),
  partition_feature: z.string().min(1).optional().describe('Hash this feature instead of the whole record, so all rows with one value stay in one split'),
  schema: z.record(z.string(), FeatureType).optional().describe('Column types (INT, FLOAT, STRING); unlisted columns are inferred, values that do not parse are bad rows'),
  derived_columns: DerivedColumnsParameter,
  csv_delimiter: z.string().length(1).default(',').describe('CSV field delimiter'),
  max_bad_rows_fraction: z.number().min(0).max(1).default(0).describe('Largest tolerated fraction of bad rows; more fails the node (bad rows are never written to the splits)'),
});

export type ExampleGenParameters = z.output<typeof ExampleGenParameters>;
export type RangeConfig = z.output<typeof Range>;

/** The range to read: `span`, when given, is a static range of that one span. */
export function rangeOf(p: ExampleGenParameters): RangeConfig {
  if (p.span === undefined) return p.range;
  if (p.range.type !== 'latest') throw new UserError(`ExampleGen: set span or range, not both (range is ${p.range.type}, span is ${p.span})`);
  return { type: 'static', start_span: p.span, end_span: p.span };
}
