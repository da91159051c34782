// PipelineOrchestrator and its engines besides Argo: Cloud Composer 3 (user-managed account, private, env variables,
// DAG uploads) and Vertex AI Pipelines (APIs, account and grants, scheduled PipelineJob requests); the typed union.
import { Testing } from 'cdktf';
import { ComposerEnvironment } from '@cdktf/provider-google/lib/composer-environment';
import { COMPOSER_IMAGE_VERSION, ComposerOrchestrator, ComposerOrchestratorProps } from '../../constructs/composer-orchestrator';
import { VertexPipelines, VertexPipelinesProps, parseKfpPipelineSpec } from '../../constructs/vertex-pipelines';
import { PipelineOrchestrator, PipelineOrchestratorProps } from '../../constructs/pipeline-orchestrator';
import { parseArgoWorkflowTemplate } from '../../constructs/argo-workflows';
import { IMAGE, Json, WorkloadBase, compiledDagFixture, compiledFixture, decodeSchedulerBody, errorOf, onlyResource, resourcesOf, synthJson, workloadBase } from './helpers';

const spineSpec = () => parseKfpPipelineSpec(compiledFixture('kfp'), 'kfp/spine-demo.json');
const grantsOf = (json: Json, fragment: string) => resourcesOf(json, 'google_storage_bucket_iam_member')
  .filter((m) => String(m.member).includes(fragment))
  .map((m) => `${String(m.bucket).match(/artifacts_([a-z-]+)_bucket/)?.[1]} ${m.role}`).sort();

function composer(base: WorkloadBase, props: Partial<ComposerOrchestratorProps> = {}, id = 'composer') {
  return new ComposerOrchestrator(base.stack, id, {
    name: 'mlp-test', project: 'acme-ml-test', region: 'us-central1', network: base.network, accountPrefix: 'mlp-test',
    store: base.store, database: base.database, registry: base.registry, gkeCluster: base.cluster, image: IMAGE,
    dags: [{ fileName: 'spine-demo.py', source: compiledDagFixture() }],
    ...props,
  });
}
function vertex(base: WorkloadBase, props: Partial<VertexPipelinesProps> = {}, id = 'vertex') {
  return new VertexPipelines(base.stack, id, {
    project: 'acme-ml-test', region: 'us-central1', accountPrefix: 'mlp-test', store: base.store, database: base.database, registry: base.registry, ...props,
  });
}

