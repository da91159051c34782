// MetadataDatabase: Cloud SQL for PostgreSQL as the ML Metadata store - private IP only, IAM database authentication,
// TLS required, backups + PITR, optional regional HA, query insights, both deletion protections and the logging flags
// security scanners check. Outputs the instance connection name for the Cloud SQL Auth Proxy.
import { Construct } from 'constructs';
import { Fn, TerraformOutput } from 'cdktf';
import { SqlDatabaseInstance } from '@cdktf/provider-google/lib/sql-database-instance';
import { SqlDatabase } from '@cdktf/provider-google/lib/sql-database';
import { SqlUser } from '@cdktf/provider-google/lib/sql-user';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { MlNetwork } from './network';
import { IPrincipal, placeGrant } from './principal';
import { PolicyPack } from './policy/policy-pack';
import { grantKeyToAgent, serviceAgentEmail } from './cmek';

/** A principal that is a Google service account (needed to become an IAM database user). */
export interface IServiceAccountPrincipal extends IPrincipal {
  /** Service account e-mail (may be a token). */
  readonly email: string;
}

export type PostgresVersion = 'POSTGRES_15' | 'POSTGRES_16' | 'POSTGRES_17';
/** Cloud SQL edition: Enterprise Plus runs the `db-perf-optimized-N-*` tiers (and has the data cache, 35 days of PITR logs). */
export type CloudSqlEdition = 'ENTERPRISE' | 'ENTERPRISE_PLUS';

export interface MetadataDatabaseProps {
  /** Instance name (lowercase, 1-80 chars; names are reserved for a week after deletion). */
  readonly instanceName: string;
  /** Network whose private service access connection gives the instance its private IP. */
  readonly network: MlNetwork;
  /**
   * Machine tier, e.g. `db-custom-2-7680` or `db-g1-small` (shared-core: dev only, no HA) for Enterprise, or
   * `db-perf-optimized-N-8` for Enterprise Plus.
   */
  readonly tier: string;
  /**
   * Cloud SQL edition; must be `ENTERPRISE_PLUS` for `db-perf-optimized-N-*` tiers and `ENTERPRISE` for the others.
   * @default 'ENTERPRISE'
   */
  readonly edition?: CloudSqlEdition;
  /**
   * Enterprise Plus data cache (local SSD read cache). Only Enterprise Plus has it.
   * @default - true with ENTERPRISE_PLUS, off with ENTERPRISE
   */
  readonly dataCache?: boolean;
  /**
   * Project id; needed to grant IAM database users `roles/cloudsql.client` and `roles/cloudsql.instanceUser`.
   */
  readonly project: string;
  /**
   * PostgreSQL major version.
   * @default 'POSTGRES_16'
   */
  readonly databaseVersion?: PostgresVersion;
  /**
   * Regional HA (standby in another zone, automatic failover).
   * @default false
   */
  readonly highAvailability?: boolean;
  /**
   * Point-in-time recovery (write-ahead logs kept transactionLogRetentionDays).
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Automated (daily) backups kept; must exceed transactionLogRetentionDays (the API refuses otherwise).
   * @default 14
   */
  readonly retainedBackups?: number;
  /**
   * Days of transaction logs for PITR (1-7, Enterprise Plus 1-35); fewer than retainedBackups.
   * @default 7
   */
  readonly transactionLogRetentionDays?: number;
  /**
   * Backup start time (HH:MM, UTC).
   * @default '03:00'
   */
  readonly backupStartTime?: string;
  /**
   * Disk size in GB (grows automatically).
   * @default 20
   */
  readonly diskSizeGb?: number;
  /**
   * Maintenance day, 1 = Monday ... 7 = Sunday.
   * @default 7
   */
  readonly maintenanceDay?: number;
  /**
   * Maintenance hour (UTC, 0-23).
   * @default 4
   */
  readonly maintenanceHour?: number;
  /**
   * Terraform (`deletion_protection`) and API (`deletion_protection_enabled`) deletion protection.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Name of the database created for ML Metadata.
   * @default 'mlmd'
   */
  readonly databaseName?: string;
  /**
   * Labels on the instance.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
  /**
   * Read replicas (`<instance>-replica-<i>`, same region and tier) for lineage queries and the UI.
   * @default 0
   */
  readonly readReplicas?: number;
  /**
   * Cloud KMS key (`projects/<p>/locations/<region>/keyRings/<r>/cryptoKeys/<k>`, in the instance's region) for CMEK;
   * the Cloud SQL service agent (`service-<project number>@gcp-sa-cloud-sql.iam.gserviceaccount.com`) is granted
   * roles/cloudkms.cryptoKeyEncrypterDecrypter on it (construct `kms-sql-agent`) before the instance is created. Fixed at creation.
   * @default - Google-managed encryption
   */
  readonly kmsKeyName?: string;
  /**
   * First day (YYYY-MM-DD) of a period without maintenance (at most 90 days, e.g. a launch); needs denyMaintenanceEndDate.
   * @default - none
   */
  readonly denyMaintenanceStartDate?: string;
  /**
   * Last day (YYYY-MM-DD) of the deny-maintenance period.
   * @default - none
   */
  readonly denyMaintenanceEndDate?: string;
  /**
   * Keep the automated and on-demand backups when the instance is deleted (a final safety net for the lineage store).
   * @default true
   */
  readonly retainBackupsOnDelete?: boolean;
  /**
   * `REQUIRED` accepts only Cloud SQL connectors / Auth Proxy connections; the runtime's direct TLS + IAM login then stops working.
   * @default 'NOT_REQUIRED'
   */
  readonly connectorEnforcement?: 'REQUIRED' | 'NOT_REQUIRED';
  /**
   * Location of the automated backups (a region or multi-region such as `us`).
   * @default - Cloud SQL's choice: the multi-region nearest the instance
   */
  readonly backupLocation?: string;
}

