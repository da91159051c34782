// The `skew` JSON lines of MlMonitoring's LOG_CONTRACT (constructs/ml-monitoring.ts): one per drift or skew
// comparison above its threshold, read from an Anomalies' driftSkewInfo. ExampleValidator writes them per split
// in its node log (the container's stderr in the cloud), `mlp monitor skew` on stderr. The skew alert counts
// every line, so nothing is written when nothing is over. `severity` is Cloud Logging's; unknown pipeline, node
// and split are left out rather than guessed.

import type { DriftSkewInfo } from './anomalies-proto';

/** Where a comparison was made, when the caller knows it. */
export interface DriftSkewEventSource {
  pipeline?: string;
  node?: string;
  split?: string;
}

export function driftSkewEventLines(info: DriftSkewInfo[], source: DriftSkewEventSource): string[] {
  const lines: string[] = [];
  for (const i of info) {
    const feature = i.path.step.join('.');
    for (const [comparator, measurements] of [['drift', i.driftMeasurements], ['skew', i.skewMeasurements]] as const) {
      for (const m of measurements ?? []) {
        if (!(m.value > m.threshold)) continue;
        const what = comparator === 'skew' ? `training/serving skew in feature ${feature}` : `drift in feature ${feature} from the previous span`;
        lines.push(
          JSON.stringify({
            severity: 'WARNING',
            event: 'skew',
            pipeline: source.pipeline,
            node: source.node,
            split: source.split,
            feature,
            comparator,
            statistic: m.type,
            value: m.value,
            threshold: m.threshold,
            message: `${what}: ${m.type} ${m.value} above threshold ${m.threshold}`,
          }),
        );
      }
    }
  }
  return lines;
}
