// StatisticsGen: per split of an Examples artifact, TFDV-shaped statistics (DatasetFeatureStatisticsList,
// proto3 JSON) written to <statistics>/Split-<name>/FeatureStats.json, computed by DuckDB over shards of
// the part files with mergeable accumulators (runtime/tfdv/generate-statistics.ts). span/version/
// split_names are copied.

import { z } from 'zod';

import { defineComponent } from '../../core/component';
import { Examples, ExampleStatistics } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { inheritedSpanVersion } from '../../core/span-version';
import { splitNamesOf, splitParquetFiles } from '../../data/duckdb';
import { statisticsPath, writeJson } from '../../tfdv/artifact-files';
import { generateStatistics } from '../../tfdv/generate-statistics';

export const StatisticsGen = defineComponent({
  name: 'StatisticsGen',
  version: '1',
  description: 'Computes TFDV statistics (FeatureStats.json per split) of an Examples artifact.',
  inputs: { examples: { type: Examples } },
  outputs: { statistics: { type: ExampleStatistics } },
  parameters: z.object({
    exclude_splits: z.array(z.string()).default([]).describe('Splits to skip'),
    weight_feature: z.string().optional().describe('Numeric feature whose values weight each example (adds weighted statistics)'),
    shards: z.number().int().min(1).max(256).optional().describe('Shards the part files are split into (default: one per CPU)'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const examples = inputs.examples[0];
    const splits = splitNamesOf(examples.properties, `examples ${examples.uri}`).filter((s) => !parameters.exclude_splits.includes(s));
    if (splits.length === 0) throw new UserError(`StatisticsGen: no splits left after excluding ${JSON.stringify(parameters.exclude_splits)}`);
    for (const split of splits) {
      const started = Date.now();
      const files = splitParquetFiles(examples.path, split);
      const dataset = await generateStatistics(split, files, { weightFeature: parameters.weight_feature, shards: parameters.shards });
      await writeJson(statisticsPath(outputs.statistics.path, split), { datasets: [dataset] });
      log(`split ${split}: ${dataset.numExamples} examples, ${dataset.features.length} features in ${Date.now() - started} ms`);
    }
    outputs.statistics.properties = {
      ...inheritedSpanVersion(examples.properties),
      split_names: JSON.stringify(splits),
    };
  },
});
