// <env>-workloads stacks: JSON snapshots (with the compiled spine-demo fixture), the policy pack, providers from the
// platform stack's cluster, what each environment serves, transfers, alerts and builds; the orchestrator the config
// selects (Argo, Vertex, Composer); stack-level validation errors.
import { Testing } from 'cdktf';
import { ENVIRONMENT_NAMES, environment, rawEnvironment } from '../../stacks/environments';
import { parseEnvironmentConfig } from '../../stacks/config';
import { environmentPlatformProps } from '../../stacks/environment-platform';
import { MlPlatform } from '../../constructs/ml-platform';
import { errorOf } from '../constructs/helpers';
import { Json, all, synthEnvironment, synthNamed } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
const synth = (env: (typeof ENVIRONMENT_NAMES)[number]) => synthNamed(env).workloadsJson;
const manifests = (json: Json, kind: string) => all(json, 'kubernetes_manifest').map((m) => m.manifest).filter((m) => m.kind === kind);
/** Helm releases other than the training scheduler's JobSet and Kueue (test/stacks/training.test.ts covers those). */
const orchestratorReleases = (json: Json) => all(json, 'helm_release').filter((r) => r.chart !== 'jobset' && r.chart !== 'kueue');
const trigger = (json: Json, suffix: string) => all(json, 'google_cloudbuild_trigger').find((t) => t.name.endsWith(suffix))!;