const LOGGING_FLAGS: readonly { readonly name: string; readonly value: string }[] = [
  { name: 'cloudsql.iam_authentication', value: 'on' },
  { name: 'log_checkpoints', value: 'on' },
  // One line per completed statement with its duration (CKV2_GCP_13); the store runs few, short transactions.
  { name: 'log_duration', value: 'on' },
  { name: 'log_connections', value: 'on' },
  { name: 'log_disconnections', value: 'on' },
  { name: 'log_lock_waits', value: 'on' },
  { name: 'log_min_messages', value: 'warning' },
  { name: 'log_min_error_statement', value: 'error' },
  { name: 'log_temp_files', value: '0' },
  { name: 'log_min_duration_statement', value: '-1' },
  { name: 'log_hostname', value: 'on' },
  { name: 'log_statement', value: 'ddl' },
  { name: 'cloudsql.enable_pgaudit', value: 'on' },
];

/**
 * The ML Metadata database. Construct ids: `instance`, `replica-<i>`, `database`, `connection-name` (output), with kmsKeyName
 * `project` (data source) and `kms-sql-agent`, and per IAM user
 * `iam-user-<principalId>`, `iam-user-<principalId>-client`, `iam-user-<principalId>-instance-user`.
 */
export class MetadataDatabase extends Construct {
  readonly instance: SqlDatabaseInstance;
  /** Read replicas, `replica-1` … */
  readonly replicas: SqlDatabaseInstance[];
  readonly database: SqlDatabase;
  /** `project:region:instance`, for the Cloud SQL Auth Proxy / connectors. */
  readonly connectionName: string;
  readonly databaseName: string;
  /** Instance name (literal). */
  readonly instanceName: string;
  /** `project:region:instance` as a literal (the value connectionName resolves to), for build configs and env files. */
  readonly instanceConnectionName: string;
  /** Project id (literal). */
  readonly project: string;

