// BuildTriggers: the Cloud Build triggers of one environment - runtime images on changes under runtime/ (and the
// pipelines and lockfile that go into the image), a deploy of the environment's stacks on changes under constructs/ or
// stacks/ (approval required where asked, e.g. prod), and pipeline runs triggered through Pub/Sub (optionally on a
// Cloud Scheduler schedule). Each trigger has its included files, substitutions and its own least-privilege service
// account. The build configs (cloudbuild/*.yaml) are referenced by path.
import { Construct } from 'constructs';
import { CloudbuildTrigger, CloudbuildTriggerConfig } from '@cdktf/provider-google/lib/cloudbuild-trigger';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { ConstructValidationError } from './errors';
import { ContainerRegistry } from './container-registry';
import { googleManagedKeyReason, kmsKeyProblem } from './cmek';
import { MetadataDatabase } from './metadata-database';
import { MlCluster } from './cluster';
import { RoleIdentity } from './workload-identity';
import { ExistingBucket, IGrantableBucket } from './artifact-store';
import { ProjectServices } from './project-services';
import { ServiceAccountIdentity } from './service-account-identity';
import { PolicyPack } from './policy/policy-pack';
import { isCron, isTimeZone } from './workload-common';

/** Build config files the triggers run (written next to the code; referenced by path only). */
export const BUILD_CONFIGS = {
  images: 'cloudbuild/images.yaml',
  deploy: 'cloudbuild/deploy.yaml',
  pipeline: 'cloudbuild/pipeline.yaml',
} as const;

/** Files whose changes rebuild the runtime images. */
export const IMAGE_FILES = ['runtime/**', 'pipelines/**', 'package.json', 'package-lock.json', BUILD_CONFIGS.images] as const;
/** Files whose changes redeploy an environment. */
export const DEPLOY_FILES = ['constructs/**', 'stacks/**', 'cdktf.json', 'package-lock.json', BUILD_CONFIGS.deploy] as const;

/** The repository the triggers watch. */
export type BuildSource =
  /** A GitHub repository connected through the Cloud Build GitHub app (1st gen, global triggers). */
  | { readonly kind: 'github'; readonly owner: string; readonly name: string }
  /** A Cloud Build 2nd-gen repository, `projects/<p>/locations/<region>/connections/<c>/repositories/<r>` (regional triggers). */
  | { readonly kind: 'repository'; readonly repository: string };

/** Which pushes a trigger reacts to. */
export type GitRef =
  | { readonly branch: string; readonly tag?: undefined }
  | { readonly tag: string; readonly branch?: undefined };

/** Roles the deploy trigger's account holds on the project: what applying the platform's stacks administers. */
export const DEPLOYER_ROLES: readonly string[] = [
  'roles/compute.networkAdmin', 'roles/servicenetworking.networksAdmin', 'roles/container.admin', 'roles/cloudsql.admin',
  'roles/storage.admin', 'roles/artifactregistry.admin', 'roles/iam.serviceAccountAdmin', 'roles/iam.serviceAccountUser',
  'roles/resourcemanager.projectIamAdmin', 'roles/binaryauthorization.policyEditor', 'roles/serviceusage.serviceUsageAdmin',
  'roles/storagetransfer.admin', 'roles/composer.admin', 'roles/monitoring.editor', 'roles/logging.configWriter',
  'roles/cloudbuild.builds.editor', 'roles/cloudscheduler.admin', 'roles/pubsub.admin', 'roles/logging.logWriter',
];

/** What a pipeline-run build submits to. */
export type PipelineRunTarget = 'argo' | 'kfp' | 'airflow';

/** A Pub/Sub-triggered pipeline run (publish any message to its topic), optionally also on a schedule. */
export interface PipelineRunTrigger {
  /** Bundled pipeline name or module path (`_PIPELINE`). */
  readonly pipeline: string;
  /**
   * Cron schedule: a Cloud Scheduler job publishes to the trigger's topic.
   * @default - runs only when something publishes to the topic
   */
  readonly schedule?: string;
  /**
   * Time zone of the schedule.
   * @default 'Etc/UTC'
   */
  readonly timeZone?: string;
}

