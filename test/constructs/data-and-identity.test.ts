// ArtifactStore, MetadataDatabase, ContainerRegistry and WorkloadIdentity: secure defaults, grants and validation errors.
import { DefaultTokenResolver, StringConcat, Testing, Tokenization } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { SqlDatabaseInstance } from '@cdktf/provider-google/lib/sql-database-instance';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactStore, ArtifactStoreProps } from '../../constructs/artifact-store';
import { MetadataDatabase, MetadataDatabaseProps } from '../../constructs/metadata-database';
import { ContainerRegistry } from '../../constructs/container-registry';
import { WorkloadIdentity } from '../../constructs/workload-identity';
import { Principal } from '../../constructs/principal';
import { Base, Json, baseStack, errorOf, onlyResource, resourcesOf, synthJson } from './helpers';

function store(base: Base, props: Partial<ArtifactStoreProps> = {}) {
  return new ArtifactStore(base.stack, 'artifacts', { bucketPrefix: 'acme-ml-test', location: 'US-CENTRAL1', ...props });
}
function database(base: Base, props: Partial<MetadataDatabaseProps> = {}) {
  return new MetadataDatabase(base.stack, 'db', { instanceName: 'mlp-test-metadata', project: 'acme-ml-test', network: base.network, tier: 'db-custom-2-7680', ...props });
}
function bucketNamed(json: Json, name: string): Json {
  return resourcesOf(json, 'google_storage_bucket').find((b) => b.name === name)!;
}
function membersOf(json: Json, type: string): { role: string; member: string }[] {
  return resourcesOf(json, type).map((m) => ({ role: m.role, member: m.member }));
}

describe('ArtifactStore', () => {
  test('five buckets, all uniform access, public access prevention, versioning and soft delete; data buckets log access', () => {
    const base = baseStack();
    store(base);
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(StorageBucket, {
      name: 'acme-ml-test-raw-data',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      versioning: { enabled: true },
      soft_delete_policy: { retention_duration_seconds: 604800 },
      logging: { log_bucket: '${google_storage_bucket.artifacts_access-logs_bucket_389C393F.name}', log_object_prefix: 'acme-ml-test-raw-data' },
    });
    const json = synthJson(base.stack);
    const buckets = resourcesOf(json, 'google_storage_bucket');
    expect(buckets.map((b) => b.name).sort()).toEqual(['access-logs', 'models', 'pipeline-root', 'raw-data', 'staging'].map((s) => `acme-ml-test-${s}`).sort());
    for (const b of buckets) {
      expect(b).toMatchObject({ uniform_bucket_level_access: true, public_access_prevention: 'enforced', versioning: { enabled: true }, force_destroy: false });
    }
  });

  test('lifecycle presets: raw data Nearline at 30 and Coldline at 90 days, temporary artifacts deleted after N days', () => {
    const base = baseStack();
    store(base, { tempArtifactTtlDays: 5 });
    const json = synthJson(base.stack);
    const raw = bucketNamed(json, 'acme-ml-test-raw-data').lifecycle_rule;
    expect(raw).toContainEqual({ action: { type: 'SetStorageClass', storage_class: 'NEARLINE' }, condition: { age: 30, matches_storage_class: ['STANDARD'] } });
    expect(raw).toContainEqual({ action: { type: 'SetStorageClass', storage_class: 'COLDLINE' }, condition: { age: 90, matches_storage_class: ['STANDARD', 'NEARLINE'] } });
    expect(bucketNamed(json, 'acme-ml-test-staging').lifecycle_rule).toContainEqual({ action: { type: 'Delete' }, condition: { age: 5 } });
    expect(bucketNamed(json, 'acme-ml-test-pipeline-root').lifecycle_rule).toContainEqual({ action: { type: 'Delete' }, condition: { age: 5, matches_prefix: ['tmp/'] } });
  });

  test('optional CMEK and retention', () => {
    const base = baseStack();
    const key = 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k';
    store(base, { kmsKeyName: key, rawDataRetentionDays: 30 });
    const json = synthJson(base.stack);
    expect(bucketNamed(json, 'acme-ml-test-raw-data')).toMatchObject({ encryption: { default_kms_key_name: key }, retention_policy: { retention_period: 2592000 } });
    expect(bucketNamed(json, 'acme-ml-test-models').retention_policy).toBeUndefined();
  });

  test('grants: read, write, and the transfer agent least-privilege roles', () => {
    const base = baseStack();
    const s = store(base);
    const reader = Principal.serviceAccount('reader', 'reader@acme-ml-test.iam.gserviceaccount.com');
    s.models.grantRead(reader);
    s.pipelineRoot.grantWrite(reader);
    s.rawData.grantTransferSource();
    s.staging.grantTransferSink();
    s.staging.grantTransferSink(); // idempotent
    const json = synthJson(base.stack);
    const agentId = Object.keys(json.data.google_storage_transfer_project_service_account)[0];
    expect(agentId).toMatch(/^storage-transfer-agent_account_/);
    const agent = `\${data.google_storage_transfer_project_service_account.${agentId}.email}`;
    const bindings = resourcesOf(json, 'google_storage_bucket_iam_member').map((m) => `${m.bucket.match(/artifacts_([a-z-]+)_bucket/)[1]} ${m.role} ${m.member}`);
    expect(bindings.sort()).toEqual([
      'access-logs roles/storage.objectCreator group:cloud-storage-analytics@google.com',
      'models roles/storage.objectViewer serviceAccount:reader@acme-ml-test.iam.gserviceaccount.com',
      'pipeline-root roles/storage.objectUser serviceAccount:reader@acme-ml-test.iam.gserviceaccount.com',
      `raw-data roles/storage.legacyBucketReader serviceAccount:${agent}`,
      `raw-data roles/storage.objectViewer serviceAccount:${agent}`,
      `staging roles/storage.legacyBucketWriter serviceAccount:${agent}`,
    ].sort());
    expect(Object.keys(json.data.google_storage_transfer_project_service_account)).toHaveLength(1);
  });

  test('refuses invalid props', () => {
    const base = baseStack();
    expect(errorOf(() => store(base, { bucketPrefix: 'Acme' }))).toBe(
      "ArtifactStore 'test/artifacts': bucketPrefix 'Acme' is invalid; use 3-50 lowercase letters, digits or '-' (bucket names add up to 14 characters).");
    expect(errorOf(() => new ArtifactStore(base.stack, 'a2', { bucketPrefix: 'acme', location: 'US', rawDataNearlineAfterDays: 90, rawDataColdlineAfterDays: 60 }))).toBe(
      "ArtifactStore 'test/a2': rawDataColdlineAfterDays (60) must be greater than rawDataNearlineAfterDays (90).");
    expect(errorOf(() => new ArtifactStore(base.stack, 'a3', { bucketPrefix: 'acme', location: 'US', kmsKeyName: 'my-key' }))).toBe(
      "ArtifactStore 'test/a3': kmsKeyName 'my-key' must look like projects/P/locations/L/keyRings/R/cryptoKeys/K.");
  });
});

