// `mlp compile` on a commander program: each target on the bundled pipelines, --out written atomically, the
// Vertex PipelineJob wrapper, and every refusal as one clear line (resolver nodes, bad flags, missing values).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../../../runtime/core/errors';
import { compileCli } from './fixtures';

const ARGO = ['--target', 'argo', '--image', 'img:1', '--pipeline-root', 'gs://b/root'];

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-compile-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mlp compile', () => {
  test('prints each target for spine-demo', async () => {
    const kfp = await compileCli('spine-demo', '--target', 'kfp', '--image', 'img:1');
    expect(kfp.error).toBeUndefined();
    expect(JSON.parse(kfp.stdout)).toMatchObject({ schemaVersion: '2.1.0', pipelineInfo: { name: 'spine-demo' } });
    const argo = await compileCli('spine-demo', ...ARGO, '--service-account', 'runner', '--deadline', '3600', '--step-timeout', '600', '--namespace', 'mlp');
    expect(argo.error).toBeUndefined();
    expect(JSON.parse(argo.stdout)).toMatchObject({
      kind: 'WorkflowTemplate',
      metadata: { name: 'spine-demo', namespace: 'mlp' },
      spec: { serviceAccountName: 'runner', activeDeadlineSeconds: 3600, templates: [{ name: 'pipeline' }, { name: 'produce', activeDeadlineSeconds: '600' }, {}, {}, {}, { name: 'mlp-run-finished' }], onExit: 'mlp-run-finished' },
    });
    const cron = await compileCli('spine-demo', ...ARGO, '--schedule', '*/30 * * * *');
    expect(JSON.parse(cron.stdout)).toMatchObject({ kind: 'CronWorkflow', spec: { schedules: ['*/30 * * * *'] } });
    const airflow = await compileCli('spine-demo', '--target', 'airflow', '--image', 'img:1', '--pipeline-root', 'gs://b/root/');
    expect(airflow.error).toBeUndefined();
    expect(airflow.stdout).toMatch(/^"""spine-demo: /);
    expect(airflow.stdout).toContain('execution_timeout=timedelta(seconds=21600),');
    expect(airflow.stdout).toContain('gs://b/root/spine-demo/produce/numbers/{{ run_id }}');
  });

  test('--vertex-job wraps the IR in a PipelineJob with --param values', async () => {
    const { stdout, error } = await compileCli('spine-demo', '--target', 'kfp', '--image', 'img:1', '--vertex-job', '--pipeline-root', 'gs://b/root', '--param', 'count=5', '--param', 'factor=1.5');
    expect(error).toBeUndefined();
    const job = JSON.parse(stdout);
    expect(job.displayName).toBe('spine-demo');
    expect(job.runtimeConfig).toEqual({ gcsOutputDirectory: 'gs://b/root', parameterValues: { count: 5, factor: 1.5 } });
    expect(job.pipelineSpec.components['comp-exit-handler-1'].dag.tasks.scale.componentRef).toEqual({ name: 'comp-scale' });
  });

  test('--out writes the file atomically and prints nothing', async () => {
    const out = path.join(dir, 'nested', 'spine-demo.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, 'old');
    const printed = await compileCli('spine-demo', ...ARGO);
    const written = await compileCli('spine-demo', ...ARGO, '--out', out);
    expect(written).toEqual({ stdout: '' });
    expect(fs.readFileSync(out, 'utf8')).toBe(printed.stdout);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['spine-demo.json']);
    const failed = await compileCli('data-validation', ...ARGO, '--out', out);
    expect(failed.error).toBeInstanceOf(UserError);
    expect(fs.readFileSync(out, 'utf8')).toBe(printed.stdout);
  });

  test.each<[string, string]>([
    ['argo', 'pass --cloudsql-instance and --metadata-user'],
    ['kfp', 'pass --metadata-address'],
    ['airflow', 'pass --cloudsql-instance and --metadata-user'],
  ])('data-validation for %s needs the metadata store for its resolver node', async (target, how) => {
    const { error } = await compileCli('data-validation', '--target', target, '--image', 'img:1', '--pipeline-root', 'gs://b/root');
    expect(error).toEqual(new UserError(`node previous-statistics is a resolver: it picks its artifact from the metadata store, so the steps need one (${how})`));
  });

  test.each<[string, string[]]>([
    ['argo', ['--cloudsql-instance', 'p:r:i', '--metadata-user', 'u@p.iam']],
    ['kfp', ['--metadata-address', 'postgres://u@10.0.0.3/mlmd']],
    ['airflow', ['--cloudsql-instance', 'p:r:i', '--metadata-user', 'u@p.iam']],
  ])('data-validation compiles for %s with the metadata store; the resolver is a step of its own', async (target, flags) => {
    const { stdout, error } = await compileCli('data-validation', '--target', target, '--image', 'img:1', '--pipeline-root', 'gs://b/root', ...flags);
    expect(error).toBeUndefined();
    expect(stdout).toContain('"mlp.Resolver"');
    expect(stdout).toContain('previous-span');
  });

  test('--gpu gives a node an accelerator; unknown nodes and bad values are refused', async () => {
    const { stdout, error } = await compileCli('spine-demo', ...ARGO, '--gpu', 'scale=nvidia-tesla-t4:2');
    expect(error).toBeUndefined();
    const scale = JSON.parse(stdout).spec.templates.find((t: { name: string }) => t.name === 'scale');
    expect(scale.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-tesla-t4' });
    expect(scale.container.resources.limits).toEqual({ 'nvidia.com/gpu': '2' });
    expect((await compileCli('spine-demo', ...ARGO, '--gpu', 'trainer=nvidia-l4')).error).toEqual(
      new UserError('pipeline spine-demo has no node "trainer" to set resources on (nodes: produce, scale, summarize-raw, summarize-scaled)'),
    );
    expect((await compileCli('spine-demo', ...ARGO, '--gpu', 'scale=nvidia-l4:0')).error).toEqual(
      new UserError('--gpu scale=nvidia-l4:0: expected node=type[:count], e.g. trainer=nvidia-l4 or trainer=nvidia-tesla-t4:2'),
    );
  });

  test.each<[string[], string]>([
    [['spine-demo', '--target', 'tekton', '--image', 'i:1'], '--target must be one of argo, kfp, airflow, got "tekton"'],
    [['spine-demo', '--target', 'argo', '--image', 'i:1'], 'argo needs --pipeline-root gs://BUCKET/PREFIX: steps write their artifacts under it'],
    [['spine-demo', '--target', 'airflow', '--image', 'i:1', '--pipeline-root', '/tmp/root'], '--pipeline-root must be a gs:// URI that every step can reach, got "/tmp/root"'],
    [['spine-demo', '--target', 'kfp', '--image', 'i:1', '--vertex-job'], 'kfp --vertex-job needs --pipeline-root gs://BUCKET/PREFIX: steps write their artifacts under it'],
    [['spine-demo', ...ARGO, '--deadline', '1.5'], '--deadline must be a whole number of seconds ≥ 1, got 1.5'],
    [['spine-demo', ...ARGO, '--cloudsql-instance', 'p:r:i'], '--cloudsql-instance needs --metadata-user (the IAM database user of the steps)'],
    [['spine-demo', ...ARGO, '--cloudsql-instance', 'mlmd', '--metadata-user', 'u'], '--cloudsql-instance must be an instance connection name project:region:instance, got "mlmd"'],
    [['spine-demo', '--target', 'kfp', '--image', 'i:1', '--vertex-job', '--pipeline-root', 'gs://b', '--param', 'size=1'], 'pipeline spine-demo has no parameter "size" (parameters: count, factor)'],
    [['spine-demo', '--target', 'kfp', '--image', 'i:1', '--schedule', '@daily'], '--schedule does not apply to --target kfp (only to argo, airflow)'],
    [
      ['data-validation', '--target', 'airflow', '--image', 'i:1', '--pipeline-root', 'gs://b', '--cloudsql-instance', 'p:r:i', '--metadata-user', 'u', '--schedule', '@daily'],
      'pipeline data-validation: --schedule "@daily" needs a value for every parameter, but input_base, schema_file are required without a default (Airflow does not load a scheduled DAG with required params); give them defaults in the pipeline or compile without --schedule and trigger runs with their values',
    ],
    [['spine-demo', ...ARGO, '--metadata-address', 'postgres://x'], '--metadata-address does not apply to --target argo (only to kfp)'],
    [['spine-demo', ...ARGO, '--metadata-password-secret', 'mlmd:password'], '--metadata-password-secret is the password of the --cloudsql-instance database user; pass --cloudsql-instance and --metadata-user too'],
    [['spine-demo', ...ARGO, '--cloudsql-instance', 'p:r:i', '--metadata-user', 'u', '--metadata-password-secret', 'projects/p/secrets/s/versions/1'], '--metadata-password-secret "projects/p/secrets/s/versions/1": expected a Kubernetes Secret and key as NAME:KEY, e.g. mlmd-password:password'],
    [['spine-demo', ...ARGO, '--cloudsql-instance', 'p:r:i', '--metadata-user', 'mluser:PASSWORD'], '--metadata-user is a user name only: pass the password as --metadata-password-secret NAME:KEY (a Kubernetes Secret), or none with IAM database authentication'],
    [['spine-demo', '--target', 'kfp', '--image', 'i:1', '--metadata-password-secret', 'projects/p/secrets/s/versions/1'], '--metadata-password-secret is the password of --metadata-address; pass --metadata-address too'],
    [['spine-demo', '--target', 'kfp', '--image', 'i:1', '--network', 'n'], '--network is a setting of the --vertex-job request; pass --vertex-job too'],
    [['spine-demo', '--target', 'airflow', '--image', 'i:1', '--pipeline-root', 'gs://b', '--max-parallel-trials', '2'], '--max-parallel-trials does not apply to --target airflow (only to argo)'],
    [['spine-demo', ...ARGO, '--gke-cluster', 'p/l/c'], '--gke-cluster does not apply to --target argo (only to airflow)'],
    [['spine-demo', '--target', 'kfp', '--image', 'i:1', '--param', 'count=1'], '--param sets the parameter values of a --vertex-job request; pass --vertex-job too'],
    [['no-such-pipeline.ts', '--target', 'kfp', '--image', 'i:1'], 'pipeline file no-such-pipeline.ts not found (and it is not a bundled pipeline: spine-demo, data-validation, penguins, flights)'],
  ])('refuses %j in one line', async (args, message) => {
    const { error } = await compileCli(...args);
    expect(error).toEqual(new UserError(message));
    expect(error!.message).not.toContain('\n');
  });

  test('--target and --image are required', async () => {
    expect((await compileCli('spine-demo', '--image', 'i')).error?.message).toBe("error: required option '--target <target>' not specified");
    expect((await compileCli('spine-demo', '--target', 'kfp')).error?.message).toBe("error: required option '--image <ref>' not specified");
  });
});