export interface BuildTriggersProps {
  /** Environment name, e.g. `dev` (trigger names, `_ENV`). */
  readonly environment: string;
  /** Project of the triggers and their service accounts. */
  readonly project: string;
  /** Region of 2nd-gen triggers and of the scheduler jobs. */
  readonly region: string;
  readonly source: BuildSource;
  /** Prefix of the build service account ids (`<prefix>-build-images`, `-build-deploy`, `-build-runs`). */
  readonly accountPrefix: string;
  /** Registry the images trigger pushes to (its account gets push there and nowhere else). */
  readonly registry: ContainerRegistry;
  /** Bucket holding the Terraform state (the deploy account gets object read/write on it). */
  readonly stateBucket: string;
  /**
   * Pushes that build the images.
   * @default { branch: '^main$' }
   */
  readonly imagesOn?: GitRef;
  /**
   * Pushes that deploy this environment.
   * @default { branch: '^main$' }
   */
  readonly deployOn?: GitRef;
  /**
   * A person must approve each deploy build before it runs (use for prod).
   * @default false
   */
  readonly requireApproval?: boolean;
  /**
   * Project roles of the deploy account.
   * @default DEPLOYER_ROLES
   */
  readonly deployerRoles?: readonly string[];
  /**
   * Pipeline runs.
   * @default - none
   */
  readonly pipelineRuns?: readonly PipelineRunTrigger[];
  /**
   * Where pipeline runs are submitted (`_TARGET`); sets the run account's roles.
   * @default 'argo'
   */
  readonly pipelineTarget?: PipelineRunTarget;
  /**
   * Account the submitted pipeline runs run as (Vertex): the run account may act as it.
   * @default - none
   */
  readonly pipelineRunsAs?: ServiceAccountIdentity;
  /**
   * Name of the runtime image in the registry (`_IMAGE`).
   * @default 'runtime'
   */
  readonly imageName?: string;
  /**
   * Cloud KMS key for the Pub/Sub topics of pipeline runs (`projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`); the Pub/Sub
   * service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on it.
   * @default - Google-managed encryption keys; CKV_GCP_83 is suppressed with that reason
   */
  readonly kmsKeyName?: string;
  /**
   * Tag of the runtime image pipeline runs use (`_IMAGE_TAG`); never `latest`.
   * @default - the build config's default
   */
  readonly imageTag?: string;
  /**
   * Pipelines the deploy compiles and installs, e.g. the scheduled ones (`_PIPELINES`, space-separated).
   * @default - the build config's default
   */
  readonly deployPipelines?: readonly string[];
  /**
   * Pipeline root the compiled runs write under (`_PIPELINE_ROOT` = `<bucket>/root`); the run account gets write on it.
   * @default - the build config's default; no grant
   */
  readonly pipelineRoot?: IGrantableBucket;
  /**
   * Metadata database compiled Argo steps connect to (`_CLOUDSQL_INSTANCE`).
   * @default - the build config's default
   */
  readonly database?: MetadataDatabase;
  /**
   * Identity Argo steps run as: its namespace (`_NAMESPACE`) and IAM database user (`_METADATA_USER`).
   * @default - the build config's defaults
   */
  readonly pipelineIdentity?: RoleIdentity;
  /**
   * Cluster Argo runs are submitted to (`_CLUSTER`).
   * @default - the build config's default
   */
  readonly cluster?: MlCluster;
}

/** `_TARGET` of cloudbuild/pipeline.yaml per compile target. */
const PIPELINE_YAML_TARGET: { readonly [T in PipelineRunTarget]: string } = { argo: 'argo', kfp: 'vertex', airflow: 'airflow' };

/**
 * Construct ids: `images-builder`, `deployer`, `runner` (ServiceAccountIdentity), `images`, `deploy`, `state-bucket`,
 * and per pipeline run `run-<pipeline>`, `run-<pipeline>-topic`, `run-<pipeline>-schedule`.
 */
