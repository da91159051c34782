// ExampleValidator: checks each split's statistics against a schema (and, when given, against the previous
// span's statistics for drift and serving statistics for skew) and writes TFDV Anomalies per split to
// <anomalies>/Split-<name>/SchemaDiff.json, with custom properties blessed_<split> and blessed (1 = no
// anomaly). on_anomalies 'fail' fails the node with a one-line summary (the anomalies go to the node's log,
// since a failed node publishes nothing, so the pipeline stops before training); 'warn' completes with
// blessed = 0 and the anomalies published for downstream conditions and reports. Either way each split with
// anomalies gets an `anomalies` JSON line in the node's log (the container's stderr in the cloud), the line
// MlMonitoring's data-anomalies alert counts, and each drift or skew comparison over its threshold a `skew` line.

import { z } from 'zod';
import { defineComponent, type InputArtifact, type StepIdentity } from '../../core/component';
import { ExampleAnomalies, ExampleStatistics, Schema } from '../../core/artifact-types';
import { UserError } from '../../core/errors';
import { inheritedSpanVersion } from '../../core/span-version';
import { splitNamesOf } from '../../data/duckdb';
import { listAnomalies, type AnomalyReason } from '../../tfdv/anomalies-proto';
import { anomaliesPath, readSchema, readSplitStatistics, writeJson } from '../../tfdv/artifact-files';
import { driftSkewEventLines } from '../../tfdv/drift-skew-events';
import type { DatasetFeatureStatistics } from '../../tfdv/statistics-proto';
import type { Properties } from '../../metadata/types';
import { validateStatistics } from '../../tfdv/validate-statistics';

/** The same split of another statistics artifact, or its only split when it has one (e.g. serving data). */
async function matchingSplit(artifact: InputArtifact | undefined, split: string): Promise<DatasetFeatureStatistics | undefined> {
  if (!artifact) return undefined;
  const names = splitNamesOf(artifact.properties, `statistics ${artifact.uri}`);
  const chosen = names.includes(split) ? split : names.length === 1 ? names[0] : undefined;
  return chosen === undefined ? undefined : readSplitStatistics(artifact.path, chosen);
}

/**
 * The `anomalies` line of MlMonitoring's LOG_CONTRACT (constructs/ml-monitoring.ts) for one split: count and the
 * distinct type names. An empty split counts as DATA_MISSING (TFDV's data_missing flag has no type) since it is not
 * blessed either. `severity` is Cloud Logging's; pipeline and node are left out when the executor runs on its own.
 */
function anomaliesEventLine(split: string, reasons: AnomalyReason[], dataMissing: boolean, step: StepIdentity | undefined): string {
  const types = [...reasons.map((r) => r.type), ...(dataMissing ? ['DATA_MISSING'] : [])];
  const distinct = [...new Set(types)];
  return JSON.stringify({
    severity: 'WARNING',
    event: 'anomalies',
    pipeline: step?.pipeline,
    node: step?.node,
    split,
    count: types.length,
    types: distinct,
    message: `split ${split}: ${types.length} anomal${types.length === 1 ? 'y' : 'ies'} (${distinct.join(', ')})`,
  });
}

export const ExampleValidator = defineComponent({
  name: 'ExampleValidator',
  version: '1',
  description: 'Validates statistics against a schema (plus drift and skew) and writes anomalies per split.',
  inputs: {
    statistics: { type: ExampleStatistics },
    schema: { type: Schema },
    baseline_statistics: { type: ExampleStatistics, optional: true, description: 'Statistics of the previous span (drift)' },
    serving_statistics: { type: ExampleStatistics, optional: true, description: 'Statistics of serving data (skew)' },
  },
  outputs: { anomalies: { type: ExampleAnomalies } },
  parameters: z.object({
    exclude_splits: z.array(z.string()).default([]).describe('Splits not validated'),
    on_anomalies: z.enum(['fail', 'warn']).default('fail').describe("'fail' stops the pipeline on any anomaly; 'warn' records them (blessed = 0) and carries on"),
  }),
  executor: async ({ inputs, outputs, parameters, log, step }) => {
    const stats = inputs.statistics[0];
    const schema = await readSchema(inputs.schema[0].path);
    const splits = splitNamesOf(stats.properties, `statistics ${stats.uri}`).filter((s) => !parameters.exclude_splits.includes(s));
    const properties: Properties = {
      ...inheritedSpanVersion(stats.properties),
      split_names: JSON.stringify(splits),
    };
    const problems: string[] = [];
    for (const split of splits) {
      const anomalies = validateStatistics(await readSplitStatistics(stats.path, split), schema, {
        previous: await matchingSplit(inputs.baseline_statistics[0], split),
        serving: await matchingSplit(inputs.serving_statistics[0], split),
      });
      await writeJson(anomaliesPath(outputs.anomalies.path, split), anomalies);
      const found = listAnomalies(anomalies);
      // TFDV only flags data_missing; an empty split is never good data, so it is not blessed either.
      if (anomalies.dataMissing) problems.push(`split ${split} has no examples`);
      properties[`blessed_${split}`] = found.length === 0 && !anomalies.dataMissing ? 1 : 0;
      for (const a of found) {
        const line = `split ${split}: ${a.feature !== undefined ? `feature ${a.feature}` : 'dataset'}: ${a.reason.type}: ${a.reason.description}`;
        log(line);
        problems.push(`split ${split} ${a.feature !== undefined ? `feature ${a.feature}` : 'dataset'} ${a.reason.type}`);
      }
      if (found.length > 0 || anomalies.dataMissing) log(anomaliesEventLine(split, found.map((a) => a.reason), anomalies.dataMissing === true, step));
      for (const line of driftSkewEventLines(anomalies.driftSkewInfo ?? [], { pipeline: step?.pipeline, node: step?.node, split })) log(line);
    }
    properties.blessed = problems.length === 0 ? 1 : 0;
    outputs.anomalies.properties = properties;
    if (problems.length > 0 && parameters.on_anomalies === 'fail') {
      const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
      throw new UserError(`ExampleValidator found ${problems.length} anomal${problems.length === 1 ? 'y' : 'ies'}: ${shown} (details in the node log; on_anomalies: 'warn' records them and carries on)`);
    }
    log(`validated splits ${splits.join(', ')}: ${problems.length} anomalies`);
  },
});