describe('MetadataDatabase', () => {
  test('private IP only, TLS, IAM auth flag, backups + PITR, insights, both deletion protections, depends on the peering', () => {
    const base = baseStack();
    database(base, { highAvailability: true });
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(SqlDatabaseInstance, {
      database_version: 'POSTGRES_16',
      deletion_protection: true,
      depends_on: ['google_service_networking_connection.network_private-service-connection_BCE73F92'],
      settings: expect.objectContaining({
        availability_type: 'REGIONAL',
        deletion_protection_enabled: true,
        ip_configuration: expect.objectContaining({ ipv4_enabled: false, ssl_mode: 'ENCRYPTED_ONLY', enable_private_path_for_google_cloud_services: true }),
        backup_configuration: {
          enabled: true, start_time: '03:00', point_in_time_recovery_enabled: true, transaction_log_retention_days: 7,
          backup_retention_settings: { retained_backups: 14, retention_unit: 'COUNT' },
        },
        insights_config: expect.objectContaining({ query_insights_enabled: true }),
        maintenance_window: { day: 7, hour: 4, update_track: 'stable' },
      }),
    });
    const json = synthJson(base.stack);
    const flags = Object.fromEntries(onlyResource(json, 'google_sql_database_instance').settings.database_flags.map((f: Json) => [f.name, f.value]));
    expect(flags).toMatchObject({
      'cloudsql.iam_authentication': 'on', log_checkpoints: 'on', log_connections: 'on', log_disconnections: 'on', log_lock_waits: 'on',
      log_temp_files: '0', log_min_duration_statement: '-1', 'cloudsql.enable_pgaudit': 'on',
    });
    const instanceId = Object.keys(json.resource.google_sql_database_instance)[0];
    expect(Object.values(json.output).map((o) => (o as Json).value)).toEqual([`\${google_sql_database_instance.${instanceId}.connection_name}`]);
    expect(onlyResource(json, 'google_sql_database').name).toBe('mlmd');
  });

  test('grantConnect makes a service account an IAM database user that may connect', () => {
    const base = baseStack();
    const db = database(base);
    const ids = new WorkloadIdentity(base.stack, 'ids', { cluster: base.cluster, namespace: 'ml', accountPrefix: 'mlp-test', roles: ['trainer'] });
    db.grantConnect(ids.identity('trainer'));
    db.grantConnect(ids.identity('trainer'));
    const json = synthJson(base.stack);
    const user = onlyResource(json, 'google_sql_user');
    expect(user.type).toBe('CLOUD_IAM_SERVICE_ACCOUNT');
    expect(user.name).toMatch(/^\$\{trimsuffix\(google_service_account\.ids_trainer_service-account_[0-9A-F]+\.email, "\.gserviceaccount\.com"\)\}$/);
    const roles = resourcesOf(json, 'google_project_iam_member').filter((m) => m.member.includes('ids_trainer')).map((m) => m.role).sort();
    expect(roles).toEqual(['roles/cloudsql.client', 'roles/cloudsql.instanceUser', 'roles/logging.logWriter', 'roles/monitoring.metricWriter']);
  });

  test('refuses HA on shared-core tiers and bad retention', () => {
    const base = baseStack();
    expect(errorOf(() => database(base, { tier: 'db-g1-small', highAvailability: true }))).toBe(
      "MetadataDatabase 'test/db': tier db-g1-small is shared-core and has no SLA or HA; use a db-custom-* tier with highAvailability.");
    const b2 = baseStack();
    expect(errorOf(() => database(b2, { transactionLogRetentionDays: 14 }))).toBe("MetadataDatabase 'test/db': transactionLogRetentionDays 14 must be between 1 and 7 for edition ENTERPRISE.");
  });
});