describe('ComposerOrchestrator', () => {
  test('Composer 3, private, user-managed service account on the platform VPC, env variables pointing at buckets and the metadata database', () => {
    const base = workloadBase();
    composer(base);
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(ComposerEnvironment, { name: 'mlp-test', region: 'us-central1' });
    const json = synthJson(base.stack);
    const env = onlyResource(json, 'google_composer_environment');
    expect(env.config).toMatchObject({
      enable_private_environment: true,
      environment_size: 'ENVIRONMENT_SIZE_SMALL',
      node_config: {
        service_account: expect.stringMatching(/^\$\{google_service_account\.composer_service-account_[0-9A-F]+\.email\}$/),
        network: expect.stringMatching(/^\$\{google_compute_network\.network_vpc_[0-9A-F]+\.id\}$/),
        subnetwork: expect.stringMatching(/^\$\{google_compute_subnetwork\.network_subnet_[0-9A-F]+\.id\}$/),
      },
      software_config: { image_version: COMPOSER_IMAGE_VERSION },
    });
    expect(env.config.software_config.env_variables).toEqual({
      MLP_IMAGE: IMAGE,
      MLP_PIPELINE_ROOT: 'gs://acme-ml-test-pipeline-root',
      MLP_RAW_DATA: 'gs://acme-ml-test-raw-data',
      MLP_MODELS: 'gs://acme-ml-test-models',
      MLP_STAGING: 'gs://acme-ml-test-staging',
      MLP_METADATA_INSTANCE: '${google_sql_database_instance.db_instance_5A659807.connection_name}',
      MLP_METADATA_DATABASE: 'mlmd',
      MLP_METADATA_USER: expect.stringMatching(/^\$\{trimsuffix\(google_service_account\.composer_service-account_[0-9A-F]+\.email, "\.gserviceaccount\.com"\)\}$/),
      MLP_GKE_CLUSTER: 'acme-ml-test/us-central1/mlp-test',
    });
    expect(env.depends_on).toEqual([expect.stringMatching(/^google_project_service\.project-services_composer-acme-ml-test_/), expect.stringMatching(/^google_service_account_iam_member\.composer_service-agent-ext_/)]);
  });

  test('the account gets composer.worker, container.developer (GPU steps on the platform cluster) and only the data grants steps need', () => {
    const base = workloadBase();
    composer(base);
    const json = synthJson(base.stack);
    const projectRoles = resourcesOf(json, 'google_project_iam_member').filter((m) => String(m.member).includes('composer_service-account')).map((m) => m.role).sort();
    expect(projectRoles).toEqual(['roles/cloudsql.client', 'roles/cloudsql.instanceUser', 'roles/composer.worker', 'roles/container.developer']);
    expect(grantsOf(json, 'composer_service-account')).toEqual([
      'models roles/storage.objectUser', 'pipeline-root roles/storage.objectUser', 'raw-data roles/storage.objectViewer', 'staging roles/storage.objectUser',
    ]);
    expect(resourcesOf(json, 'google_service_account_iam_member')).toContainEqual(expect.objectContaining({
      role: 'roles/composer.ServiceAgentV2Ext',
      member: expect.stringMatching(/^serviceAccount:service-\$\{data\.google_project\.composer_project_[0-9A-F]+\.number\}@cloudcomposer-accounts\.iam\.gserviceaccount\.com$/),
    }));
  });

  test('compiled DAG files are uploaded into the environment\'s DAG folder', () => {
    const base = workloadBase();
    composer(base);
    const dag = onlyResource(synthJson(base.stack), 'google_storage_bucket_object');
    expect(dag).toMatchObject({
      name: 'dags/spine-demo.py',
      content_type: 'text/x-python',
      bucket: expect.stringMatching(/^\$\{element\(split\("\/", google_composer_environment\.composer_environment_[0-9A-F]+\.config\[0\]\.dag_gcs_prefix\), 2\)\}$/),
    });
    expect(dag.content).toContain('KubernetesPodOperator(');
  });

  test('refuses bad image versions, unpinned images and files that are not DAGs', () => {
    const base = workloadBase();
    expect(errorOf(() => composer(base, { imageVersion: 'composer-2.9.7-airflow-2.9.3' }, 'c1'))).toBe(
      `ComposerOrchestrator 'test/c1': imageVersion 'composer-2.9.7-airflow-2.9.3' is not a Composer 3 image like ${COMPOSER_IMAGE_VERSION} or ${COMPOSER_IMAGE_VERSION}-build.3.`);
    expect(errorOf(() => composer(base, { image: 'us-docker.pkg.dev/p/r/runtime:latest' }, 'c2'))).toBe(
      "ComposerOrchestrator 'test/c2': image 'us-docker.pkg.dev/p/r/runtime:latest' uses the tag 'latest'; use the commit tag Cloud Build pushes or a digest.");
    expect(errorOf(() => composer(base, { dags: [{ fileName: 'notes.py', source: 'print(1)' }] }, 'c3'))).toBe(
      "ComposerOrchestrator 'test/c3': DAG file 'notes.py' defines no DAG; upload the output of `mlp compile <pipeline> --target airflow`.");
    expect(errorOf(() => composer(base, { region: 'europe-west4' }, 'c4'))).toBe(
      "ComposerOrchestrator 'test/c4': region europe-west4 differs from the network's region us-central1; Composer attaches to a subnet in its own region.");
  });
});

