// InfraValidator verdicts: a model whose signature.json is missing or not JSON, and a server that cannot start
// within the deadline, must each end in an INFRA_NOT_BLESSED blessing (marker file, blessed = 0,
// infra_validation.json with the reason) — a failed validation is a verdict the Pusher reads, not a crashed
// node. A regression model (one output, which TF Serving gives directly) is served and blessed; one whose
// prediction overflows to Infinity is not, and the reason names the prediction.

import * as fs from 'fs';
import * as path from 'path';
import { InfraValidator, INFRA_REPORT_FILE } from '../../../../runtime/components/infra-validator';
import { duckdb, sqlString } from '../../../../runtime/data/duckdb';
import { buildPenguinsUpstream, fresh, outputRef, publish, publishedCopy, run, train, useTempDir, type ArtifactRef, type Upstream } from '../../ml/helpers';
import { writeLinearBundle } from '../../serving/helpers';

const tmp = useTempDir('mlp-infra-validator-');

let up: Upstream;
let model: ArtifactRef;
beforeAll(async () => {
  up = await buildPenguinsUpstream(tmp.dir);
  model = (await train(tmp.dir, up, { hyperparameters: { epochs: 1, batch_size: 64, hidden_units: [4] } })).model;
}, 120_000);

async function validate(candidate: ArtifactRef, parameters: Record<string, unknown> = {}, examples = up.examples) {
  const out = await run(InfraValidator, { model: candidate, examples }, { blessing: fresh(tmp.dir, 'infra-blessing') }, { num_examples: 3, ...parameters });
  const blessing = outputRef(out, 'blessing');
  return {
    properties: blessing.properties,
    files: fs.readdirSync(blessing.uri).filter((f) => !f.startsWith('_')).sort(),
    report: JSON.parse(fs.readFileSync(path.join(blessing.uri, INFRA_REPORT_FILE), 'utf8')) as { blessed: boolean; failures: string[] },
  };
}

test('a server that cannot start within the deadline: INFRA_NOT_BLESSED with the reason', async () => {
  const result = await validate(model, { deadline_seconds: 0.001 });
  expect(result.files).toEqual(['INFRA_NOT_BLESSED', INFRA_REPORT_FILE]);
  expect(result.properties).toMatchObject({ blessed: 0 });
  expect(result.report).toMatchObject({ blessed: false, failures: [expect.stringMatching(/^model server did not start within 1 ms/)] });
});

test('a model without a readable signature.json: INFRA_NOT_BLESSED naming the file', async () => {
  const missing = await publishedCopy(model, fresh(tmp.dir, 'no-signature'), (dir) => fs.rmSync(path.join(dir, 'signature.json')));
  const result = await validate(missing);
  expect(result.files).toEqual(['INFRA_NOT_BLESSED', INFRA_REPORT_FILE]);
  expect(result.properties).toMatchObject({ blessed: 0 });
  expect(result.report.failures).toEqual([expect.stringContaining(path.join(missing.uri, 'signature.json'))]);

  const garbage = await publishedCopy(model, fresh(tmp.dir, 'bad-signature'), (dir) => fs.writeFileSync(path.join(dir, 'signature.json'), '{'));
  const second = await validate(garbage);
  expect(second.files).toEqual(['INFRA_NOT_BLESSED', INFRA_REPORT_FILE]);
  expect(second.report.failures).toEqual([expect.stringContaining(path.join(garbage.uri, 'signature.json'))]);
});

test('a regression model is blessed on its single output; a prediction that overflows to Infinity is named', async () => {
  // y = 2x + 1 in float32: x = 1e39 is beyond float32, so its prediction is Infinity.
  const modelSrc = fresh(tmp.dir, 'linear-src');
  await writeLinearBundle(modelSrc);
  const linear = await publish(modelSrc, fresh(tmp.dir, 'linear'));
  const examplesSrc = fresh(tmp.dir, 'linear-examples-src');
  fs.mkdirSync(path.join(examplesSrc, 'Split-eval'), { recursive: true });
  const conn = await duckdb();
  try {
    await conn.run(`COPY (SELECT * FROM (VALUES (3.0::DOUBLE), (-1.0), (1e39)) AS t(x)) TO ${sqlString(path.join(examplesSrc, 'Split-eval', 'part-0.parquet'))} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
  const examples = await publish(examplesSrc, fresh(tmp.dir, 'linear-examples'), { split_names: '["eval"]' });

  const blessed = await validate(linear, { num_examples: 2 }, examples);
  expect(blessed.report).toMatchObject({ blessed: true, failures: [] });
  expect(blessed.files).toEqual(['INFRA_BLESSED', INFRA_REPORT_FILE]);

  const overflow = await validate(linear, { num_examples: 3 }, examples);
  expect(overflow.properties).toMatchObject({ blessed: 0 });
  expect(overflow.report.failures).toEqual(['request 3: prediction 0 "predictions" is [Infinity]: the model produced a non-finite value (Infinity) for this instance']);
}, 60_000);
