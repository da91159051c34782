// StatisticsGen: per split of an Examples artifact, TFDV-shaped statistics (DatasetFeatureStatisticsList,
// proto3 JSON) written to <statistics>/Split-<name>/FeatureStats.json, computed by DuckDB over shards of
// the part files with mergeable accumulators (runtime/tfdv/generate-statistics.ts). span/version/
// split_names are copied. As a sharded step (node option `shards`), shards of the rows keep those accumulators
// and a merge builds the same files (sharding.ts); the `shards` parameter is the in-process file grouping.

import { z } from 'zod';

import { defineComponent } from '../../core/component';
import { Examples, ExampleStatistics } from '../../core/artifact-types';
import { splitParquetFiles } from '../../data/duckdb';
import { statisticsPath, writeJson } from '../../tfdv/artifact-files';
import { generateStatistics } from '../../tfdv/generate-statistics';
import { statisticsProperties, statisticsSharding, statisticsSplits } from './sharding';

const inputs = { examples: { type: Examples } };
const outputs = { statistics: { type: ExampleStatistics } };
const parameters = z.object({
  exclude_splits: z.array(z.string()).default([]).describe('Splits to skip'),
  weight_feature: z.string().optional().describe('Numeric feature whose values weight each example (adds weighted statistics)'),
  shards: z.number().int().min(1).max(256).optional().describe('Shards the part files are split into (default: one per CPU)'),
});

export const StatisticsGen = defineComponent<typeof inputs, typeof outputs, typeof parameters>({
  name: 'StatisticsGen',
  version: '1',
  description: 'Computes TFDV statistics (FeatureStats.json per split) of an Examples artifact.',
  inputs,
  outputs,
  parameters,
  executor: async (ctx) => {
    const { weight_feature, shards } = ctx.parameters;
    const { examplesPath, properties, splits } = statisticsSplits(ctx);
    for (const split of splits) {
      const started = Date.now();
      const files = splitParquetFiles(examplesPath, split);
      const dataset = await generateStatistics(split, files, { weightFeature: weight_feature, shards });
      await writeJson(statisticsPath(ctx.outputs.statistics.path, split), { datasets: [dataset] });
      ctx.log(`split ${split}: ${dataset.numExamples} examples, ${dataset.features.length} features in ${Date.now() - started} ms`);
    }
    ctx.outputs.statistics.properties = statisticsProperties(properties, splits);
  },
  sharding: statisticsSharding,
});
