// ComposerOrchestrator: a Cloud Composer 3 environment for the compiled Airflow DAGs - a user-managed service account
// with only the grants the pipeline steps need, private (no public IPs), attached to the platform VPC, environment
// variables pointing at the buckets and the metadata database, and the DAG files uploaded into its DAG folder; its size,
// Airflow workload resources, maintenance window and scheduled snapshots are typed props checked at construction.
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { ComposerEnvironment, ComposerEnvironmentConfigMaintenanceWindow, ComposerEnvironmentConfigWorkloadsConfig } from '@cdktf/provider-google/lib/composer-environment';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { MlNetwork } from './network';
import { MlCluster } from './cluster';
import { ArtifactStore } from './artifact-store';
import { MetadataDatabase } from './metadata-database';
import { ContainerRegistry } from './container-registry';
import { ProjectServices } from './project-services';
import { ServiceAccountIdentity } from './service-account-identity';
import { escapeTerraformTemplates, unpinnedImageReason } from './workload-common';

/** The Composer image used unless `imageVersion` says otherwise (Composer 3, Airflow 2.10). */
export const COMPOSER_IMAGE_VERSION = 'composer-3-airflow-2.10.5';

/** One DAG file for the environment's `dags/` folder, e.g. the output of `mlp compile <pipeline> --target airflow`. */
export interface AirflowDagFile {
  /** File name in the DAG folder, e.g. `flights.py`. */
  readonly fileName: string;
  /** Python source. */
  readonly source: string;
}

/** Resources of one Airflow component (Composer 3 workloads config); unset fields keep the environment size's preset. */
export interface ComposerComponentResources {
  /**
   * Instances of the component.
   * @default - the environment size's preset
   */
  readonly count?: number;
  /**
   * vCPUs per instance.
   * @default - the environment size's preset
   */
  readonly cpu?: number;
  /**
   * Memory per instance in GB.
   * @default - the environment size's preset
   */
  readonly memoryGb?: number;
  /**
   * Storage per instance in GB.
   * @default - the environment size's preset
   */
  readonly storageGb?: number;
}

/** Airflow workers: autoscaled between minCount and maxCount. */
export interface ComposerWorkerResources {
  /**
   * Fewest workers.
   * @default - the environment size's preset
   */
  readonly minCount?: number;
  /**
   * Most workers (each KubernetesPodOperator step holds a worker slot while its pod runs).
   * @default - the environment size's preset
   */
  readonly maxCount?: number;
  /**
   * vCPUs per worker.
   * @default - the environment size's preset
   */
  readonly cpu?: number;
  /**
   * Memory per worker in GB.
   * @default - the environment size's preset
   */
  readonly memoryGb?: number;
  /**
   * Storage per worker in GB.
   * @default - the environment size's preset
   */
  readonly storageGb?: number;
}

/** Day of a weekly maintenance window (RFC 5545 BYDAY). */
export type ComposerWeekday = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';
const WEEKDAYS: readonly ComposerWeekday[] = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** Environment variables the environment sets for DAGs and their pods (names are a contract with the runtime). */
export const COMPOSER_ENV_VARS = [
  'MLP_IMAGE', 'MLP_PIPELINE_ROOT', 'MLP_RAW_DATA', 'MLP_MODELS', 'MLP_STAGING',
  'MLP_METADATA_INSTANCE', 'MLP_METADATA_DATABASE', 'MLP_METADATA_USER', 'MLP_GKE_CLUSTER',
] as const;