describe('ComposerOrchestrator size, workloads, maintenance and snapshots', () => {
  test('defaults: the size preset (no workloads config), Friday-Sunday 00:00-04:00 UTC maintenance, daily snapshots into staging', () => {
    const base = workloadBase();
    composer(base);
    const env = onlyResource(synthJson(base.stack), 'google_composer_environment');
    expect(env.config.workloads_config).toBeUndefined();
    expect(env.config.maintenance_window).toEqual({ start_time: '2025-01-03T00:00:00Z', end_time: '2025-01-03T04:00:00Z', recurrence: 'FREQ=WEEKLY;BYDAY=FR,SA,SU' });
    expect(env.config.recovery_config).toEqual({
      scheduled_snapshots_config: { enabled: true, snapshot_creation_schedule: '0 3 * * *', snapshot_location: 'gs://acme-ml-test-staging/composer-snapshots', time_zone: 'UTC' },
    });
  });

  test('size, scheduler, workers, triggerer and DAG processor resources, a custom window and snapshot schedule land in the environment', () => {
    const base = workloadBase();
    composer(base, {
      environmentSize: 'MEDIUM',
      scheduler: { count: 2, cpu: 2, memoryGb: 7.5, storageGb: 5 },
      workers: { minCount: 2, maxCount: 12, cpu: 2, memoryGb: 8, storageGb: 10 },
      triggerer: { count: 1, cpu: 0.5, memoryGb: 1 },
      dagProcessor: { count: 2, cpu: 1, memoryGb: 4 },
      maintenanceWindowStartUtc: '22:30', maintenanceWindowHours: 6, maintenanceWindowDays: ['SU', 'SA'],
      snapshotSchedule: '0 1 * * 0', snapshotTimeZone: 'UTC+01', snapshotLocation: 'gs://acme-dr/composer',
    });
    const env = onlyResource(synthJson(base.stack), 'google_composer_environment');
    expect(env.config.environment_size).toBe('ENVIRONMENT_SIZE_MEDIUM');
    expect(env.config.workloads_config).toEqual({
      scheduler: { count: 2, cpu: 2, memory_gb: 7.5, storage_gb: 5 },
      worker: { min_count: 2, max_count: 12, cpu: 2, memory_gb: 8, storage_gb: 10 },
      triggerer: { count: 1, cpu: 0.5, memory_gb: 1 },
      dag_processor: { count: 2, cpu: 1, memory_gb: 4 },
    });
    expect(env.config.maintenance_window).toEqual({ start_time: '2025-01-03T22:30:00Z', end_time: '2025-01-04T04:30:00Z', recurrence: 'FREQ=WEEKLY;BYDAY=SA,SU' });
    expect(env.config.recovery_config.scheduled_snapshots_config).toEqual({ enabled: true, snapshot_creation_schedule: '0 1 * * 0', snapshot_location: 'gs://acme-dr/composer', time_zone: 'UTC+01' });
  });

  test('snapshots can be turned off; a daily window of 4 hours is enough', () => {
    const base = workloadBase();
    composer(base, { scheduledSnapshots: false, maintenanceWindowDays: 'DAILY' });
    const env = onlyResource(synthJson(base.stack), 'google_composer_environment');
    expect(env.config.recovery_config).toBeUndefined();
    expect(env.config.maintenance_window.recurrence).toBe('FREQ=DAILY');
  });

  test('refuses windows Composer rejects, impossible workloads and stray snapshot settings, saying what to change', () => {
    const base = workloadBase();
    const cases: [Partial<ComposerOrchestratorProps>, string][] = [
      [{ maintenanceWindowDays: ['SA', 'SU'] }, 'the maintenance window gives 8 hours a week (4 h × 2 days); Composer needs at least 12: add days or lengthen maintenanceWindowHours.'],
      [{ maintenanceWindowHours: 3 }, "maintenanceWindowHours 3 must be a whole number of hours from 4 to 24 (Composer's slots are at least 4 hours)."],
      [{ maintenanceWindowStartUtc: '25:00' }, "maintenanceWindowStartUtc '25:00' must be a UTC time of day like 02:00."],
      [{ maintenanceWindowDays: ['FR', 'FR', 'SA'] }, 'maintenanceWindowDays ["FR","FR","SA"] must list each day at most once and at least one day.'],
      [{ scheduler: { count: 4 } }, 'scheduler.count 4 must be an integer from 1 to 3.'],
      [{ workers: { minCount: 5, maxCount: 2 } }, 'workers.minCount 5 exceeds workers.maxCount 2; lower minCount or raise maxCount.'],
      [{ triggerer: { count: 1, cpu: 0, memoryGb: 1 } }, 'triggerer.cpu 0 must be a positive number.'],
      [{ scheduledSnapshots: false, snapshotSchedule: '0 3 * * *' }, 'snapshotSchedule, snapshotTimeZone and snapshotLocation have no effect with scheduledSnapshots false; remove them or turn snapshots on.'],
      [{ snapshotSchedule: 'daily' }, "snapshotSchedule 'daily' must be a five-field cron expression like '0 3 * * *'."],
      [{ snapshotTimeZone: 'Europe/Berlin' }, "snapshotTimeZone 'Europe/Berlin' must be UTC or a fixed offset from UTC-12 to UTC+12 like UTC+01."],
      [{ snapshotLocation: 'acme-dr' }, "snapshotLocation 'acme-dr' must be a gs:// path like gs://my-bucket/composer-snapshots."],
    ];
    cases.forEach(([props, message], i) => {
      expect(errorOf(() => composer(base, props, `c${i}`))).toBe(`ComposerOrchestrator 'test/c${i}': ${message}`);
    });
  });

  test('PipelineOrchestrator passes the Composer workloads, window and snapshot options through', () => {
    const base = workloadBase();
    new PipelineOrchestrator(base.stack, 'orchestrator', {
      orchestrator: { kind: 'composer', workers: { maxCount: 8 }, maintenanceWindowDays: 'DAILY', scheduledSnapshots: false },
      environment: 'test', project: 'acme-ml-test', region: 'us-central1', network: base.network, cluster: base.cluster, store: base.store,
      database: base.database, registry: base.registry, runner: base.identities.identity('pipeline-runner'), accountPrefix: 'mlp-test', image: IMAGE,
    });
    const env = onlyResource(synthJson(base.stack), 'google_composer_environment');
    expect(env.config.workloads_config).toEqual({ worker: { max_count: 8 } });
    expect(env.config.maintenance_window.recurrence).toBe('FREQ=DAILY');
    expect(env.config.recovery_config).toBeUndefined();
  });
});

