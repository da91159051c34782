// ComposerOrchestrator: a Cloud Composer 3 environment for the compiled Airflow DAGs - a user-managed service account
// with only the grants the pipeline steps need, private (no public IPs), attached to the platform VPC, environment
// variables pointing at the buckets and the metadata database, and the DAG files uploaded into its DAG folder.
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { ComposerEnvironment } from '@cdktf/provider-google/lib/composer-environment';
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