export interface ComposerOrchestratorProps {
  /** Environment name (lowercase, 1-63 chars). */
  readonly name: string;
  /** Project of the environment and its service account. */
  readonly project: string;
  /** Region of the environment (the network's region). */
  readonly region: string;
  /** The VPC the environment attaches to (private networking; reaches Cloud SQL's private IP). */
  readonly network: MlNetwork;
  /** Prefix of the environment's service account id (`<prefix>-composer`, 6-30 chars). */
  readonly accountPrefix: string;
  /** Buckets the steps read and write. */
  readonly store: ArtifactStore;
  /** The ML Metadata database the steps record to (the service account becomes an IAM database user). */
  readonly database: MetadataDatabase;
  /** Runtime image every step runs (tag or digest, never `latest`). */
  readonly image: string;
  /**
   * Registry of the runtime image (the service account may pull).
   * @default - no pull grant (public or other registry)
   */
  readonly registry?: ContainerRegistry;
  /**
   * GKE cluster for steps that need GPUs/TPUs (GKEStartPodOperator); the account gets roles/container.developer.
   * @default - every step runs in Composer's own cluster (KubernetesPodOperator)
   */
  readonly gkeCluster?: MlCluster;
  /**
   * Composer image (`composer-3-airflow-X.Y.Z[-build.N]`); pin a build for reproducible environments.
   * @default COMPOSER_IMAGE_VERSION
   */
  readonly imageVersion?: string;
  /**
   * Environment size.
   * @default 'SMALL'
   */
  readonly environmentSize?: 'SMALL' | 'MEDIUM' | 'LARGE';
  /**
   * Highly resilient environment (multi-zone scheduler, triggerer, web server and database).
   * @default false
   */
  readonly highResilience?: boolean;
  /**
   * Airflow schedulers (Composer 3: 1-3).
   * @default - the environment size's preset
   */
  readonly scheduler?: ComposerComponentResources;
  /**
   * Airflow workers.
   * @default - the environment size's preset
   */
  readonly workers?: ComposerWorkerResources;
  /**
   * Airflow triggerers (deferrable operators; count 0 turns them off, at most 10). Composer needs count, cpu and
   * memoryGb together, so all three must be given.
   * @default - the environment size's preset
   */
  readonly triggerer?: { readonly count: number; readonly cpu: number; readonly memoryGb: number };
  /**
   * Airflow DAG processors (Composer 3: 1-3).
   * @default - the environment size's preset
   */
  readonly dagProcessor?: ComposerComponentResources;
  /**
   * Maintenance window start, `HH:MM` UTC.
   * @default '00:00'
   */
  readonly maintenanceWindowStartUtc?: string;
  /**
   * Maintenance window length in hours (Composer: each slot at least 4 hours, at least 12 hours a week in total).
   * @default 4
   */
  readonly maintenanceWindowHours?: number;
  /**
   * Days of the maintenance window, or 'DAILY'.
   * @default ['FR', 'SA', 'SU'] (gcloud's default window: Friday to Sunday 00:00-04:00 UTC)
   */
  readonly maintenanceWindowDays?: readonly ComposerWeekday[] | 'DAILY';
  /**
   * Scheduled snapshots of the environment (Airflow database, configuration, DAGs) for disaster recovery.
   * @default true
   */
  readonly scheduledSnapshots?: boolean;
  /**
   * When snapshots are taken (five-field cron, in snapshotTimeZone).
   * @default '0 3 * * *'
   */
  readonly snapshotSchedule?: string;
  /**
   * Time zone of snapshotSchedule: `UTC` or a fixed offset `UTC+HH` / `UTC-HH` (no daylight saving).
   * @default 'UTC'
   */
  readonly snapshotTimeZone?: string;
  /**
   * Where snapshots are written (`gs://...`); the environment's account must be able to write there.
   * @default - `<staging bucket>/composer-snapshots`, kept for the staging bucket's tempArtifactTtlDays
   */
  readonly snapshotLocation?: string;
  /**
   * DAG files to upload into the environment's DAG folder.
   * @default - none
   */
  readonly dags?: readonly AirflowDagFile[];
  /**
   * Labels on the environment.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/**
 * Cloud Composer 3. Construct ids: `api`, `service-account` (ServiceAccountIdentity), `project`, `service-agent-ext`,
 * `environment`, `dag-<file name without .py>`.
 */
export class ComposerOrchestrator extends Construct {
  readonly environment: ComposerEnvironment;
  readonly identity: ServiceAccountIdentity;
  /** The environment variables set (literal or token values). */
  readonly envVariables: { readonly [name: string]: string };
  /** `gs://<environment bucket>/dags` */
  readonly dagFolder: string;
  readonly dagObjects: StorageBucketObject[];