  constructor(scope: Construct, id: string, props: MetadataDatabaseProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('MetadataDatabase', this, msg);
    if (!/^[a-z]([a-z0-9-]{0,78}[a-z0-9])?$/.test(props.instanceName)) throw fail(`instanceName '${props.instanceName}' is invalid; use lowercase letters, digits and '-', starting with a letter (max 80).`);
    if (!/^db-(f1-micro|g1-small|custom-\d+-\d+|perf-optimized-N-\d+|n1-(standard|highmem)-\d+)$/.test(props.tier)) {
      throw fail(`tier '${props.tier}' is not a Cloud SQL tier like db-custom-2-7680 or db-g1-small.`);
    }
    const sharedCore = props.tier === 'db-f1-micro' || props.tier === 'db-g1-small';
    const edition = props.edition ?? 'ENTERPRISE';
    const perfOptimized = props.tier.startsWith('db-perf-optimized-N-');
    if (perfOptimized && edition !== 'ENTERPRISE_PLUS') throw fail(`tier ${props.tier} is an Enterprise Plus tier, but edition is ${edition}; set edition to 'ENTERPRISE_PLUS' or pick a db-custom-* tier.`);
    if (!perfOptimized && edition === 'ENTERPRISE_PLUS') throw fail(`edition ENTERPRISE_PLUS runs only db-perf-optimized-N-* tiers, not ${props.tier}; set tier to e.g. db-perf-optimized-N-8 or edition to 'ENTERPRISE'.`);
    if (props.dataCache && edition !== 'ENTERPRISE_PLUS') throw fail("dataCache needs edition 'ENTERPRISE_PLUS'; remove dataCache or switch edition and tier.");
    const maxLogDays = edition === 'ENTERPRISE_PLUS' ? 35 : 7;
    if (props.highAvailability && sharedCore) throw fail(`tier ${props.tier} is shared-core and has no SLA or HA; use a db-custom-* tier with highAvailability.`);
    const retained = props.retainedBackups ?? 14;
    const logDays = props.transactionLogRetentionDays ?? 7;
    if (!Number.isInteger(retained) || retained < 1 || retained > 365) throw fail(`retainedBackups ${retained} must be between 1 and 365.`);
    if (!Number.isInteger(logDays) || logDays < 1 || logDays > maxLogDays) throw fail(`transactionLogRetentionDays ${logDays} must be between 1 and ${maxLogDays} for edition ${edition}.`);
    // Cloud SQL answers 400 "backup retention should be > transaction log retention" otherwise.
    if (retained <= logDays) {
      throw fail(`retainedBackups ${retained} must exceed transactionLogRetentionDays ${logDays} (Cloud SQL refuses it); set retainedBackups to at least ${logDays + 1}${retained > 1 ? ` or transactionLogRetentionDays to at most ${retained - 1}` : ''}.`);
    }
    const backupStart = props.backupStartTime ?? '03:00';
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(backupStart)) throw fail(`backupStartTime '${backupStart}' must be HH:MM (UTC).`);
    const day = props.maintenanceDay ?? 7;
    const hour = props.maintenanceHour ?? 4;
    if (!Number.isInteger(day) || day < 1 || day > 7) throw fail(`maintenanceDay ${day} must be 1 (Monday) to 7 (Sunday).`);
    if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw fail(`maintenanceHour ${hour} must be 0-23.`);
    const disk = props.diskSizeGb ?? 20;
    if (!Number.isInteger(disk) || disk < 10) throw fail(`diskSizeGb ${disk} must be an integer of at least 10.`);
    this.databaseName = props.databaseName ?? 'mlmd';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.databaseName)) throw fail(`databaseName '${this.databaseName}' must be a lowercase identifier.`);
    validateGcpLabels('MetadataDatabase', this, props.labels);
    const region = props.network.region;
    const replicas = props.readReplicas ?? 0;
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 10) throw fail(`readReplicas ${replicas} must be an integer between 0 and 10.`);
    if (replicas > 0 && sharedCore) throw fail(`tier ${props.tier} is shared-core and cannot have read replicas; use a db-custom-* tier or readReplicas 0.`);
    if (props.kmsKeyName !== undefined) {
      const key = /^projects\/[^/]+\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.exec(props.kmsKeyName);
      if (!key) throw fail(`kmsKeyName '${props.kmsKeyName}' is not a Cloud KMS key name; use projects/<project>/locations/${region}/keyRings/<ring>/cryptoKeys/<key>.`);
      if (key[1] !== region) throw fail(`kmsKeyName is in location ${key[1]}, but Cloud SQL needs the key in the instance's region ${region}; create the key ring in ${region}.`);
    }
    const denyStart = props.denyMaintenanceStartDate;
    const denyEnd = props.denyMaintenanceEndDate;
    if ((denyStart === undefined) !== (denyEnd === undefined)) throw fail('denyMaintenanceStartDate and denyMaintenanceEndDate go together; set both or neither.');
    if (denyStart !== undefined && denyEnd !== undefined) {
      const day = /^\d{4}-\d{2}-\d{2}$/;
      if (!day.test(denyStart) || !day.test(denyEnd) || Number.isNaN(Date.parse(denyStart)) || Number.isNaN(Date.parse(denyEnd))) {
        throw fail(`deny-maintenance dates '${denyStart}'..'${denyEnd}' must be YYYY-MM-DD.`);
      }
      const days = (Date.parse(denyEnd) - Date.parse(denyStart)) / 86_400_000;
      if (days < 0) throw fail(`denyMaintenanceEndDate ${denyEnd} is before denyMaintenanceStartDate ${denyStart}.`);
      if (days > 90) throw fail(`the deny-maintenance period ${denyStart}..${denyEnd} is ${days} days; Cloud SQL allows at most 90.`);
    }
    if (props.backupLocation !== undefined && !/^[a-z]+(-[a-z]+\d+)?$/.test(props.backupLocation)) {
      throw fail(`backupLocation '${props.backupLocation}' is not a region or multi-region like us-central1 or us.`);
    }
    const protect = props.deletionProtection ?? true;
    this.project = props.project;
    this.instanceName = props.instanceName;
    this.instanceConnectionName = `${props.project}:${props.network.region}:${props.instanceName}`;

    // Cloud SQL refuses to create a CMEK instance whose service agent cannot use the key. The agent is addressed by its
    // documented e-mail: google_project_service_identity is google-beta only in provider 6.x.
    const keyGrant = props.kmsKeyName
      ? grantKeyToAgent(this, 'kms-sql-agent', props.kmsKeyName, serviceAgentEmail(this, props.project, 'gcp-sa-cloud-sql.iam.gserviceaccount.com'))
      : undefined;

    this.instance = new SqlDatabaseInstance(this, 'instance', {
      name: props.instanceName,
      project: props.project,
      region: props.network.region,
      databaseVersion: props.databaseVersion ?? 'POSTGRES_16',
      deletionProtection: protect,
      encryptionKeyName: props.kmsKeyName,
      dependsOn: keyGrant ? [props.network.privateServiceConnection, keyGrant] : [props.network.privateServiceConnection],
      settings: {
        tier: props.tier,
        edition,
        dataCacheConfig: edition === 'ENTERPRISE_PLUS' ? { dataCacheEnabled: props.dataCache ?? true } : undefined,
        availabilityType: props.highAvailability ? 'REGIONAL' : 'ZONAL',
        diskAutoresize: true,
        diskSize: disk,
        diskType: 'PD_SSD',
        deletionProtectionEnabled: protect,
        retainBackupsOnDelete: props.retainBackupsOnDelete ?? true,
        connectorEnforcement: props.connectorEnforcement ?? 'NOT_REQUIRED',
        denyMaintenancePeriod: denyStart && denyEnd ? { startDate: denyStart, endDate: denyEnd, time: '00:00:00' } : undefined,
        userLabels: props.labels ? { ...props.labels } : undefined,
        ipConfiguration: {
          ipv4Enabled: false,
          privateNetwork: props.network.network.id,
          allocatedIpRange: props.network.privateServiceRange.name,
          enablePrivatePathForGoogleCloudServices: true,
          sslMode: 'ENCRYPTED_ONLY',
        },
        backupConfiguration: {
          enabled: true,
          startTime: backupStart,
          pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true,
          transactionLogRetentionDays: logDays,
          backupRetentionSettings: { retainedBackups: retained, retentionUnit: 'COUNT' },
          location: props.backupLocation,
        },
        insightsConfig: { queryInsightsEnabled: true, recordApplicationTags: true, recordClientAddress: false, queryStringLength: 1024 },
        maintenanceWindow: { day, hour, updateTrack: 'stable' },
        databaseFlags: LOGGING_FLAGS.map((f) => ({ ...f })),
      },
    });
    const settings = this.instance.settingsInput!;
    this.replicas = Array.from({ length: replicas }, (_, i) => new SqlDatabaseInstance(this, `replica-${i + 1}`, {
      name: `${props.instanceName}-replica-${i + 1}`,
      project: props.project,
      region,
      databaseVersion: props.databaseVersion ?? 'POSTGRES_16',
      masterInstanceName: this.instance.name,
      deletionProtection: protect,
      encryptionKeyName: props.kmsKeyName,
      settings: {
        tier: settings.tier,
        edition: settings.edition,
        dataCacheConfig: settings.dataCacheConfig,
        availabilityType: 'ZONAL',
        diskAutoresize: true,
        diskType: 'PD_SSD',
        deletionProtectionEnabled: protect,
        connectorEnforcement: settings.connectorEnforcement,
        userLabels: settings.userLabels,
        ipConfiguration: settings.ipConfiguration,
        insightsConfig: settings.insightsConfig,
        databaseFlags: settings.databaseFlags,
      },
    }));
    // ENCRYPTED_ONLY is this construct's decision, so its reason travels with every instance it creates.
    for (const instance of [this.instance, ...this.replicas]) {
      PolicyPack.suppress(instance, 'CKV_GCP_6',
        'ssl_mode ENCRYPTED_ONLY (MLP_SQL_TLS): the instance has a private IP only and clients log in with IAM tokens over TLS (Vertex jobs connect directly, without a client certificate).');
    }
    const version = props.databaseVersion ?? 'POSTGRES_16';
    if (version !== 'POSTGRES_17') {
      PolicyPack.suppress(this, 'CKV_GCP_79',
        `${version} is the configured major version: a major upgrade is an in-place migration of the store, made deliberately by setting databaseVersion to 'POSTGRES_17'.`);
    }
    for (const replica of this.replicas) {
      PolicyPack.suppress(replica, 'MLP_SQL_PITR', 'A read replica has no backups or PITR of its own; Cloud SQL backs up and recovers the primary it follows.');
    }
    this.database = new SqlDatabase(this, 'database', { name: this.databaseName, instance: this.instance.name, project: props.project });
    this.connectionName = this.instance.connectionName;
    new TerraformOutput(this, 'connection-name', {
      value: this.instance.connectionName,
      description: `Cloud SQL connection name of ${props.instanceName} (for the Cloud SQL Auth Proxy)`,
    });
  }

  /**
   * Makes a service account an IAM database user (no password) and lets it connect
   * (roles/cloudsql.client + roles/cloudsql.instanceUser). Database privileges are granted in SQL.
   * Construct ids `iam-user-<principalId>` (+ `-client`, `-instance-user`); for an account of a stack that depends on
   * this one they are created under the account as `iam-user-<instance name>` (see placeGrant).
   */
  grantConnect(account: IServiceAccountPrincipal): SqlUser {
    const placement = placeGrant(this, account);
    const id = placement.inPrincipalStack ? `iam-user-${this.instanceName}` : `iam-user-${account.principalId}`;
    const existing = placement.scope.node.tryFindChild(id) as SqlUser | undefined;
    if (existing) return existing;
    for (const [suffix, role] of [['client', 'roles/cloudsql.client'], ['instance-user', 'roles/cloudsql.instanceUser']] as const) {
      new ProjectIamMember(placement.scope, `${id}-${suffix}`, { project: this.project, role, member: account.iamMember });
    }
    return new SqlUser(placement.scope, id, {
      instance: placement.inPrincipalStack ? this.instanceName : this.instance.name,
      project: this.project,
      // Cloud SQL names IAM service-account users by the e-mail without `.gserviceaccount.com`.
      name: Fn.trimsuffix(account.email, '.gserviceaccount.com'),
      type: 'CLOUD_IAM_SERVICE_ACCOUNT',
    });
  }
}