describe('VertexPipelines', () => {
  test('APIs, a pipeline account with aiplatform.user and act-as on itself only, pipeline root grants', () => {
    const base = workloadBase();
    vertex(base);
    const json = synthJson(base.stack);
    expect(resourcesOf(json, 'google_project_service').map((s) => s.service)).toEqual(['aiplatform.googleapis.com']);
    const roles = resourcesOf(json, 'google_project_iam_member').filter((m) => String(m.member).includes('vertex_service-account')).map((m) => m.role).sort();
    expect(roles).toEqual(['roles/aiplatform.user', 'roles/cloudsql.client', 'roles/cloudsql.instanceUser', 'roles/logging.logWriter']);
    expect(resourcesOf(json, 'google_service_account_iam_member')).toContainEqual(expect.objectContaining({
      role: 'roles/iam.serviceAccountUser',
      service_account_id: expect.stringMatching(/vertex_service-account_[0-9A-F]+\.name/),
      member: expect.stringMatching(/vertex_service-account_[0-9A-F]+\.email/),
    }));
    expect(grantsOf(json, 'vertex_service-account')).toEqual([
      'models roles/storage.objectUser', 'pipeline-root roles/storage.objectUser', 'raw-data roles/storage.objectViewer', 'staging roles/storage.objectUser',
    ]);
  });

  test('a schedule is a Cloud Scheduler job that creates a PipelineJob with the compiled spec, pipeline root, account and peered network', () => {
    const base = workloadBase();
    const v = vertex(base, {
      network: base.network,
      pipelineSpecs: [spineSpec()],
      schedules: [{ pipeline: 'spine-demo', schedule: '0 5 * * 1', parameterValues: { count: 10 } }],
      labels: { env: 'test' },
    });
    const json = synthJson(base.stack);
    const job = onlyResource(json, 'google_cloud_scheduler_job');
    expect(job).toMatchObject({
      name: 'spine-demo-schedule', schedule: '0 5 * * 1', time_zone: 'Etc/UTC', region: 'us-central1',
      http_target: {
        http_method: 'POST',
        uri: 'https://us-central1-aiplatform.googleapis.com/v1/projects/acme-ml-test/locations/us-central1/pipelineJobs',
        headers: { 'Content-Type': 'application/json' },
        oauth_token: { scope: 'https://www.googleapis.com/auth/cloud-platform' },
      },
    });
    const body = decodeSchedulerBody(job.http_target.body, '424242');
    expect(body).toEqual({
      displayName: 'spine-demo',
      pipelineSpec: spineSpec(),
      runtimeConfig: { gcsOutputDirectory: 'gs://acme-ml-test-pipeline-root/vertex/spine-demo', parameterValues: { count: 10 } },
      serviceAccount: 'mlp-test-vertex@acme-ml-test.iam.gserviceaccount.com',
      network: 'projects/424242/global/networks/mlp-test',
      labels: { env: 'test', 'mlp-pipeline': 'spine-demo', 'mlp-trigger': 'schedule' },
    });
    expect(job.http_target.body).toMatch(/, data\.google_project\.vertex_project_[0-9A-F]+\.number, /);
    expect(v.requests['spine-demo-schedule']).toMatchObject({ displayName: 'spine-demo' });
    expect(resourcesOf(json, 'google_project_service').map((s) => s.service).sort()).toEqual(['aiplatform.googleapis.com', 'cloudscheduler.googleapis.com']);
  });

  test('without a network the body is a literal (no Terraform functions)', () => {
    const base = workloadBase();
    vertex(base, { pipelineSpecs: [spineSpec()], schedules: [{ pipeline: 'spine-demo', schedule: '0 5 * * *' }] });
    const job = onlyResource(synthJson(base.stack), 'google_cloud_scheduler_job');
    expect(job.http_target.body).not.toContain('${');
    expect(decodeSchedulerBody(job.http_target.body).network).toBeUndefined();
  });

  test('refuses schedules of pipelines it was not given', () => {
    const base = workloadBase();
    expect(errorOf(() => vertex(base, { schedules: [{ pipeline: 'flights', schedule: '0 3 * * *' }] }, 'v1'))).toBe(
      "VertexPipelines 'test/v1': schedule 'flights-schedule' runs pipeline 'flights', which is not in pipelineSpecs (none); add its compiled PipelineSpec or fix the name.");
    expect(errorOf(() => parseKfpPipelineSpec({ pipelineInfo: { name: 'x' }, schemaVersion: '1.0', root: {} }, 'kfp/x.json'))).toBe(
      'kfp/x.json: schemaVersion is "1.0", expected 2.x; compile it with `mlp compile <pipeline> --target kfp` (without --vertex-job).');
  });
});

