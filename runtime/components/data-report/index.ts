// DataReport: one self-contained HTML page per run (<report>/index.html) with statistics and a chart per
// feature for every split, the anomalies ExampleValidator found, and drift/skew distances, readable
// without a server. Wire it after ExampleValidator with on_anomalies 'warn' so a failing check still
// leaves a report to read.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { ExampleAnomalies, ExampleStatistics, GenericArtifact } from '../../core/artifact-types';
import { splitNamesOf } from '../../data/duckdb';
import { anomaliesPath, readJson, readSplitStatistics } from '../../tfdv/artifact-files';
import type { Anomalies } from '../../tfdv/anomalies-proto';
import type { DatasetFeatureStatistics } from '../../tfdv/statistics-proto';
import { renderDataReport } from '../../reports/data-report';

export const REPORT_FILE = 'index.html';

export const DataReport = defineComponent({
  name: 'DataReport',
  version: '1',
  description: 'Writes a self-contained HTML data report: statistics per split and feature, anomalies, drift and skew.',
  inputs: {
    statistics: { type: ExampleStatistics },
    anomalies: { type: ExampleAnomalies, optional: true },
    baseline_statistics: { type: ExampleStatistics, optional: true, description: 'Drawn as outlines on each chart (e.g. the previous span)' },
  },
  outputs: { report: { type: GenericArtifact } },
  parameters: z.object({ title: z.string().min(1).default('Data report').describe('Title of the page') }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const stats = inputs.statistics[0];
    const splits = splitNamesOf(stats.properties, `statistics ${stats.uri}`);
    const datasets: DatasetFeatureStatistics[] = [];
    for (const split of splits) datasets.push(await readSplitStatistics(stats.path, split));

    const anomalies: { split: string; anomalies: Anomalies }[] = [];
    const validated = inputs.anomalies[0];
    if (validated) {
      for (const split of splitNamesOf(validated.properties, `anomalies ${validated.uri}`)) {
        anomalies.push({ split, anomalies: await readJson<Anomalies>(anomaliesPath(validated.path, split), `anomalies of split "${split}"`) });
      }
    }
    const base = inputs.baseline_statistics[0];
    const baseline = base ? { datasets: await Promise.all(splitNamesOf(base.properties, `statistics ${base.uri}`).map((s) => readSplitStatistics(base.path, s))) } : undefined;

    const title = `${parameters.title} — span ${stats.properties.span ?? 0}`;
    await fs.promises.writeFile(path.join(outputs.report.path, REPORT_FILE), renderDataReport({ title, statistics: { datasets }, baseline, anomalies }));
    const count = anomalies.reduce((n, a) => n + Object.keys(a.anomalies.anomalyInfo ?? {}).length, 0);
    outputs.report.properties = { span: stats.properties.span ?? 0, anomaly_count: count };
    log(`report with ${datasets.length} split(s), ${count} anomalous feature(s)`);
  },
});