describe.each(ENVIRONMENT_NAMES)('%s-workloads', (env) => {
  test('synthesized JSON matches the snapshot', () => {
    expect(synth(env)).toMatchSnapshot();
  });

  test('the policy pack passes; the only suppressions are the deployer\'s documented admin roles, topics on Google-managed keys and serving images by tag', () => {
    const stack = synthNamed(env).platform.workloads!;
    const report = stack.policy.reports.get(`${env}-workloads`)!;
    expect(report.violations).toEqual([]);
    expect(report.resourcesChecked).toBeGreaterThan(30);
    const w = `${env}/${env}-workloads`;
    const config = environment(env).workloads;
    expect(new Set(report.suppressed.map((s) => `${s.ruleId} ${s.path.split('/').slice(0, 4).join('/')}`))).toEqual(new Set([
      `MLP_SA_ADMIN_ROLES ${w}/build/deployer`, `CKV_GCP_41 ${w}/build/deployer`, `CKV_GCP_49 ${w}/build/deployer`,
      // Every serving Deployment runs the runtime image by tag (the environments give no digests).
      ...config.serving.flatMap((s) => (s.rollout?.kind === 'BlueGreen' ? ['deployment-blue', 'deployment-green'] : s.rollout?.kind === 'Canary' ? ['deployment', 'deployment-canary'] : ['deployment'])
        .map((d) => `CKV_K8S_43 ${w}/serving-${s.name}/${d}`)),
      ...config.transfers.map((t) => `CKV_GCP_83 ${w}/transfer-${t.name}/notifications`),
      ...(config.build?.pipelineRuns ?? []).map((r) => `CKV_GCP_83 ${w}/build/run-${r.pipeline}-topic`),
    ]));
  });

  test('GCS backend, and Kubernetes/Helm providers configured from the platform stack\'s cluster (remote state, no kubeconfig)', () => {
    const json = synth(env);
    expect(json.terraform.backend.gcs).toEqual({ bucket: 'acme-ml-tfstate', prefix: `platform/${env}/${env}-workloads` });
    const remote = `data.terraform_remote_state.cross-stack-reference-input-${env}--${env}-platform`;
    expect(json.provider.kubernetes[0].host).toContain(`https://\${${remote}.outputs.cross-stack-output-google_container_cluster`);
    expect(json.provider.kubernetes[0].cluster_ca_certificate).toContain(`base64decode(${remote}.outputs.`);
    expect(json.provider.kubernetes[0].token).toMatch(/data\.google_client_config\./);
    expect(json.provider.helm[0].kubernetes.host).toBe(json.provider.kubernetes[0].host);
  });

  test('Argo Workflows: pinned chart, the compiled WorkflowTemplate in ml-platform and its CronWorkflow', () => {
    const json = synth(env);
    const [release] = all(json, 'helm_release');
    expect(release).toMatchObject({ chart: 'argo-workflows', version: '0.45.21', repository: 'https://argoproj.github.io/argo-helm' });
    expect(JSON.parse(release.values[0]).controller.workflowNamespaces).toEqual(['ml-platform']);
    expect(manifests(json, 'WorkflowTemplate').map((t) => [t.metadata.name, t.metadata.namespace, t.spec.serviceAccountName])).toEqual([['spine-demo', 'ml-platform', 'pipeline-runner']]);
    expect(manifests(json, 'CronWorkflow').map((c) => c.spec.workflowSpec.workflowTemplateRef.name)).toEqual(['spine-demo']);
  });

  test('the namespace and a Kubernetes service account per platform identity, annotated for Workload Identity', () => {
    const json = synth(env);
    const ksas = all(json, 'kubernetes_service_account_v1');
    expect(ksas.map((k) => k.metadata.name).sort()).toEqual(['model-server', 'pipeline-runner', 'trainer', 'transfer']);
    for (const k of ksas) expect(k.metadata.annotations['iam.gke.io/gcp-service-account']).toMatch(/remote_state.*outputs\.cross-stack-output-google_service_accountidentities_/);
  });

  test('serving: Deployment(s) with probes, Service, HPA and PDB; monitoring alerts; a transfer into raw data', () => {
    const json = synth(env);
    expect(all(json, 'kubernetes_service_v1')).toHaveLength(1);
    expect(all(json, 'kubernetes_horizontal_pod_autoscaler_v2')).toHaveLength(1);
    expect(all(json, 'kubernetes_pod_disruption_budget_v1')).toHaveLength(1);
    for (const d of all(json, 'kubernetes_deployment_v1')) {
      const c = d.spec.template.spec.container[0];
      expect([c.liveness_probe.http_get.path, c.readiness_probe.http_get.path]).toEqual(['/v2/health/live', '/v2/health/ready']);
      expect(c.image).toBe(`us-central1-docker.pkg.dev/acme-ml-${env}/ml-images/runtime:0.1.0`);
    }
    expect(all(json, 'google_monitoring_alert_policy').map((p) => p.user_labels['mlp-alert']).sort()).toEqual(
      ['anomalies', 'failed-runs', 'gpu-idle', 'serving-error-rate', 'serving-latency', 'skew', 'tpu-idle']);
    const [job] = all(json, 'google_storage_transfer_job');
    expect(job.transfer_spec.gcs_data_sink.bucket_name).toBe(`acme-ml-${env}-raw-data`);
  });

  test('build triggers: images, deploy and a Pub/Sub pipeline run, each with its own service account', () => {
    const json = synth(env);
    expect(all(json, 'google_cloudbuild_trigger').map((t) => t.name).sort()).toEqual([`mlp-${env}-deploy`, `mlp-${env}-images`, `mlp-${env}-run-spine-demo`]);
    expect(new Set(all(json, 'google_cloudbuild_trigger').map((t) => t.service_account)).size).toBe(3);
    expect(trigger(json, '-deploy').substitutions).toEqual({
      _ENV: env, _REGION: 'us-central1', _REPOSITORY: 'ml-images', _IMAGE: 'runtime', _PIPELINES: 'spine-demo',
      _PIPELINE_ROOT: `gs://acme-ml-${env}-pipeline-root/root`, _CLOUDSQL_INSTANCE: `acme-ml-${env}:us-central1:mlp-${env}-metadata`,
      _METADATA_USER: `mlp-${env}-pipeline-runner@acme-ml-${env}.iam`,
    });
    expect(trigger(json, '-run-spine-demo').substitutions).toMatchObject({ _TARGET: 'argo', _IMAGE_TAG: '0.1.0', _CLUSTER: `mlp-${env}`, _NAMESPACE: 'ml-platform' });
  });
});

