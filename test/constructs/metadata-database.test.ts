// MetadataDatabase: what the Cloud SQL API would refuse is refused at construction (issue 21 §1), and the production
// options (issue 21 §2) are emitted with their values.
import { MetadataDatabase, MetadataDatabaseProps } from '../../constructs/metadata-database';
import { Base, Json, baseStack, errorOf, onlyResource, synthJson } from './helpers';

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
