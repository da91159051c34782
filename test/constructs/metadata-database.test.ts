// MetadataDatabase: what the Cloud SQL API would refuse is refused at construction (issue 21 §1), and the production
// options (issue 21 §2) are emitted with their values.
import { MetadataDatabase, MetadataDatabaseProps } from '../../constructs/metadata-database';
import { Base, Json, baseStack, errorOf, onlyResource, resourcesOf, synthJson } from './helpers';

function database(base: Base, props: Partial<MetadataDatabaseProps> = {}) {
  return new MetadataDatabase(base.stack, 'db', { instanceName: 'mlp-test-metadata', project: 'acme-ml-test', network: base.network, tier: 'db-custom-2-7680', ...props });
}
function instanceOf(props: Partial<MetadataDatabaseProps> = {}): Json {
  const base = baseStack();
  database(base, props);
  return onlyResource(synthJson(base.stack), 'google_sql_database_instance');
}

describe('MetadataDatabase backup retention', () => {
  test('refuses as many or fewer backups than days of transaction logs, naming both fixes', () => {
    expect(errorOf(() => database(baseStack(), { retainedBackups: 3 }))).toBe(
      "MetadataDatabase 'test/db': retainedBackups 3 must exceed transactionLogRetentionDays 7 (Cloud SQL refuses it); set retainedBackups to at least 8 or transactionLogRetentionDays to at most 2.");
    expect(errorOf(() => database(baseStack(), { retainedBackups: 7, transactionLogRetentionDays: 7 }))).toBe(
      "MetadataDatabase 'test/db': retainedBackups 7 must exceed transactionLogRetentionDays 7 (Cloud SQL refuses it); set retainedBackups to at least 8 or transactionLogRetentionDays to at most 6.");
    expect(errorOf(() => database(baseStack(), { retainedBackups: 1, transactionLogRetentionDays: 1 }))).toBe(
      "MetadataDatabase 'test/db': retainedBackups 1 must exceed transactionLogRetentionDays 1 (Cloud SQL refuses it); set retainedBackups to at least 2.");
  });

  test('the defaults keep 14 backups and 7 days of logs; a smaller valid pair is emitted as given', () => {
    expect(instanceOf().settings.backup_configuration).toMatchObject({ transaction_log_retention_days: 7, backup_retention_settings: { retained_backups: 14 } });
    expect(instanceOf({ retainedBackups: 3, transactionLogRetentionDays: 2 }).settings.backup_configuration).toMatchObject({
      transaction_log_retention_days: 2, backup_retention_settings: { retained_backups: 3, retention_unit: 'COUNT' },
    });
  });
});

describe('MetadataDatabase edition', () => {
  test('db-perf-optimized-N-* tiers need ENTERPRISE_PLUS, and ENTERPRISE_PLUS needs one of them', () => {
    expect(errorOf(() => database(baseStack(), { tier: 'db-perf-optimized-N-8' }))).toBe(
      "MetadataDatabase 'test/db': tier db-perf-optimized-N-8 is an Enterprise Plus tier, but edition is ENTERPRISE; set edition to 'ENTERPRISE_PLUS' or pick a db-custom-* tier.");
    expect(errorOf(() => database(baseStack(), { edition: 'ENTERPRISE_PLUS' }))).toBe(
      "MetadataDatabase 'test/db': edition ENTERPRISE_PLUS runs only db-perf-optimized-N-* tiers, not db-custom-2-7680; set tier to e.g. db-perf-optimized-N-8 or edition to 'ENTERPRISE'.");
    expect(errorOf(() => database(baseStack(), { dataCache: true }))).toBe(
      "MetadataDatabase 'test/db': dataCache needs edition 'ENTERPRISE_PLUS'; remove dataCache or switch edition and tier.");
  });

  test('Enterprise Plus synthesizes the edition with the data cache on and allows 35 days of logs', () => {
    const settings = instanceOf({ tier: 'db-perf-optimized-N-8', edition: 'ENTERPRISE_PLUS', retainedBackups: 40, transactionLogRetentionDays: 35 }).settings;
    expect(settings).toMatchObject({ tier: 'db-perf-optimized-N-8', edition: 'ENTERPRISE_PLUS', data_cache_config: { data_cache_enabled: true } });
    expect(settings.backup_configuration.transaction_log_retention_days).toBe(35);
    expect(instanceOf({ tier: 'db-perf-optimized-N-2', edition: 'ENTERPRISE_PLUS', dataCache: false }).settings.data_cache_config).toEqual({ data_cache_enabled: false });
    const enterprise = instanceOf().settings;
    expect(enterprise.edition).toBe('ENTERPRISE');
    expect(enterprise.data_cache_config).toBeUndefined();
  });
});

describe('MetadataDatabase CMEK', () => {
  test('the key is granted to the Cloud SQL service agent before the instance and its replicas are created', () => {
    const key = 'projects/acme-ml-test/locations/us-central1/keyRings/r/cryptoKeys/sql';
    const base = baseStack();
    database(base, { kmsKeyName: key, readReplicas: 1 });
    const json = synthJson(base.stack);
    const grant = onlyResource(json, 'google_kms_crypto_key_iam_member');
    expect(grant).toMatchObject({ crypto_key_id: key, role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter' });
    expect(grant.member).toMatch(/^serviceAccount:service-\$\{data\.google_project\.db_project_[A-Z0-9]+\.number\}@gcp-sa-cloud-sql\.iam\.gserviceaccount\.com$/);
    expect(Object.values(json.data.google_project)).toEqual([expect.objectContaining({ project_id: 'acme-ml-test' })]);
    const instances = resourcesOf(json, 'google_sql_database_instance');
    const primary = instances.find((i) => i.name === 'mlp-test-metadata')!;
    expect(primary.encryption_key_name).toBe(key);
    expect(primary.depends_on).toEqual([
      expect.stringMatching(/^google_service_networking_connection\./), expect.stringMatching(/^google_kms_crypto_key_iam_member\.db_kms-sql-agent_/),
    ]);
    // The replica is created from the primary, so it waits for the grant through it.
    expect(instances.find((i) => i.name === 'mlp-test-metadata-replica-1')).toMatchObject({ encryption_key_name: key, master_instance_name: expect.stringContaining('google_sql_database_instance.db_instance_') });
  });

  test('without a key there is no grant and no project lookup', () => {
    const base = baseStack();
    database(base);
    const json = synthJson(base.stack);
    expect(resourcesOf(json, 'google_kms_crypto_key_iam_member')).toEqual([]);
    expect(json.data?.google_project).toBeUndefined();
    expect(onlyResource(json, 'google_sql_database_instance').depends_on).toEqual([expect.stringMatching(/^google_service_networking_connection\./)]);
  });
});
