// KFP artifact types: every standard artifact type compiles to a KFP system type only where it is one, to TFX's
// title on KFP (tfx.<TypeName>) otherwise, at schema version 0.0.1, in the KFP IR and in the ExecutorInput of
// the Argo and Airflow steps; a title claiming a `system.` type KFP does not define is refused. Checked against
// KFP SDK 2.15's system types (kfp.dsl.types.artifact_types) and TFX's Kubeflow V2 artifact type schemas.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileAirflow } from '../../../runtime/compilers/airflow';
import { compileArgo } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { compileKfp } from '../../../runtime/compilers/kfp';
import { KFP_SYSTEM_TITLES, kfpArtifactType } from '../../../runtime/compilers/kfp-artifact-types';
import { ExampleValidator } from '../../../runtime/components';
import { STANDARD_ARTIFACT_TYPES, type ArtifactType } from '../../../runtime/core/artifact-types';
import { UserError } from '../../../runtime/core/errors';
import { ArtifactState } from '../../../runtime/metadata/types';
import { buildExecutorInput } from '../../../runtime/runner/driver';
import { dataValidationWithoutResolver } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const STATISTICS = { schemaTitle: 'tfx.ExampleStatistics', schemaVersion: '0.0.1' };
const ANOMALIES = { schemaTitle: 'tfx.ExampleAnomalies', schemaVersion: '0.0.1' };
const SCHEMA = { schemaTitle: 'tfx.Schema', schemaVersion: '0.0.1' };
const DATASET = { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' };

test('each standard artifact type has its decided title; system.* only for KFP system types', () => {
  const titles = Object.fromEntries(STANDARD_ARTIFACT_TYPES.map((t) => [t.name, kfpArtifactType(t, 'test').schemaTitle]));
  expect(titles).toEqual({
    Examples: 'system.Dataset',
    ExampleStatistics: 'tfx.ExampleStatistics',
    Schema: 'tfx.Schema',
    ExampleAnomalies: 'tfx.ExampleAnomalies',
    TransformGraph: 'tfx.TransformGraph',
    Model: 'system.Model',
    ModelRun: 'tfx.ModelRun',
    HyperParameters: 'tfx.HyperParameters',
    TunerResults: 'tfx.TunerResults',
    ModelEvaluation: 'system.Metrics',
    ModelBlessing: 'tfx.ModelBlessing',
    InfraBlessing: 'tfx.InfraBlessing',
    PushedModel: 'tfx.PushedModel',
    InferenceResult: 'tfx.InferenceResult',
    Artifact: 'system.Artifact',
  });
  for (const [name, title] of Object.entries(titles)) {
    expect(title.startsWith('system.') ? KFP_SYSTEM_TITLES.includes(title) : title === `tfx.${name}`).toBe(true);
  }
  expect(new Set(STANDARD_ARTIFACT_TYPES.map((t) => kfpArtifactType(t, 'test').schemaVersion))).toEqual(new Set(['0.0.1']));
});

test('a type outside the standard ones keeps its own title unless it claims a system type KFP does not define', () => {
  const custom = (kfpSchemaTitle: string): ArtifactType => ({ name: 'Report', kfpSchemaTitle, description: '', properties: {} });
  expect(kfpArtifactType(custom('system.HTML'), 'node r output report')).toEqual({ schemaTitle: 'system.HTML', schemaVersion: '0.0.1' });
  expect(kfpArtifactType(custom('google.VertexModel'), 'node r output report').schemaTitle).toBe('google.VertexModel');
  expect(() => kfpArtifactType(custom('system.Statistics'), 'node r output report')).toThrow(UserError);
  expect(() => kfpArtifactType(custom('system.Statistics'), 'node r output report')).toThrow(
    /^node r output report: artifact type Report declares schemaTitle system\.Statistics, which is not a KFP system type \(system\.Artifact, .*system\.Markdown\); give it its own namespace, e\.g\. tfx\.Report$/,
  );
  expect(() => kfpArtifactType(custom('Report'), 'node r output report')).toThrow('node r output report: artifact type Report declares schemaTitle "Report", which is not a KFP schema title such as tfx.Report');
});

describe('data-validation compiled: statistics, anomalies and schema ports', () => {
  const plan = () => compilePlan(dataValidationWithoutResolver(), 'kfp');

  test('KFP IR input and output definitions', () => {
    const spec = compileKfp(plan(), { image: 'img:1' }) as Json;
    expect(spec.components['comp-statistics-gen'].inputDefinitions.artifacts.examples.artifactType).toEqual(DATASET);
    expect(spec.components['comp-statistics-gen'].outputDefinitions.artifacts.statistics.artifactType).toEqual(STATISTICS);
    expect(spec.components['comp-example-validator'].inputDefinitions.artifacts).toEqual({
      statistics: { artifactType: STATISTICS },
      schema: { artifactType: SCHEMA },
      baseline_statistics: { artifactType: STATISTICS, isOptional: true },
      serving_statistics: { artifactType: STATISTICS, isOptional: true },
    });
    expect(spec.components['comp-example-validator'].outputDefinitions.artifacts.anomalies.artifactType).toEqual(ANOMALIES);
    expect(JSON.stringify(spec)).not.toContain('system.Statistics');
  });

  /** The ExecutorInput JSON of a step with every engine placeholder replaced by 0. */
  const executorInput = (text: string, placeholder: RegExp): Json => JSON.parse(text.replace(placeholder, '0'));

  test('the ExecutorInput of the Argo steps', () => {
    const wf = compileArgo(compilePlan(dataValidationWithoutResolver(), 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/root' }) as Json;
    const args = (name: string) => executorInput(wf.spec.templates.find((t: Json) => t.name === name).container.args[0], /\{\{[^}]*\}\}/g);
    expect(args('statistics-gen').outputs.artifacts.statistics.artifacts[0].type).toEqual(STATISTICS);
    expect(args('data-report').inputs.artifacts).toMatchObject({
      statistics: { artifacts: [{ type: STATISTICS }] },
      anomalies: { artifacts: [{ type: ANOMALIES }] },
    });
    expect(args('example-validator').inputs.artifacts.schema.artifacts[0].type).toEqual(SCHEMA);
    expect(JSON.stringify(wf)).not.toContain('system.Statistics');
  });

  test('the ExecutorInput of the Airflow pods (executed against stand-in Airflow modules)', () => {
    const source = compileAirflow(compilePlan(dataValidationWithoutResolver(), 'airflow'), { image: 'img:1', pipelineRoot: 'gs://b/root', stepTimeoutSeconds: 600 });
    expect(source).not.toContain('system.Statistics');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-kfp-types-'));
    try {
      const file = path.join(dir, 'data_validation.py');
      fs.writeFileSync(file, source);
      const [{ tasks }] = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), file], { encoding: 'utf8' })) as { tasks: Json[] }[];
      const args = (id: string) => executorInput(tasks.find((t) => t.kwargs.task_id === id)!.kwargs.arguments[0], /\{\{[^}]*\}\}/g);
      expect(args('statistics-gen').outputs.artifacts.statistics.artifacts[0].type).toEqual(STATISTICS);
      expect(args('data-report').inputs.artifacts).toMatchObject({
        statistics: { artifacts: [{ type: STATISTICS }] },
        anomalies: { artifacts: [{ type: ANOMALIES }] },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the local runner hands a step the same types (mlp run and a compiled step see one ExecutorInput)', () => {
  const artifact = (type: string, uri: string) => ({ type, uri, state: ArtifactState.LIVE });
  const input = buildExecutorInput(
    ExampleValidator,
    {},
    { statistics: [artifact('ExampleStatistics', '/r/stats/1')], schema: [artifact('Schema', '/r/schema/2')] },
    { anomalies: artifact('ExampleAnomalies', '/r/anomalies/3') },
    '/r/out.json',
  );
  expect(input.inputs!.artifacts!.statistics.artifacts[0].type).toEqual(STATISTICS);
  expect(input.inputs!.artifacts!.schema.artifacts[0].type).toEqual(SCHEMA);
  expect(input.outputs.artifacts!.anomalies.artifacts[0].type).toEqual(ANOMALIES);
});