export class BuildTriggers extends Construct {
  readonly imagesTrigger: CloudbuildTrigger;
  readonly deployTrigger: CloudbuildTrigger;
  readonly runTriggers: { readonly [pipeline: string]: CloudbuildTrigger };
  readonly imagesBuilder: ServiceAccountIdentity;
  readonly deployer: ServiceAccountIdentity;
  readonly runner?: ServiceAccountIdentity;

  constructor(scope: Construct, id: string, props: BuildTriggersProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('BuildTriggers', this, msg);
    const env = props.environment;
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(env)) throw fail(`environment '${env}' must be 1-20 lowercase letters, digits or '-'.`);
    const src = props.source;
    if (src.kind === 'github' && (!/^[A-Za-z0-9-]+$/.test(src.owner) || !/^[A-Za-z0-9_.-]+$/.test(src.name))) {
      throw fail(`GitHub repository '${src.owner}/${src.name}' is not an owner/name pair.`);
    }
    if (src.kind === 'repository') {
      const m = /^projects\/[^/]+\/locations\/([^/]+)\/connections\/[^/]+\/repositories\/[^/]+$/.exec(src.repository);
      if (!m) throw fail(`repository '${src.repository}' must be a 2nd-gen repository name projects/P/locations/L/connections/C/repositories/R.`);
      if (m[1] !== props.region) throw fail(`repository is in ${m[1]} but triggers are created in ${props.region}; 2nd-gen triggers live in the repository's region.`);
    }
    for (const [field, ref] of [['imagesOn', props.imagesOn], ['deployOn', props.deployOn]] as const) {
      const pattern = ref?.branch ?? ref?.tag;
      if (ref && (!pattern || pattern.length === 0)) throw fail(`${field} needs a branch or tag regular expression.`);
      if (pattern) {
        try { new RegExp(pattern); } catch { throw fail(`${field} '${pattern}' is not a regular expression.`); }
      }
    }
    const runs = props.pipelineRuns ?? [];
    for (const r of runs) {
      if (!/^[a-z][a-z0-9-]{0,40}$/.test(r.pipeline)) throw fail(`pipeline run '${r.pipeline}' must be a bundled pipeline name (lowercase letters, digits, '-').`);
      if (r.schedule !== undefined && !isCron(r.schedule)) throw fail(`pipeline run '${r.pipeline}' has schedule '${r.schedule}'; use five cron fields like '0 3 * * *'.`);
      if (r.timeZone !== undefined && !isTimeZone(r.timeZone)) throw fail(`pipeline run '${r.pipeline}' has time zone '${r.timeZone}'; use an IANA name like Etc/UTC.`);
    }
    if (new Set(runs.map((r) => r.pipeline)).size !== runs.length) throw fail('pipelineRuns lists a pipeline twice.');
    if (props.imageTag !== undefined && (props.imageTag === 'latest' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(props.imageTag))) {
      throw fail(`imageTag '${props.imageTag}' must be a tag other than 'latest' (the commit or release Cloud Build pushed).`);
    }
    const keyProblem = kmsKeyProblem(props.kmsKeyName);
    if (keyProblem) throw fail(`${keyProblem}.`);
    const target = props.pipelineTarget ?? 'argo';
    if (props.pipelineRunsAs && target !== 'kfp') throw fail(`pipelineRunsAs is only used by Vertex (kfp) runs, but pipelineTarget is '${target}'; remove pipelineRunsAs.`);

    const imageName = props.imageName ?? 'runtime';
    // Values of the build configs' substitutions that come from the platform (names as in cloudbuild/*.yaml).
    const metadataSubstitutions: { [key: string]: string } = {
      ...(props.pipelineRoot ? { _PIPELINE_ROOT: `${props.pipelineRoot.url}/root` } : {}),
      ...(props.database ? { _CLOUDSQL_INSTANCE: props.database.instanceConnectionName } : {}),
      ...(props.pipelineIdentity ? { _METADATA_USER: props.pipelineIdentity.emailAddress.replace(/\.gserviceaccount\.com$/, '') } : {}),
    };

