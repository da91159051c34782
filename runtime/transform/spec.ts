// The declarative preprocessing spec (tf.Transform's role): one entry per output feature saying which raw
// feature(s) it reads, which transformation it applies and what fills a missing value. Plain data, validated
// with zod, so it travels as a component parameter and is saved verbatim in the TransformGraph.

import { z } from 'zod';

const OutputName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'output names are letters, digits and "_", not starting with a digit');

const base = {
  output: OutputName.optional().describe('Output feature name (default: the raw feature name with a suffix per kind: _id, _z, _scaled, _bucket, _hashed, _cross)'),
};

const rawFeature = z.string().min(1).describe('Raw feature read');
const numericFill = z.number().finite().optional().describe('Value used when the feature is missing (default: the training mean)');
const stringFill = z.string().optional().describe('Value used when the feature is missing (default: "", which maps to OOV)');

export const FeatureTransform = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('vocabulary').describe('Strings to ids by a vocabulary of the training split'),
    feature: rawFeature,
    ...base,
    top_k: z.number().int().min(1).optional().describe('Keep the k most frequent tokens'),
    frequency_threshold: z.number().int().min(1).default(1).describe('Drop tokens seen fewer times'),
    num_oov_buckets: z.number().int().min(0).default(1).describe('Unknown tokens hash into [V, V + num_oov_buckets); 0 maps them to -1'),
    fill: stringFill,
  }),
  z.object({ kind: z.literal('z_score').describe('(x - mean) / standard deviation of the training split'), feature: rawFeature, ...base, fill: numericFill }),
  z.object({
    kind: z.literal('min_max').describe("Scaled linearly from the training split's [min, max] to [output_min, output_max]"),
    feature: rawFeature,
    ...base,
    output_min: z.number().finite().default(0).describe('Value the training minimum maps to'),
    output_max: z.number().finite().default(1).describe('Value the training maximum maps to'),
    fill: numericFill,
  }),
  z.object({
    kind: z.literal('bucketize').describe('Numbers to the id of their quantile bucket'),
    feature: rawFeature,
    ...base,
    num_buckets: z.number().int().min(2).max(1000).describe('Buckets with boundaries at the training quantiles'),
    fill: numericFill,
  }),
  z.object({ kind: z.literal('hash').describe('Strings to ids by hashing (no vocabulary)'), feature: rawFeature, ...base, hash_buckets: z.number().int().min(1).describe('Ids are in [0, hash_buckets)'), fill: stringFill }),
  z.object({
    kind: z.literal('cross').describe('Two or more raw features combined into one hashed id'),
    features: z.array(z.string().min(1)).min(2).describe('Raw features crossed'),
    ...base,
    hash_buckets: z.number().int().min(1).describe('The crossed value "a_x_b" is hashed into this many buckets'),
  }),
  z.object({ kind: z.literal('identity').describe('A number as it is'), feature: rawFeature, ...base, fill: numericFill }),
]);

export const TransformSpec = z.array(FeatureTransform).min(1);

export type FeatureTransform = z.output<typeof FeatureTransform>;
export type TransformSpec = z.output<typeof TransformSpec>;

const SUFFIX: Record<FeatureTransform['kind'], string> = {
  vocabulary: '_id',
  z_score: '_z',
  min_max: '_scaled',
  bucketize: '_bucket',
  hash: '_hashed',
  cross: '_cross',
  identity: '',
};

export function outputName(t: FeatureTransform): string {
  if (t.output) return t.output;
  const raw = t.kind === 'cross' ? t.features.join('_x_') : t.feature;
  return raw.replace(/[^A-Za-z0-9_]/g, '_') + SUFFIX[t.kind];
}

/** The raw features a transform reads. */
export function inputFeatures(t: FeatureTransform): string[] {
  return t.kind === 'cross' ? t.features : [t.feature];
}
