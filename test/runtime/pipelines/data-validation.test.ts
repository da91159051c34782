// The bundled data-validation pipeline on real data: monthly spans of the US flights data set (vega-datasets)
// arrive one by one. The first span has no baseline; the second is compared with the first and passes; a
// third span in which one origin airport's share jumps a hundredfold is flagged as drift (L-infinity above
// the schema's threshold), recorded with blessed = 0, and shown in the HTML data report.

import * as fs from 'fs';
import * as path from 'path';
import { generateStatistics } from '../../../runtime/tfdv/generate-statistics';
import { inferSchema } from '../../../runtime/tfdv/infer-schema';
import { anomaliesPath } from '../../../runtime/tfdv/artifact-files';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { pipeline } from '../../../pipelines/data-validation';
import { REPO_ROOT } from '../../support/cli';
import { writeFlightsSpan } from '../../support/flights-spans';
import { useTempStore } from '../../support/temp-store';

const MODULE = path.join(REPO_ROOT, 'pipelines', 'data-validation.ts');
const ROWS = 20_000;
const t = useTempStore('mlp-data-validation-');

/** A curated schema: inferred from the first span, with a drift threshold on origin as a team would set it. */
async function writeSchema(base: string, file: string): Promise<void> {
  const stats = await generateStatistics('all', [path.join(base, 'span-1', 'part.parquet')]);
  const schema = inferSchema(stats);
  const origin = schema.feature.find((f) => f.name === 'origin')!;
  origin.driftComparator = { infinityNorm: { threshold: 0.1 } };
  await fs.promises.writeFile(file, JSON.stringify(schema, null, 2));
}

test('spans arrive, the previous span is the baseline, and drift is flagged and reported', async () => {
  const base = path.join(t.root, 'incoming');
  const schemaFile = path.join(t.root, 'schema.json');
  await writeFlightsSpan(base, 1, 1, ROWS);
  await writeSchema(base, schemaFile);
  const params = { input_base: base, schema_file: schemaFile };
  const run = async () => {
    const s = await runPipeline(pipeline, { root: path.join(t.root, 'root'), store: t.store, modules: [MODULE], parameters: params });
    expect(s.state).toBe('COMPLETE');
    return Object.fromEntries(s.nodes.map((n) => [n.id, n]));
  };

  const first = await run();
  expect(first['previous-statistics'].reason).toBe('no ExampleStatistics of statistics-gen.outputs.statistics with a span before 1');
  const [firstValidation] = await t.store.getArtifacts({ uri: first['example-validator'].outputs.anomalies });
  expect(firstValidation.customProperties?.blessed).toBe(1);

  await writeFlightsSpan(base, 2, 2, ROWS);
  const second = await run();
  expect(second['example-gen'].state).toBe('executed');
  expect(second['previous-statistics'].reason).toMatch(/^resolved span 1 \(artifact \d+\) as the span before 2/);
  const [secondValidation] = await t.store.getArtifacts({ uri: second['example-validator'].outputs.anomalies });
  expect(secondValidation.customProperties?.blessed).toBe(1);

  // A rare airport suddenly has 30% of the flights.
  await writeFlightsSpan(base, 3, 3, ROWS, 'BTV');
  const third = await run();
  expect(third['previous-statistics'].reason).toMatch(/^resolved span 2 /);
  const [thirdValidation] = await t.store.getArtifacts({ uri: third['example-validator'].outputs.anomalies });
  expect(thirdValidation.customProperties?.blessed).toBe(0);
  const anomalies = JSON.parse(fs.readFileSync(anomaliesPath(third['example-validator'].outputs.anomalies, 'train'), 'utf8'));
  expect(anomalies.anomalyInfo.origin.reason.map((r: { type: string }) => r.type)).toContain('COMPARATOR_L_INFTY_HIGH');
  const drift = anomalies.driftSkewInfo.find((d: { path: { step: string[] } }) => d.path.step[0] === 'origin');
  expect(drift.driftMeasurements[0]).toMatchObject({ type: 'L_INFTY', threshold: 0.1 });
  expect(drift.driftMeasurements[0].value).toBeGreaterThan(0.25);

  const html = fs.readFileSync(path.join(third['data-report'].outputs.report, 'index.html'), 'utf8');
  expect(html).toContain('<title>Data validation — span 3</title>');
  expect(html).toMatch(/<tr class="flagged"><td>train<\/td><td>origin<\/td><td>drift<\/td><td>L_INFTY<\/td>/);
  expect(html).toMatch(/<tr class="anomaly"><td>train<\/td><td>origin<\/td><td>[^<]*COMPARATOR_L_INFTY_HIGH/);
});