    const services = ProjectServices.of(this);
    const api = services.enable('cloudbuild.googleapis.com', props.project);
    const location = src.kind === 'repository' ? props.region : 'global';
    const identity = (cid: string, suffix: string, displayName: string, roles: readonly string[]) =>
      new ServiceAccountIdentity(this, cid, { accountId: `${props.accountPrefix}-${suffix}`, project: props.project, displayName, principalId: `build-${suffix}`, projectRoles: roles });

    this.imagesBuilder = identity('images-builder', 'build-images', `Cloud Build: runtime images (${env})`, ['roles/logging.logWriter']);
    props.registry.grantPush(this.imagesBuilder);
    props.registry.grantCachePush(this.imagesBuilder);
    this.deployer = identity('deployer', 'build-deploy', `Cloud Build: deploy ${env}`, props.deployerRoles ?? DEPLOYER_ROLES);
    PolicyPack.suppress(this.deployer, 'MLP_SA_ADMIN_ROLES',
      'The deploy trigger applies the platform\'s Terraform, so it administers every service the stacks create; only the deploy trigger runs as this account.');
    PolicyPack.suppress(this.deployer, 'CKV_GCP_41',
      'Applying the stacks attaches service accounts to node pools, Composer and scheduler jobs, which needs actAs on them; only the deploy trigger runs as this account.');
    PolicyPack.suppress(this.deployer, 'CKV_GCP_49',
      'Applying the stacks creates the platform\'s service accounts and their project role grants (serviceAccountAdmin, projectIamAdmin) and attaches them (serviceAccountUser); only the deploy trigger runs as this account.');
    ExistingBucket.fromName(this, 'state-bucket', props.stateBucket).grantWrite(this.deployer);

    const gitSource = (ref: GitRef): Partial<CloudbuildTriggerConfig> => {
      const push = ref.branch !== undefined ? { branch: ref.branch } : { tag: ref.tag };
      return src.kind === 'github'
        ? { github: { owner: src.owner, name: src.name, push } }
        : { repositoryEventConfig: { repository: src.repository, push } };
    };
    const common = (sa: ServiceAccountIdentity) => ({
      project: props.project,
      location,
      serviceAccount: sa.serviceAccount.id,
      includeBuildLogs: src.kind === 'github' ? 'INCLUDE_BUILD_LOGS_WITH_STATUS' : undefined,
      tags: ['mlp', env],
      dependsOn: [api],
    });

    this.imagesTrigger = new CloudbuildTrigger(this, 'images', {
      ...common(this.imagesBuilder),
      ...gitSource(props.imagesOn ?? { branch: '^main$' }),
      name: `mlp-${env}-images`,
      description: `Build and push the runtime images (cpu, gpu) to ${props.registry.imagePrefix} when the runtime changes`,
      filename: BUILD_CONFIGS.images,
      includedFiles: [...IMAGE_FILES],
      // Build caches move their tag every build, so with immutable tags they live in the -cache repository.
      substitutions: {
        _REGION: props.registry.location, _REPOSITORY: props.registry.repositoryId, _IMAGE: imageName,
        _CACHE_REPOSITORY: props.registry.immutableTags ? `${props.registry.repositoryId}-cache` : props.registry.repositoryId,
      },
    });
    this.deployTrigger = new CloudbuildTrigger(this, 'deploy', {
      ...common(this.deployer),
      ...gitSource(props.deployOn ?? { branch: '^main$' }),
      name: `mlp-${env}-deploy`,
      description: `cdktf deploy ${env}-platform ${env}-workloads when the infrastructure code changes${props.requireApproval ? ' (after approval)' : ''}`,
      filename: BUILD_CONFIGS.deploy,
      includedFiles: [...DEPLOY_FILES],
      approvalConfig: { approvalRequired: props.requireApproval ?? false },
      substitutions: {
        _ENV: env,
        _REGION: props.registry.location,
        _REPOSITORY: props.registry.repositoryId,
        _IMAGE: imageName,
        ...(props.deployPipelines?.length ? { _PIPELINES: props.deployPipelines.join(' ') } : {}),
        ...metadataSubstitutions,
      },
    });