describe('PipelineOrchestrator', () => {
  const props = (base: WorkloadBase, extra: Partial<PipelineOrchestratorProps>): PipelineOrchestratorProps => ({
    orchestrator: { kind: 'argo' }, environment: 'test', project: 'acme-ml-test', region: 'us-central1', network: base.network, cluster: base.cluster,
    store: base.store, database: base.database, registry: base.registry, runner: base.identities.identity('pipeline-runner'), accountPrefix: 'mlp-test',
    image: IMAGE, ...extra,
  });

  test('the union selects the engine, its compile target and where its steps log from', () => {
    const base = workloadBase();
    const argo = new PipelineOrchestrator(base.stack, 'o1', props(base, { pipelines: { argo: [parseArgoWorkflowTemplate(compiledFixture('argo'), 'a')] } }));
    const vertex = new PipelineOrchestrator(base.stack, 'o2', props(base, { orchestrator: { kind: 'vertex' }, accountPrefix: 'mlp-t2' }));
    const comp = new PipelineOrchestrator(base.stack, 'o3', props(base, { orchestrator: { kind: 'composer', environmentSize: 'MEDIUM' }, accountPrefix: 'mlp-t3', environment: 't3' }));
    expect([argo.kind, argo.compileTarget, argo.logResource, argo.argo !== undefined]).toEqual(['argo', 'argo', 'k8s_container', true]);
    expect([vertex.kind, vertex.compileTarget, vertex.logResource, vertex.vertex !== undefined]).toEqual(['vertex', 'kfp', 'ml_job', true]);
    expect([comp.kind, comp.compileTarget, comp.composer !== undefined]).toEqual(['composer', 'airflow', true]);
    const json = synthJson(base.stack);
    expect(resourcesOf(json, 'helm_release')).toHaveLength(1);
    expect(onlyResource(json, 'google_composer_environment')).toMatchObject({ name: 'mlp-t3', config: { environment_size: 'ENVIRONMENT_SIZE_MEDIUM' } });
  });

  test('refuses compiled output of another engine, Composer schedules and non-string Argo parameters', () => {
    const base = workloadBase();
    expect(errorOf(() => new PipelineOrchestrator(base.stack, 'p1', props(base, { pipelines: { kfp: [spineSpec()] } })))).toBe(
      "PipelineOrchestrator 'test/p1': pipelines has kfp output, but the orchestrator is argo; compile with --target argo.");
    expect(errorOf(() => new PipelineOrchestrator(base.stack, 'p2', props(base, { orchestrator: { kind: 'composer' }, schedules: [{ pipeline: 'spine-demo', cron: '0 3 * * *' }] })))).toBe(
      "PipelineOrchestrator 'test/p2': Composer runs DAGs on the schedule written in the DAG; compile spine-demo with `mlp compile <pipeline> --target airflow --schedule '<cron>'` and remove the schedules.");
    expect(errorOf(() => new PipelineOrchestrator(base.stack, 'p3', props(base, { schedules: [{ pipeline: 'spine-demo', cron: '0 3 * * *', parameters: { count: 10 } }] })))).toBe(
      "PipelineOrchestrator 'test/p3': schedule of spine-demo sets parameter 'count' to 10; Argo parameters are strings, write \"10\".");
  });
});