describe('ContainerRegistry', () => {
  test('Docker repository with cleanup policies and pull/push grants', () => {
    const base = baseStack();
    const reg = new ContainerRegistry(base.stack, 'registry', { repositoryId: 'ml-images', location: 'us-central1', keepRecentVersions: 5, deleteUntaggedAfterDays: 3 });
    const ci = Principal.serviceAccount('ci', 'ci@acme-ml-test.iam.gserviceaccount.com');
    reg.grantPush(ci);
    reg.grantPull(Principal.group('devs', 'ml-devs@acme.com'));
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(ArtifactRegistryRepository, {
      format: 'DOCKER',
      repository_id: 'ml-images',
      cleanup_policy_dry_run: false,
      cleanup_policies: [
        { id: 'keep-recent-versions', action: 'KEEP', most_recent_versions: { keep_count: 5 } },
        { id: 'delete-untagged', action: 'DELETE', condition: { tag_state: 'UNTAGGED', older_than: '259200s' } },
      ],
    });
    expect(membersOf(synthJson(base.stack), 'google_artifact_registry_repository_iam_member')).toEqual(expect.arrayContaining([
      { role: 'roles/artifactregistry.writer', member: 'serviceAccount:ci@acme-ml-test.iam.gserviceaccount.com' },
      { role: 'roles/artifactregistry.reader', member: 'group:ml-devs@acme.com' },
    ]));
    expect(resourcesOf(synthJson(base.stack), 'google_artifact_registry_repository_iam_member')).toHaveLength(2);
    expect(reg.imagePrefix).toContain('us-central1-docker.pkg.dev/');
  });
});

describe('WorkloadIdentity', () => {
  test('one service account per role, bound to its KSA, with only its roles; access matrix', () => {
    const base = baseStack();
    const s = store(base);
    const db = database(base);
    const reg = new ContainerRegistry(base.stack, 'registry', { repositoryId: 'ml-images', location: 'us-central1' });
    const ids = new WorkloadIdentity(base.stack, 'ids', { cluster: base.cluster, namespace: 'ml-platform', accountPrefix: 'mlp-test' });
    ids.grantPlatformAccess({ store: s, database: db, registry: reg });
    const json = synthJson(base.stack);
    expect(resourcesOf(json, 'google_service_account').map((a) => a.account_id).sort()).toEqual(
      ['mlp-test-model-server', 'mlp-test-nodes', 'mlp-test-pipeline-runner', 'mlp-test-trainer', 'mlp-test-transfer']);
    const wi = resourcesOf(json, 'google_service_account_iam_member');
    expect(wi.map((b) => b.member).sort()).toEqual(['model-server', 'pipeline-runner', 'trainer', 'transfer'].map((r) => `serviceAccount:acme-ml-test.svc.id.goog[ml-platform/${r}]`));
    expect(new Set(wi.map((b) => b.role))).toEqual(new Set(['roles/iam.workloadIdentityUser']));
    const grants = resourcesOf(json, 'google_storage_bucket_iam_member')
      .filter((m) => m.member.includes('ids_model-server'))
      .map((m) => `${m.bucket.match(/artifacts_([a-z-]+)_bucket/)[1]} ${m.role}`);
    expect(grants).toEqual(['models roles/storage.objectViewer']);
    expect(resourcesOf(json, 'google_sql_user')).toHaveLength(2);
    const trainer = ids.identity('trainer');
    const resolved = Tokenization.resolve(trainer.kubernetesAnnotations(), { scope: base.stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });
    expect(resolved['iam.gke.io/gcp-service-account']).toMatch(/^\$\{google_service_account\.ids_trainer_service-account_[0-9A-F]+\.email\}$/);
    expect([trainer.kubernetesNamespace, trainer.kubernetesServiceAccount]).toEqual(['ml-platform', 'trainer']);
  });

  test('refuses account ids over 30 characters and unknown roles', () => {
    const base = baseStack();
    expect(errorOf(() => new WorkloadIdentity(base.stack, 'ids', { cluster: base.cluster, namespace: 'ml', accountPrefix: 'a-very-long-prefix-here' }))).toBe(
      "WorkloadIdentity 'test/ids': service account id 'a-very-long-prefix-here-pipeline-runner' must be 6-30 characters; shorten accountPrefix.");
    const ids = new WorkloadIdentity(base.stack, 'ids2', { cluster: base.cluster, namespace: 'ml', accountPrefix: 'mlp', roles: ['trainer'] });
    expect(errorOf(() => ids.identity('transfer'))).toBe("WorkloadIdentity 'test/ids2': role transfer was not created; add it to roles.");
  });
});