    const triggers: { [pipeline: string]: CloudbuildTrigger } = {};
    if (runs.length > 0) {
      const roles: { [T in PipelineRunTarget]: string[] } = {
        argo: ['roles/logging.logWriter', 'roles/container.developer'],
        kfp: ['roles/logging.logWriter', 'roles/aiplatform.user'],
        airflow: ['roles/logging.logWriter', 'roles/composer.user'],
      };
      const runner = identity('runner', 'build-runs', `Cloud Build: pipeline runs (${env})`, roles[target]);
      this.runner = runner;
      props.pipelineRunsAs?.grantActAs(runner);
      props.pipelineRoot?.grantWrite(runner);
      props.registry.grantPull(runner);
      const pubsub = services.enable('pubsub.googleapis.com', props.project);
      const scheduler = runs.some((r) => r.schedule) ? services.enable('cloudscheduler.googleapis.com', props.project) : undefined;
      for (const r of runs) {
        const topic = new PubsubTopic(this, `run-${r.pipeline}-topic`, {
          name: `mlp-${env}-run-${r.pipeline}`,
          project: props.project,
          messageRetentionDuration: '86400s',
          kmsKeyName: props.kmsKeyName,
          dependsOn: [pubsub],
        });
        if (!props.kmsKeyName) PolicyPack.suppress(topic, 'CKV_GCP_83', googleManagedKeyReason('the topic'));
        const main = 'refs/heads/main';
        const fileSource = src.kind === 'github'
          ? { sourceToBuild: { uri: `https://github.com/${src.owner}/${src.name}`, ref: main, repoType: 'GITHUB' }, gitFileSource: { path: BUILD_CONFIGS.pipeline, uri: `https://github.com/${src.owner}/${src.name}`, revision: main, repoType: 'GITHUB' } }
          : { sourceToBuild: { repository: src.repository, ref: main, repoType: 'GITHUB' }, gitFileSource: { path: BUILD_CONFIGS.pipeline, repository: src.repository, revision: main, repoType: 'GITHUB' } };
        triggers[r.pipeline] = new CloudbuildTrigger(this, `run-${r.pipeline}`, {
          ...common(runner),
          ...fileSource,
          name: `mlp-${env}-run-${r.pipeline}`,
          description: `Compile and submit pipeline ${r.pipeline} to ${target} when a message arrives on ${topic.name}`,
          pubsubConfig: { topic: topic.id },
          substitutions: {
            _ENV: env,
            _PIPELINE: r.pipeline,
            _TARGET: PIPELINE_YAML_TARGET[target],
            _REGION: props.region,
            _REPOSITORY: props.registry.repositoryId,
            _IMAGE: imageName,
            ...(props.imageTag ? { _IMAGE_TAG: props.imageTag } : {}),
            ...metadataSubstitutions,
            ...(target === 'argo' && props.cluster ? { _CLUSTER: props.cluster.name } : {}),
            ...(target === 'argo' && props.pipelineIdentity ? { _NAMESPACE: props.pipelineIdentity.kubernetesNamespace } : {}),
            ...(target === 'kfp' && props.pipelineRunsAs ? { _SERVICE_ACCOUNT: props.pipelineRunsAs.emailAddress } : {}),
          },
        });
        if (r.schedule) {
          new CloudSchedulerJob(this, `run-${r.pipeline}-schedule`, {
            name: `mlp-${env}-run-${r.pipeline}`,
            project: props.project,
            region: props.region,
            description: `Publishes to ${topic.name}, which starts a run of ${r.pipeline}`,
            schedule: r.schedule,
            timeZone: r.timeZone ?? 'Etc/UTC',
            pubsubTarget: { topicName: topic.id, data: Buffer.from(JSON.stringify({ pipeline: r.pipeline, trigger: 'schedule' })).toString('base64') },
            dependsOn: [scheduler!],
          });
        }
      }
    }
    this.runTriggers = triggers;
  }
}