  constructor(scope: Construct, id: string, props: ComposerOrchestratorProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('ComposerOrchestrator', this, msg);
    if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(props.name)) throw fail(`name '${props.name}' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter.`);
    if (props.region !== props.network.region) throw fail(`region ${props.region} differs from the network's region ${props.network.region}; Composer attaches to a subnet in its own region.`);
    const imageVersion = props.imageVersion ?? COMPOSER_IMAGE_VERSION;
    if (!/^composer-3-airflow-\d+\.\d+\.\d+(-build\.\d+)?$/.test(imageVersion)) {
      throw fail(`imageVersion '${imageVersion}' is not a Composer 3 image like ${COMPOSER_IMAGE_VERSION} or ${COMPOSER_IMAGE_VERSION}-build.3.`);
    }
    const unpinned = unpinnedImageReason(props.image);
    if (unpinned) throw fail(`${unpinned}; use the commit tag Cloud Build pushes or a digest.`);
    const files = new Set<string>();
    for (const dag of props.dags ?? []) {
      if (!/^[A-Za-z0-9_-]+\.py$/.test(dag.fileName)) throw fail(`DAG file name '${dag.fileName}' must be a plain Python file name like flights.py (no folders).`);
      if (files.has(dag.fileName)) throw fail(`DAG file '${dag.fileName}' is listed twice.`);
      files.add(dag.fileName);
      if (!/\bDAG\b|@dag\b/.test(dag.source)) throw fail(`DAG file '${dag.fileName}' defines no DAG; upload the output of \`mlp compile <pipeline> --target airflow\`.`);
    }
    validateGcpLabels('ComposerOrchestrator', this, props.labels);
    const workloadsConfig = composerWorkloads(props, fail);
    const maintenanceWindow = composerMaintenanceWindow(props, fail);
    const snapshots = props.scheduledSnapshots ?? true;
    const snapshotSchedule = props.snapshotSchedule ?? '0 3 * * *';
    const snapshotTimeZone = props.snapshotTimeZone ?? 'UTC';
    if (!snapshots && (props.snapshotSchedule !== undefined || props.snapshotLocation !== undefined || props.snapshotTimeZone !== undefined)) {
      throw fail('snapshotSchedule, snapshotTimeZone and snapshotLocation have no effect with scheduledSnapshots false; remove them or turn snapshots on.');
    }
    if (!/^\S+(\s+\S+){4}$/.test(snapshotSchedule.trim())) throw fail(`snapshotSchedule '${snapshotSchedule}' must be a five-field cron expression like '0 3 * * *'.`);
    if (!/^UTC([+-](0\d|1[0-2]))?$/.test(snapshotTimeZone)) throw fail(`snapshotTimeZone '${snapshotTimeZone}' must be UTC or a fixed offset from UTC-12 to UTC+12 like UTC+01.`);
    if (props.snapshotLocation !== undefined && !/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/.*)?$/.test(props.snapshotLocation)) {
      throw fail(`snapshotLocation '${props.snapshotLocation}' must be a gs:// path like gs://my-bucket/composer-snapshots.`);
    }

    const api = ProjectServices.of(this).enable('composer.googleapis.com', props.project);
    this.identity = new ServiceAccountIdentity(this, 'service-account', {
      accountId: `${props.accountPrefix}-composer`,
      project: props.project,
      displayName: `Cloud Composer ${props.name}`,
      principalId: 'composer',
      projectRoles: ['roles/composer.worker', ...(props.gkeCluster ? ['roles/container.developer'] : [])],
    });
    // Composer 3's service agent must be able to act for the user-managed account.
    const project = new DataGoogleProject(this, 'project', { projectId: props.project });
    const agentExt = new ServiceAccountIamMember(this, 'service-agent-ext', {
      serviceAccountId: this.identity.serviceAccount.name,
      role: 'roles/composer.ServiceAgentV2Ext',
      member: `serviceAccount:service-${project.number}@cloudcomposer-accounts.iam.gserviceaccount.com`,
      dependsOn: [api],
    });

