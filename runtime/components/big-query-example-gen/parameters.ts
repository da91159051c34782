// BigQueryExampleGen's parameters: what to read from BigQuery (one query, one table, or one query per predefined
// split), the span its @span_* placeholders stand for, where the job runs, and — unchanged from ExampleGen — how
// the exported rows are split, typed, derived and how many bad rows are tolerated.

import { z } from 'zod';
import { ExampleGenParameters } from '../example-gen/parameters';

// BigQuery's rule for label keys and values: lowercase letters, digits, "_" and "-", at most 63 characters.
const LabelKey = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'label keys are 1-63 lowercase letters, digits, "_" or "-", starting with a letter');
const LabelValue = z.string().regex(/^[a-z0-9_-]{0,63}$/, 'label values are up to 63 lowercase letters, digits, "_" or "-"');

const QuerySplit = z.object({
  name: ExampleGenParameters.shape.input_splits.unwrap().element.shape.name,
  query: z.string().min(1).describe('GoogleSQL query of this split (placeholders as in query)'),
});

export const BigQueryExampleGenParameters = z.object({
  query: z
    .string()
    .min(1)
    .optional()
    .describe('GoogleSQL query; @span_begin_timestamp, @span_end_timestamp (seconds) and @span_yyyymmdd_utc (a quoted string) stand for the span'),
  table: z.string().min(1).optional().describe('Table to read whole, project.dataset.table or dataset.table; @span_yyyymmdd_utc (unquoted) names a date shard'),
  input_splits: z.array(QuerySplit).min(1).optional().describe('One query per predefined split (kept as they are) instead of query or table'),
  span: z.number().int().min(0).optional().describe('Span the placeholders stand for: days since 1970-01-01 UTC (required when the query has placeholders)'),
  project: z.string().min(1).optional().describe('Project the job runs and is billed in (default: the credentials\' project)'),
  location: z.string().min(1).optional().describe('Location the job runs in (e.g. US, EU, europe-west1); the dataset\'s location when omitted'),
  labels: z.record(LabelKey, LabelValue).default({}).describe('Labels added to the BigQuery job (for billing reports)'),
}).extend(
  ExampleGenParameters.pick({ output_splits: true, partition_feature: true, schema: true, derived_columns: true, max_bad_rows_fraction: true }).shape,
);

export type BigQueryExampleGenParameters = z.output<typeof BigQueryExampleGenParameters>;
