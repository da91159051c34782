// ArtifactStore, MetadataDatabase, ContainerRegistry and WorkloadIdentity: secure defaults, grants and validation errors.
import { Aspects, DefaultTokenResolver, StringConcat, TerraformStack, Testing, Tokenization } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { SqlDatabaseInstance } from '@cdktf/provider-google/lib/sql-database-instance';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactStore, ArtifactStoreProps } from '../../constructs/artifact-store';
import { MetadataDatabase, MetadataDatabaseProps } from '../../constructs/metadata-database';
import { ContainerRegistry } from '../../constructs/container-registry';
import { WorkloadIdentity } from '../../constructs/workload-identity';
import { Principal } from '../../constructs/principal';
import { PolicyPack } from '../../constructs/policy/policy-pack';
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

  test('optional CMEK (with the storage agent\'s key grant, before any bucket) and retention on an unversioned raw-data bucket', () => {
    const base = baseStack();
    const key = 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k';
    store(base, { kmsKeyName: key, rawDataRetentionDays: 30, rawDataVersioning: false });
    const json = synthJson(base.stack);
    const raw = bucketNamed(json, 'acme-ml-test-raw-data');
    expect(raw).toMatchObject({ encryption: { default_kms_key_name: key }, retention_policy: { retention_period: 2592000 }, versioning: { enabled: false } });
    // No noncurrent-version rule where there are no noncurrent versions.
    expect(JSON.stringify(raw.lifecycle_rule)).not.toContain('days_since_noncurrent_time');
    expect(bucketNamed(json, 'acme-ml-test-models')).toMatchObject({ versioning: { enabled: true } });
    expect(bucketNamed(json, 'acme-ml-test-models').retention_policy).toBeUndefined();
    const grant = onlyResource(json, 'google_kms_crypto_key_iam_member');
    expect(grant).toMatchObject({ crypto_key_id: key, role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter' });
    expect(grant.member).toMatch(/^serviceAccount:\$\{data\.google_storage_project_service_account\.artifacts_storage-agent_[A-Z0-9]+\.email_address\}$/);
    for (const b of resourcesOf(json, 'google_storage_bucket')) expect(b.depends_on).toEqual([expect.stringMatching(/^google_kms_crypto_key_iam_member\.artifacts_kms-storage-agent_/)]);
  });

  test('a retention policy on versioned raw data is refused (Cloud Storage allows no retention policy with Object Versioning)', () => {
    const base = baseStack();
    expect(errorOf(() => store(base, { rawDataRetentionDays: 30 }))).toBe(
      "ArtifactStore 'test/artifacts': rawDataRetentionDays (30) needs rawDataVersioning: false: Cloud Storage does not allow a retention policy and Object Versioning on the same bucket (the retention policy already keeps every object 30 days); set rawDataVersioning to false or remove rawDataRetentionDays.");
  });

  test('the policy pack accepts unversioned raw data only with the recorded reason (retention policy)', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'policy');
    // The access-logs bucket's own CKV_GCP_62 suppression lives in MlPlatform; only CKV_GCP_78 matters here.
    const pack = new PolicyPack({ failOnViolation: false });
    Aspects.of(stack).add(pack);
    new ArtifactStore(stack, 'artifacts', { bucketPrefix: 'acme-ml-test', location: 'US-CENTRAL1', rawDataRetentionDays: 30, rawDataVersioning: false, pipelineRootHierarchicalNamespace: true, pipelineRootVersioning: false });
    Testing.synth(stack);
    const report = pack.reports.get('policy')!;
    expect(report.violations.map((v) => v.ruleId)).toEqual(['CKV_GCP_62']);
    const suppressed = report.suppressed.filter((s) => s.ruleId === 'CKV_GCP_78').map((s) => s.reason);
    expect(suppressed).toEqual([
      expect.stringContaining('30-day retention policy, which Cloud Storage does not allow together with Object Versioning'),
      expect.stringContaining('hierarchical namespace (checkpoint throughput), which Cloud Storage does not allow together with Object Versioning'),
    ]);
  });

  test('Autoclass on the long-lived buckets replaces the raw-data storage-class rules; staging and access logs keep a storage class', () => {
    const base = baseStack();
    store(base, { autoclass: true, autoclassTerminalStorageClass: 'ARCHIVE' });
    const json = synthJson(base.stack);
    for (const name of ['raw-data', 'pipeline-root', 'models']) {
      expect(bucketNamed(json, `acme-ml-test-${name}`).autoclass).toEqual({ enabled: true, terminal_storage_class: 'ARCHIVE' });
    }
    expect(bucketNamed(json, 'acme-ml-test-staging').autoclass).toBeUndefined();
    expect(bucketNamed(json, 'acme-ml-test-access-logs').autoclass).toBeUndefined();
    expect(JSON.stringify(bucketNamed(json, 'acme-ml-test-raw-data').lifecycle_rule)).not.toContain('SetStorageClass');
    expect(errorOf(() => store(baseStack(), { autoclass: true, rawDataNearlineAfterDays: 10 }))).toBe(
      "ArtifactStore 'test/artifacts': autoclass replaces the raw-data Nearline/Coldline lifecycle rules (Autoclass buckets take no SetStorageClass rules); remove rawDataNearlineAfterDays and rawDataColdlineAfterDays or turn autoclass off.");
    expect(errorOf(() => store(baseStack(), { autoclassTerminalStorageClass: 'ARCHIVE' }))).toBe(
      "ArtifactStore 'test/artifacts': autoclassTerminalStorageClass 'ARCHIVE' has no effect without autoclass; set autoclass to true or remove it.");
  });

  test('hierarchical namespace on the pipeline root: uniform access, no versioning; refused on a versioned bucket', () => {
    const base = baseStack();
    store(base, { pipelineRootHierarchicalNamespace: true, pipelineRootVersioning: false });
    const json = synthJson(base.stack);
    expect(bucketNamed(json, 'acme-ml-test-pipeline-root')).toMatchObject({ hierarchical_namespace: { enabled: true }, uniform_bucket_level_access: true, versioning: { enabled: false } });
    expect(bucketNamed(json, 'acme-ml-test-models').hierarchical_namespace).toBeUndefined();
    expect(errorOf(() => store(baseStack(), { pipelineRootHierarchicalNamespace: true }))).toBe(
      "ArtifactStore 'test/artifacts': pipelineRootHierarchicalNamespace needs pipelineRootVersioning: false: Cloud Storage does not allow Object Versioning on a bucket with hierarchical namespace; set pipelineRootVersioning to false or remove pipelineRootHierarchicalNamespace.");
  });

  test('dual-region placement with turbo replication on every bucket; bad placements refused', () => {
    const base = baseStack();
    store(base, { location: 'US', dualRegion: ['us-central1', 'us-east1'], turboReplication: true });
    const json = synthJson(base.stack);
    for (const b of resourcesOf(json, 'google_storage_bucket')) {
      expect(b).toMatchObject({ location: 'US', custom_placement_config: { data_locations: ['US-CENTRAL1', 'US-EAST1'] }, rpo: 'ASYNC_TURBO' });
    }
    expect(errorOf(() => store(baseStack(), { dualRegion: ['US-CENTRAL1', 'US-EAST1'] }))).toBe(
      "ArtifactStore 'test/artifacts': dualRegion needs location to be the multi-region US, EU or ASIA (it names the continent of the two regions), not 'US-CENTRAL1'.");
    expect(errorOf(() => store(baseStack(), { location: 'US', dualRegion: ['US-CENTRAL1', 'EUROPE-WEST1'] }))).toBe(
      "ArtifactStore 'test/artifacts': dualRegion region 'EUROPE-WEST1' is not a region of the US multi-region; use two regions like US-CENTRAL1 and US-EAST1.");
    expect(errorOf(() => store(baseStack(), { location: 'US', dualRegion: ['US-CENTRAL1'] }))).toBe(
      "ArtifactStore 'test/artifacts': dualRegion must name exactly two different regions, got [\"US-CENTRAL1\"].");
    expect(errorOf(() => store(baseStack(), { turboReplication: true }))).toBe(
      "ArtifactStore 'test/artifacts': turboReplication needs a dual-region placement; set dualRegion (with a multi-region location) or a dual-region location like NAM4, EUR4, EUR5, EUR7, EUR8, ASIA1 (location is 'US-CENTRAL1').");
    store(baseStack(), { location: 'NAM4', turboReplication: true });
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