    const store = props.store;
    store.rawData.grantRead(this.identity);
    store.pipelineRoot.grantWrite(this.identity);
    store.staging.grantWrite(this.identity);
    store.models.grantWrite(this.identity);
    props.database.grantConnect(this.identity);
    props.registry?.grantPull(this.identity);

    const env: { [name: string]: string } = {
      MLP_IMAGE: props.image,
      MLP_PIPELINE_ROOT: store.pipelineRoot.url,
      MLP_RAW_DATA: store.rawData.url,
      MLP_MODELS: store.models.url,
      MLP_STAGING: store.staging.url,
      MLP_METADATA_INSTANCE: props.database.connectionName,
      MLP_METADATA_DATABASE: props.database.databaseName,
      MLP_METADATA_USER: Fn.trimsuffix(this.identity.email, '.gserviceaccount.com'),
    };
    if (props.gkeCluster) env.MLP_GKE_CLUSTER = `${props.gkeCluster.project}/${props.gkeCluster.location}/${props.gkeCluster.name}`;
    this.envVariables = env;

    const size = props.environmentSize ?? 'SMALL';
    this.environment = new ComposerEnvironment(this, 'environment', {
      name: props.name,
      project: props.project,
      region: props.region,
      labels: props.labels ? { ...props.labels } : undefined,
      dependsOn: [api, agentExt],
      config: {
        environmentSize: `ENVIRONMENT_SIZE_${size}`,
        resilienceMode: props.highResilience ? 'HIGH_RESILIENCE' : 'STANDARD_RESILIENCE',
        enablePrivateEnvironment: true,
        workloadsConfig,
        maintenanceWindow,
        recoveryConfig: snapshots
          ? {
            scheduledSnapshotsConfig: {
              enabled: true,
              snapshotCreationSchedule: snapshotSchedule,
              snapshotLocation: props.snapshotLocation ?? `${store.staging.url}/composer-snapshots`,
              timeZone: snapshotTimeZone,
            },
          }
          : undefined,
        nodeConfig: {
          serviceAccount: this.identity.email,
          network: props.network.network.id,
          subnetwork: props.network.subnetwork.id,
        },
        softwareConfig: {
          imageVersion,
          envVariables: env,
          airflowConfigOverrides: {
            'core-dags_are_paused_at_creation': 'False',
            'webserver-expose_config': 'False',
          },
        },
      },
    });
    // dag_gcs_prefix is gs://<bucket>/dags: the bucket is its third '/'-separated part.
    this.dagFolder = this.environment.config.dagGcsPrefix;
    const bucket = Fn.element(Fn.split('/', this.environment.config.dagGcsPrefix), 2);
    this.dagObjects = (props.dags ?? []).map((dag) => new StorageBucketObject(this, `dag-${dag.fileName.replace(/\.py$/, '')}`, {
      bucket,
      name: `dags/${dag.fileName}`,
      content: escapeTerraformTemplates(dag.source),
      contentType: 'text/x-python',
    }));
  }
}

type Fail = (msg: string) => Error;