test('rollouts per environment: dev rolling update, staging canary, prod blue-green on the L4 serving pool', () => {
  const deployments = (env: 'dev' | 'staging' | 'prod') => all(synth(env), 'kubernetes_deployment_v1').map((d) => d.metadata.name).sort();
  expect(deployments('dev')).toEqual(['flights']);
  expect(deployments('staging')).toEqual(['flights', 'flights-canary']);
  expect(deployments('prod')).toEqual(['flights-blue', 'flights-green']);
  const prodBlue = all(synth('prod'), 'kubernetes_deployment_v1').find((d) => d.metadata.name === 'flights-blue')!;
  expect(prodBlue.spec.template.spec.node_selector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4-serving' });
  expect(prodBlue.spec.template.spec.container[0].resources.limits['nvidia.com/gpu']).toBe('1');
  expect(all(synth('prod'), 'kubernetes_service_v1')[0].spec.selector['mlp/version']).toBe('blue');
});

test('prod deploys need approval and run on release tags; dev and staging deploy main unattended', () => {
  expect(trigger(synth('prod'), '-deploy')).toMatchObject({ approval_config: { approval_required: true }, github: { push: { tag: '^v\\d+\\.\\d+\\.\\d+$' } } });
  for (const env of ['dev', 'staging'] as const) expect(trigger(synth(env), '-deploy')).toMatchObject({ approval_config: { approval_required: false }, github: { push: { branch: '^main$' } } });
});

test('transfers: dev from a landing bucket, staging from S3 on SQS events, prod from on-prem POSIX', () => {
  const spec = (env: 'dev' | 'staging' | 'prod') => all(synth(env), 'google_storage_transfer_job')[0];
  expect(spec('dev').transfer_spec.gcs_data_source).toEqual({ bucket_name: 'acme-data-landing', path: 'flights/' });
  expect(spec('staging').transfer_spec.aws_s3_data_source.role_arn).toBe('arn:aws:iam::123456789012:role/acme-ml-staging-transfer');
  expect(spec('staging').event_stream.name).toMatch(/^arn:aws:sqs:/);
  expect(spec('prod').transfer_spec.posix_data_source).toEqual({ root_directory: '/mnt/exports/flights' });
});

test('without compiled pipelines the orchestrator is installed but no templates or schedules are managed', () => {
  const json = synthNamed('dev', false).workloadsJson;
  expect(orchestratorReleases(json)).toHaveLength(1);
  // Only the model servers' PodMonitorings (and the training scheduler's Kueue objects): no WorkflowTemplates or CronWorkflows.
  const kinds = all(json, 'kubernetes_manifest').map((m) => m.manifest).filter((m) => !String(m.apiVersion).startsWith('kueue.x-k8s.io/')).map((m) => m.kind);
  expect(kinds).toEqual(environment('dev').workloads.serving.map(() => 'PodMonitoring'));
});

describe('the orchestrator the config selects', () => {
  const variant = (mutate: (w: any) => void) => {
    const raw = rawEnvironment('staging') as any;
    mutate(raw.workloads);
    return synthEnvironment(parseEnvironmentConfig(raw), true);
  };

  test('vertex: no Helm release; a scheduled PipelineJob of the compiled spec; failed-run alerts read ml_job logs; runs may act as the pipeline account', () => {
    const { workloadsJson: json, platform } = variant((w) => { w.orchestrator = { kind: 'vertex' }; });
    expect(orchestratorReleases(json)).toEqual([]);
    expect(all(json, 'google_cloud_scheduler_job').map((j) => j.name)).toEqual(['spine-demo-schedule']);
    expect(all(json, 'google_logging_metric').find((m) => m.name === 'mlp_staging_failed_runs')!.filter).toMatch(/^resource\.type="ml_job"/);
    expect(trigger(json, '-run-spine-demo').substitutions).toMatchObject({ _TARGET: 'vertex', _SERVICE_ACCOUNT: 'mlp-staging-vertex@acme-ml-staging.iam.gserviceaccount.com' });
    expect(platform.workloads!.policy.reports.get('staging-workloads')!.violations).toEqual([]);
  });

  test('composer: a private Composer 3 environment with the compiled DAG uploaded; schedules are refused by the config', () => {
    const { workloadsJson: json } = variant((w) => { w.orchestrator = { kind: 'composer' }; w.schedules = []; });
    expect(all(json, 'google_composer_environment')[0]).toMatchObject({ name: 'mlp-staging', config: { enable_private_environment: true } });
    expect(all(json, 'google_storage_bucket_object').map((o) => o.name)).toEqual(['dags/spine-demo.py']);
    const raw = rawEnvironment('staging') as any;
    raw.workloads.orchestrator = { kind: 'composer' };
    expect(errorOf(() => parseEnvironmentConfig(raw))).toBe(
      "Invalid environment config 'staging': workloads.schedules: must be empty with Composer: compile the DAGs with --schedule '<cron>' instead");
  });
});

test('MlPlatform refuses workloads that do not fit the platform, naming the fix', () => {
  const base = environmentPlatformProps(environment('dev'));
  expect(errorOf(() => new MlPlatform(Testing.app(), 'dev', { ...base, workloads: { ...base.workloads!, serving: [{ name: 'x', modelName: 'x', gpuPool: 'a100' }] } }))).toBe(
    "MlPlatform 'dev/dev-workloads': serving 'x' asks for GPU pool 'a100', which is not one of gpuPools (l4-spot).");
  expect(errorOf(() => new MlPlatform(Testing.app(), 'dev', { ...base, stateBucket: undefined }))).toBe(
    "MlPlatform 'dev/dev-workloads': workloads.build deploys with remote state; set stateBucket (or remove build).");
  expect(errorOf(() => new MlPlatform(Testing.app(), 'dev', { ...base, workloads: { ...base.workloads!, imageTag: 'latest' } }))).toBe(
    "MlPlatform 'dev/dev-workloads': workloads.imageTag 'latest' must be a tag other than 'latest' (the commit Cloud Build built).");
});

test('pubsubKmsKeyName encrypts every workloads topic (transfer notifications, pipeline-run triggers) with the key; nothing is suppressed for CKV_GCP_83', () => {
  const key = 'projects/acme-kms/locations/us-central1/keyRings/ml/cryptoKeys/pubsub';
  const props = environmentPlatformProps(environment('dev'));
  const platform = new MlPlatform(Testing.app(), 'dev', { ...props, workloads: { ...props.workloads!, pubsubKmsKeyName: key } });
  const stack = platform.workloads!;
  const json = JSON.parse(Testing.synth(stack)) as Json;
  const topics = all(json, 'google_pubsub_topic');
  expect(topics.length).toBe(environment('dev').workloads.transfers.length + (environment('dev').workloads.build?.pipelineRuns ?? []).length);
  for (const t of topics) expect(t.kms_key_name).toBe(key);
  expect(stack.policy.reports.get('dev-workloads')!.suppressed.filter((s) => s.ruleId === 'CKV_GCP_83')).toEqual([]);
});

test('a serving entry passes its custom-metric autoscaling and IAP gateway to ModelServing', () => {
  const props = environmentPlatformProps(environment('dev'));
  const gateway = { hostname: 'flights.ml.acme.com', certificateName: 'flights-cert', iap: { oauthClientId: '123-abc.apps.googleusercontent.com', oauthClientSecretName: 'flights-iap' } };
  const serving = props.workloads!.serving!.map((s) => ({ ...s, targetRequestsPerSecond: 25, targetQueuedRows: 32, gateway }));
  const platform = new MlPlatform(Testing.app(), 'dev', { ...props, workloads: { ...props.workloads!, serving } });
  const json = JSON.parse(Testing.synth(platform.workloads!)) as Json;
  for (const hpa of all(json, 'kubernetes_horizontal_pod_autoscaler_v2')) {
    expect(hpa.spec.metric.map((m: Json) => m.pods?.target.average_value ?? m.resource.name)).toEqual(['cpu', '25', '32']);
  }
  const kinds = all(json, 'kubernetes_manifest').map((m) => m.manifest.kind);
  expect(kinds.filter((k) => k === 'GCPBackendPolicy')).toHaveLength(serving.length);
  // The HPA's custom metrics come through the adapter, installed once in the workloads stack.
  expect(kinds.filter((k) => k === 'APIService')).toHaveLength(3);
  expect(all(json, 'google_project_iam_member').filter((m) => m.role === 'roles/monitoring.viewer' && String(m.member).endsWith('/subject/ns/custom-metrics/sa/custom-metrics-stackdriver-adapter'))).toHaveLength(1);
  expect(platform.workloads!.policy.reports.get('dev-workloads')!.violations).toEqual([]);
  // Stated as installed elsewhere: not installed again.
  const external = new MlPlatform(Testing.app(), 'dev', { ...props, workloads: { ...props.workloads!, serving, customMetricsAdapterInstalled: true } });
  expect(external.workloads!.customMetricsAdapter).toBeUndefined();
  expect(all(JSON.parse(Testing.synth(external.workloads!)) as Json, 'kubernetes_manifest').filter((m) => m.manifest.kind === 'APIService')).toEqual([]);
});