/** The workloads config from the typed component props (undefined when none is given), or an error naming the field. */
function composerWorkloads(props: ComposerOrchestratorProps, fail: Fail): ComposerEnvironmentConfigWorkloadsConfig | undefined {
  const positive = (field: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw fail(`${field} ${v} must be a positive number.`);
  };
  const countIn = (field: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw fail(`${field} ${v} must be an integer from ${min} to ${max}.`);
  };
  const component = (name: string, r: ComposerComponentResources | undefined, maxCount: number) => {
    if (!r) return undefined;
    countIn(`${name}.count`, r.count, 1, maxCount);
    positive(`${name}.cpu`, r.cpu);
    positive(`${name}.memoryGb`, r.memoryGb);
    positive(`${name}.storageGb`, r.storageGb);
    return { count: r.count, cpu: r.cpu, memoryGb: r.memoryGb, storageGb: r.storageGb };
  };
  const scheduler = component('scheduler', props.scheduler, 3);
  const dagProcessor = component('dagProcessor', props.dagProcessor, 3);
  const w = props.workers;
  if (w) {
    countIn('workers.minCount', w.minCount, 1, 100);
    countIn('workers.maxCount', w.maxCount, 1, 100);
    if (w.minCount !== undefined && w.maxCount !== undefined && w.minCount > w.maxCount) throw fail(`workers.minCount ${w.minCount} exceeds workers.maxCount ${w.maxCount}; lower minCount or raise maxCount.`);
    positive('workers.cpu', w.cpu);
    positive('workers.memoryGb', w.memoryGb);
    positive('workers.storageGb', w.storageGb);
  }
  const t = props.triggerer;
  if (t) {
    countIn('triggerer.count', t.count, 0, 10);
    positive('triggerer.cpu', t.cpu);
    positive('triggerer.memoryGb', t.memoryGb);
  }
  if (!scheduler && !dagProcessor && !w && !t) return undefined;
  return {
    scheduler,
    dagProcessor,
    worker: w ? { minCount: w.minCount, maxCount: w.maxCount, cpu: w.cpu, memoryGb: w.memoryGb, storageGb: w.storageGb } : undefined,
    triggerer: t ? { count: t.count, cpu: t.cpu, memoryGb: t.memoryGb } : undefined,
  };
}

/**
 * The maintenance window: Composer takes a first start time (only its time of day and the recurrence matter) and an end
 * time that only gives the length; it needs slots of at least 4 hours and at least 12 hours a week.
 */
function composerMaintenanceWindow(props: ComposerOrchestratorProps, fail: Fail): ComposerEnvironmentConfigMaintenanceWindow {
  const start = props.maintenanceWindowStartUtc ?? '00:00';
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(start);
  if (!m) throw fail(`maintenanceWindowStartUtc '${start}' must be a UTC time of day like 02:00.`);
  const hours = props.maintenanceWindowHours ?? 4;
  if (!Number.isInteger(hours) || hours < 4 || hours > 24) throw fail(`maintenanceWindowHours ${hours} must be a whole number of hours from 4 to 24 (Composer's slots are at least 4 hours).`);
  const days = props.maintenanceWindowDays ?? ['FR', 'SA', 'SU'];
  let recurrence: string;
  let slotsPerWeek: number;
  if (days === 'DAILY') {
    recurrence = 'FREQ=DAILY';
    slotsPerWeek = 7;
  } else {
    const bad = days.find((d) => !WEEKDAYS.includes(d));
    if (bad !== undefined) throw fail(`maintenanceWindowDays has '${bad}'; use ${WEEKDAYS.join(', ')} or 'DAILY'.`);
    if (days.length === 0 || new Set(days).size !== days.length) throw fail(`maintenanceWindowDays ${JSON.stringify(days)} must list each day at most once and at least one day.`);
    recurrence = `FREQ=WEEKLY;BYDAY=${[...days].sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b)).join(',')}`;
    slotsPerWeek = days.length;
  }
  if (hours * slotsPerWeek < 12) {
    throw fail(`the maintenance window gives ${hours * slotsPerWeek} hours a week (${hours} h × ${slotsPerWeek} day${slotsPerWeek === 1 ? '' : 's'}); Composer needs at least 12: add days or lengthen maintenanceWindowHours.`);
  }
  // A fixed first day (2025-01-03, a Friday) keeps the synthesized window stable from run to run.
  const first = Date.UTC(2025, 0, 3, Number(m[1]), Number(m[2]));
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
  return { startTime: iso(first), endTime: iso(first + hours * 3600_000), recurrence };
}
