// MlPlatform: the whole ML platform of one environment from one typed configuration - a `<name>-platform` stack
// (network, cluster, node pools, buckets, metadata database, registry, identities) and a `<name>-workloads` stack
// (Kubernetes/Helm providers from the platform's cluster, the workload namespace, the pipeline orchestrator, model
// serving, data transfers, monitoring, build triggers), each with its provider, backend and the policy pack.
import { Construct } from 'constructs';
import { Aspects, GcsBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { MlNetwork, MlNetworkProps } from './network';
import { MlCluster, type MlClusterProps } from './cluster';
import { CpuNodePool, CpuNodePoolProps } from './cpu-node-pool';
import { GpuNodePool, GpuNodePoolProps } from './gpu-node-pool';
import { TpuNodePool, TpuNodePoolProps } from './tpu-node-pool';
import { ArtifactStore, ArtifactStoreProps, ExistingBucket } from './artifact-store';
import { MetadataDatabase, MetadataDatabaseProps } from './metadata-database';
import { ContainerRegistry, ContainerRegistryProps } from './container-registry';
import { WorkloadIdentity } from './workload-identity';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { PolicyPack } from './policy/policy-pack';
import { GkeProviders } from './gke-providers';
import { WorkloadNamespace } from './workload-namespace';
import { CompiledPipelines, OrchestratorOptions, PipelineOrchestrator, PipelineSchedule } from './pipeline-orchestrator';
import { CustomMetricsAdapter } from './custom-metrics-adapter';
import { ModelServing, ModelSource, RecreateRollout, RolloutStrategy, RollingUpdateRollout, ServingGateway } from './model-serving';
import { DataTransfer, PosixTransferSource, S3TransferSource, TransferTrigger } from './data-transfer';
import { MlMonitoring, NotificationTarget } from './ml-monitoring';
import { BuildSource, BuildTriggers, GitRef, PipelineRunTrigger } from './build-triggers';
import { unpinnedImageReason } from './workload-common';
import { TrainingScheduler, sharesGpus } from './training-scheduler';

/**
 * The cluster part of the configuration: every MlCluster prop (documented there) except what the platform supplies
 * (name, project, network, labels), passed through whole so no option is dropped on the way.
 */
export type MlPlatformClusterOptions = Omit<MlClusterProps, 'name' | 'project' | 'network' | 'labels'>;

/** The labels every platform resource carries: `ml_platform: <name>` (so CKV_GCP_21 holds without configuration) plus the caller's. */
function platformLabels(props: MlPlatformProps): { [key: string]: string } {
  return { ml_platform: props.name, ...(props.labels ?? {}) };
}

/** A GPU pool of the platform (its construct id and GKE name is `name`). */
export type MlPlatformGpuPoolOptions = Omit<GpuNodePoolProps, 'cluster' | 'resourceLabels' | 'name'> & { readonly name: string };
/** A TPU pool of the platform. */
export type MlPlatformTpuPoolOptions = Omit<TpuNodePoolProps, 'cluster' | 'resourceLabels' | 'name'> & { readonly name: string };

/** A rollout strategy with image tags (the platform knows the registry and image name). */
export type MlRolloutOptions =
  | RecreateRollout
  | RollingUpdateRollout
  /** Blue and green run these tags of the runtime image; `active` gets the traffic. */
  | { readonly kind: 'BlueGreen'; readonly active: 'blue' | 'green'; readonly blueTag: string; readonly greenTag: string; readonly idleReplicas?: number }
  /** The canary runs `canaryTag`, the stable Deployment `imageTag`. */
  | { readonly kind: 'Canary'; readonly canaryTag: string; readonly canaryPercent: number };

/** One model served on the cluster. */
export interface MlServingOptions {
  /** Deployment/Service name. */
  readonly name: string;
  /** Model name the Pusher pushes (path `<models bucket>/<modelName>/<version>/`). */
  readonly modelName: string;
  /**
   * Rollout strategy.
   * @default { kind: 'RollingUpdate' }
   */
  readonly rollout?: MlRolloutOptions;
  /**
   * Name of one of the platform's GPU pools to run on.
   * @default - CPU nodes
   */
  readonly gpuPool?: string;
  /**
   * GPUs per pod on gpuPool.
   * @default 1
   */
  readonly gpus?: number;
  /**
   * HPA lower bound.
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * HPA upper bound.
   * @default 10
   */
  readonly maxReplicas?: number;
  /**
   * CPU request and limit per pod.
   * @default '1'
   */
  readonly cpu?: string;
  /**
   * Memory request and limit per pod.
   * @default '2Gi'
   */
  readonly memory?: string;
  /**
   * How versions are read.
   * @default { kind: 'gcs' }
   */
  readonly modelSource?: ModelSource;
  /**
   * Also scale on requests per second per pod (ModelServing targetRequestsPerSecond).
   * @default - CPU only
   */
  readonly targetRequestsPerSecond?: number;
  /**
   * Also scale on batch-queue rows per pod (ModelServing targetQueuedRows).
   * @default - CPU only
   */
  readonly targetQueuedRows?: number;
  /**
   * External HTTPS entry with IAP (ModelServing gateway).
   * @default - in-cluster only
   */
  readonly gateway?: ServingGateway;
}

/** One Storage Transfer job into the raw-data bucket. */
export interface MlTransferOptions {
  readonly name: string;
  /** S3 / POSIX as in DataTransfer; Cloud Storage sources by bucket name. */
  readonly source: S3TransferSource | PosixTransferSource | { readonly kind: 'gcs'; readonly bucket: string; readonly path?: string };
  readonly trigger: TransferTrigger;
  /**
   * Prefix in the raw-data bucket.
   * @default `<name>/`
   */
  readonly sinkPath?: string;
  /**
   * Only these prefixes.
   * @default - everything
   */
  readonly includePrefixes?: readonly string[];
}

/** Cloud Build triggers of the environment. */
export interface MlBuildOptions {
  readonly source: BuildSource;
  /**
   * Pushes that build the images.
   * @default { branch: '^main$' }
   */
  readonly imagesOn?: GitRef;
  /**
   * Pushes that deploy the environment.
   * @default { branch: '^main$' }
   */
  readonly deployOn?: GitRef;
  /**
   * Deploys wait for approval.
   * @default false
   */
  readonly requireApproval?: boolean;
  /**
   * Pub/Sub-triggered (optionally scheduled) pipeline runs.
   * @default - none
   */
  readonly pipelineRuns?: readonly PipelineRunTrigger[];
  /**
   * Pipelines the deploy build compiles and hands to synth (at least every scheduled one).
   * @default - the build config's default
   */
  readonly deployPipelines?: readonly string[];
}

/** Distributed training on the cluster: JobSet + Kueue over some of the platform's accelerator pools (TrainingScheduler). */
export interface MlTrainingOptions {
  /**
   * LocalQueue distributed steps join (their `kueue.x-k8s.io/queue-name` label).
   * @default 'training'
   */
  readonly queueName?: string;
  /**
   * Names of gpuPools / tpuPools training may use; each becomes a ResourceFlavor whose quota is the pool's maximum.
   * @default - every TPU pool and every GPU pool that does not share or partition its GPUs
   */
  readonly pools?: readonly string[];
  /**
   * Nodes of a pool training may hold at once, by pool name (below the pool's maximum to leave room for other work).
   * @default - each pool's maximum
   */
  readonly nodeQuota?: { readonly [pool: string]: number };
  /** Exact Kueue chart version. @default KUEUE_CHART_VERSION */
  readonly kueueChartVersion?: string;
  /** Exact JobSet chart version. @default JOBSET_CHART_VERSION */
  readonly jobsetChartVersion?: string;
}

/** The workloads part of the configuration. */
export interface MlWorkloadsOptions {
  /** Tag of the runtime image in the platform's registry (the commit Cloud Build built; never `latest`). */
  readonly imageTag: string;
  /**
   * Image name in the registry.
   * @default 'runtime'
   */
  readonly imageName?: string;
  /**
   * Digests of runtime image tags the serving Deployments run (`{ '0.1.0': 'sha256:<64 hex>' }`, from `gcloud artifacts
   * docker images describe`): serving then runs `<image>:<tag>@<digest>`, the bytes pinned (Checkov CKV_K8S_43); a
   * serving tag without a digest runs by tag, and ModelServing suppresses CKV_K8S_43 with that reason.
   * @default - none
   */
  readonly imageDigests?: { readonly [tag: string]: string };
  readonly orchestrator: OrchestratorOptions;
  /**
   * Compiled pipelines to install (the orchestrator's target).
   * @default - none: the engine is installed, pipelines are not managed here
   */
  readonly pipelines?: CompiledPipelines;
  /**
   * Schedules of compiled pipelines (Argo, Vertex).
   * @default - none
   */
  readonly schedules?: readonly PipelineSchedule[];
  /**
   * Served models.
   * @default - none
   */
  readonly serving?: readonly MlServingOptions[];
  /**
   * Data transfers into the raw-data bucket.
   * @default - none
   */
  readonly transfers?: readonly MlTransferOptions[];
  /**
   * Distributed training (JobSet + Kueue queues over accelerator pools).
   * @default - not installed
   */
  readonly training?: MlTrainingOptions;
  /** Where alerts go; thresholds as in MlMonitoring. */
  readonly monitoring: { readonly notification: NotificationTarget; readonly servingErrorRate?: number; readonly servingLatencyP99Ms?: number };
  /**
   * Cloud KMS key (CMEK) for the workloads' Pub/Sub topics: transfer notifications and pipeline-run triggers.
   * @default - Google-managed encryption keys (CKV_GCP_83 suppressed on each topic with that reason)
   */
  readonly pubsubKmsKeyName?: string;
  /**
   * The Custom Metrics Stackdriver Adapter already runs in the cluster (installed outside these stacks). Otherwise the
   * workloads stack installs it (CustomMetricsAdapter) when a serving entry sets targetRequestsPerSecond or targetQueuedRows.
   * @default false
   */
  readonly customMetricsAdapterInstalled?: boolean;
  /**
   * Cloud Build triggers (need stateBucket).
   * @default - none
   */
  readonly build?: MlBuildOptions;
}

export interface MlPlatformProps {
  /** Environment name, e.g. `dev`: stacks `<name>-platform` / `<name>-workloads`. */
  readonly name: string;
  readonly project: string;
  readonly region: string;
  /**
   * Prefix of resource names (VPC, cluster, database instance, service accounts).
   * @default `mlp-<name>`
   */
  readonly resourcePrefix?: string;
  /**
   * Labels on every resource (provider default labels) and on the cluster, pools, buckets, database and registry,
   * added to `ml_platform: <name>` (always set, so the cluster passes CKV_GCP_21) and `managed_by: cdktf`.
   * @default - `ml_platform: <name>` and `managed_by: cdktf` only
   */
  readonly labels?: { readonly [key: string]: string };
  readonly network: Omit<MlNetworkProps, 'name' | 'region' | 'project'>;
  readonly cluster: MlPlatformClusterOptions;
  /** The general-purpose pool (construct id and name `general`; the Argo controller runs there). */
  readonly cpuPool: Omit<CpuNodePoolProps, 'cluster' | 'resourceLabels'>;
  /**
   * GPU pools.
   * @default - none: no GPU nodes
   */
  readonly gpuPools?: readonly MlPlatformGpuPoolOptions[];
  /**
   * TPU pools.
   * @default - none: no TPU nodes
   */
  readonly tpuPools?: readonly MlPlatformTpuPoolOptions[];
  readonly storage: Omit<ArtifactStoreProps, 'project' | 'labels'>;
  readonly database: Omit<MetadataDatabaseProps, 'network' | 'project' | 'instanceName' | 'labels'>;
  readonly registry: Omit<ContainerRegistryProps, 'project' | 'location' | 'labels'>;
  /** Namespace of the workloads and their Kubernetes service accounts. */
  readonly kubernetesNamespace: string;
  /**
   * GCS bucket of the Terraform state (must exist); the backend prefix is `<statePrefix>/<stack>`.
   * @default - local state files (fine for trying it out, not for a team)
   */
  readonly stateBucket?: string;
  /**
   * Prefix of the state objects.
   * @default `platform/<name>`
   */
  readonly statePrefix?: string;
  /**
   * The workloads stack.
   * @default - platform stack only
   */
  readonly workloads?: MlWorkloadsOptions;
}

/** `<name>-platform` */
export class MlPlatformStack extends TerraformStack {
  readonly policy = new PolicyPack();
  readonly network: MlNetwork;
  readonly cluster: MlCluster;
  readonly cpuPool: CpuNodePool;
  readonly gpuPools: GpuNodePool[];
  readonly tpuPools: TpuNodePool[];
  readonly store: ArtifactStore;
  readonly database: MetadataDatabase;
  readonly registry: ContainerRegistry;
  readonly identities: WorkloadIdentity;

  /** Construct ids are a contract: `google`, `network`, `cluster`, `general`, `<gpu/tpu pool name>`, `artifacts`, `metadata-db`, `registry`, `identities`. */
  constructor(scope: Construct, id: string, props: MlPlatformProps) {
    super(scope, id);
    const prefix = props.resourcePrefix ?? `mlp-${props.name}`;
    const labels = platformLabels(props);
    new GoogleProvider(this, 'google', { project: props.project, region: props.region, defaultLabels: { ...labels, managed_by: 'cdktf' } });
    if (props.stateBucket) new GcsBackend(this, { bucket: props.stateBucket, prefix: `${props.statePrefix ?? `platform/${props.name}`}/${id}` });

    this.network = new MlNetwork(this, 'network', { name: prefix, project: props.project, region: props.region, ...props.network });
    this.cluster = new MlCluster(this, 'cluster', { ...props.cluster, name: prefix, project: props.project, network: this.network, labels });
    this.cpuPool = new CpuNodePool(this, 'general', { ...props.cpuPool, cluster: this.cluster, resourceLabels: labels });
    this.gpuPools = (props.gpuPools ?? []).map((p) => new GpuNodePool(this, p.name, { ...p, cluster: this.cluster, resourceLabels: labels }));
    this.tpuPools = (props.tpuPools ?? []).map((p) => new TpuNodePool(this, p.name, { ...p, cluster: this.cluster, resourceLabels: labels }));

    this.store = new ArtifactStore(this, 'artifacts', { ...props.storage, project: props.project, labels });
    PolicyPack.suppress(this.store.accessLogs, 'CKV_GCP_62',
      'This is the access-log sink itself: logging it into itself would recurse; only cloud-storage-analytics writes to it.');
    this.database = new MetadataDatabase(this, 'metadata-db', { ...props.database, instanceName: `${prefix}-metadata`, project: props.project, network: this.network, labels });
    this.registry = new ContainerRegistry(this, 'registry', { ...props.registry, project: props.project, location: props.region, labels });
    this.registry.grantPull({ principalId: 'gke-nodes', iamMember: `serviceAccount:${this.cluster.nodeServiceAccount.email}` });

    this.identities = new WorkloadIdentity(this, 'identities', { cluster: this.cluster, namespace: props.kubernetesNamespace, accountPrefix: prefix });
    this.identities.grantPlatformAccess({ store: this.store, database: this.database, registry: this.registry });
    this.registry.grantPush(this.identities.identity('pipeline-runner'));
    // Storage Transfer Service ingests into raw data with the agent's least-privilege sink role.
    this.store.grantTransferSink();

    new TerraformOutput(this, 'cluster-name', { value: this.cluster.cluster.name });
    new TerraformOutput(this, 'pipeline-root', { value: this.store.pipelineRoot.url });
    new TerraformOutput(this, 'image-prefix', { value: this.registry.imagePrefix });
    Aspects.of(this).add(this.policy);
  }
}

/** `<name>-workloads` */
export class MlWorkloadsStack extends TerraformStack {
  readonly policy = new PolicyPack();
  readonly gke: GkeProviders;
  readonly namespace: WorkloadNamespace;
  readonly orchestrator: PipelineOrchestrator;
  readonly serving: ModelServing[];
  /** Installed when a serving entry scales on a custom metric and customMetricsAdapterInstalled is not set. */
  readonly customMetricsAdapter?: CustomMetricsAdapter;
  readonly transfers: DataTransfer[];
  readonly monitoring: MlMonitoring;
  readonly build?: BuildTriggers;
  readonly training?: TrainingScheduler;
  /** The runtime image reference every workload runs. */
  readonly image: string;

  /**
   * Construct ids are a contract: `google`, `gke`, `namespace`, `orchestrator`, `serving-<name>`, `transfer-<name>`
   * (+ `transfer-<name>-source` for bucket sources), `monitoring`, `build`, `training`.
   */
  constructor(scope: Construct, id: string, props: MlPlatformProps, platform: MlPlatformStack, w: MlWorkloadsOptions) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('MlPlatform', this, msg);
    const prefix = props.resourcePrefix ?? `mlp-${props.name}`;
    const unpinned = unpinnedImageReason(`image:${w.imageTag}`);
    if (unpinned || w.imageTag.startsWith('sha256:')) throw fail(`workloads.imageTag '${w.imageTag}' must be a tag other than 'latest' (the commit Cloud Build built).`);
    const imageOf = (tag: string) => `${platform.registry.imagePrefix}/${w.imageName ?? 'runtime'}:${tag}`;
    this.image = imageOf(w.imageTag);
    const digests = w.imageDigests ?? {};
    const servingTags = new Set((w.serving ?? []).flatMap((s) => (s.rollout?.kind === 'BlueGreen' ? [s.rollout.blueTag, s.rollout.greenTag]
      : s.rollout?.kind === 'Canary' ? [w.imageTag, s.rollout.canaryTag] : [w.imageTag])));
    for (const [tag, digest] of Object.entries(digests)) {
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw fail(`workloads.imageDigests['${tag}'] '${digest}' is not a digest (sha256: followed by 64 lowercase hex digits).`);
      if (!servingTags.has(tag)) throw fail(`workloads.imageDigests names tag '${tag}', which no serving image runs (serving tags: ${[...servingTags].join(', ') || 'none'}); remove it.`);
    }
    const servingImageOf = (tag: string) => (digests[tag] ? `${imageOf(tag)}@${digests[tag]}` : imageOf(tag));
    const rolloutOf = (r: MlRolloutOptions | undefined): RolloutStrategy | undefined => {
      switch (r?.kind) {
        case 'BlueGreen': return { kind: 'BlueGreen', active: r.active, blueImage: servingImageOf(r.blueTag), greenImage: servingImageOf(r.greenTag), idleReplicas: r.idleReplicas };
        case 'Canary': return { kind: 'Canary', canaryImage: servingImageOf(r.canaryTag), canaryPercent: r.canaryPercent };
        default: return r;
      }
    };
    if (w.build && !props.stateBucket) throw fail('workloads.build deploys with remote state; set stateBucket (or remove build).');
    const names = (kind: string, list: readonly { name: string }[]) => {
      const dup = list.find((x, i) => list.findIndex((y) => y.name === x.name) !== i);
      if (dup) throw fail(`workloads.${kind} has two entries named '${dup.name}'.`);
    };
    names('serving', w.serving ?? []);
    names('transfers', w.transfers ?? []);

    new GoogleProvider(this, 'google', { project: props.project, region: props.region, defaultLabels: { ...platformLabels(props), managed_by: 'cdktf' } });
    if (props.stateBucket) new GcsBackend(this, { bucket: props.stateBucket, prefix: `${props.statePrefix ?? `platform/${props.name}`}/${id}` });
    this.addDependency(platform);

    this.gke = new GkeProviders(this, 'gke', { cluster: platform.cluster });
    this.namespace = new WorkloadNamespace(this, 'namespace', { identities: platform.identities.all, labels: { 'ml-platform/environment': props.name } });
    const runner = platform.identities.identity('pipeline-runner');
    const modelServer = platform.identities.identity('model-server');

    this.orchestrator = new PipelineOrchestrator(this, 'orchestrator', {
      orchestrator: w.orchestrator,
      environment: props.name,
      project: props.project,
      region: props.region,
      network: platform.network,
      cluster: platform.cluster,
      store: platform.store,
      database: platform.database,
      registry: platform.registry,
      runner,
      workloadNamespace: this.namespace,
      accountPrefix: prefix,
      image: this.image,
      pipelines: w.pipelines,
      schedules: w.schedules,
      controllerNodeSelector: platform.cpuPool.nodeSelector(),
      labels: platformLabels(props),
    });

    const customMetrics = (w.serving ?? []).some((s) => s.targetRequestsPerSecond !== undefined || s.targetQueuedRows !== undefined);
    if (customMetrics && !w.customMetricsAdapterInstalled) this.customMetricsAdapter = new CustomMetricsAdapter(this, 'custom-metrics-adapter', { cluster: platform.cluster });
    this.serving = (w.serving ?? []).map((s) => {
      let gpu: { pool: GpuNodePool; gpus?: number } | undefined;
      if (s.gpuPool !== undefined) {
        const pool = platform.gpuPools.find((p) => p.name === s.gpuPool);
        if (!pool) throw fail(`serving '${s.name}' asks for GPU pool '${s.gpuPool}', which is not one of gpuPools (${platform.gpuPools.map((p) => p.name).join(', ') || 'none'}).`);
        gpu = { pool, gpus: s.gpus };
      } else if (s.gpus !== undefined) {
        throw fail(`serving '${s.name}' sets gpus without gpuPool; name the GPU pool to run on.`);
      }
      const serving = new ModelServing(this, `serving-${s.name}`, {
        name: s.name,
        modelName: s.modelName,
        image: servingImageOf(w.imageTag),
        modelsBucket: platform.store.models,
        identity: modelServer,
        workloadNamespace: this.namespace,
        rollout: rolloutOf(s.rollout),
        gpu,
        minReplicas: s.minReplicas,
        maxReplicas: s.maxReplicas,
        cpu: s.cpu,
        memory: s.memory,
        modelSource: s.modelSource,
        targetRequestsPerSecond: s.targetRequestsPerSecond,
        targetQueuedRows: s.targetQueuedRows,
        customMetricsAdapterInstalled: w.customMetricsAdapterInstalled || this.customMetricsAdapter !== undefined,
        gateway: s.gateway,
      });
      return serving;
    });

    this.transfers = (w.transfers ?? []).map((t) => new DataTransfer(this, `transfer-${t.name}`, {
      name: `${prefix}-${t.name}`,
      project: props.project,
      sink: platform.store.rawData,
      sinkPath: t.sinkPath ?? `${t.name}/`,
      source: t.source.kind === 'gcs'
        ? { kind: 'gcs', bucket: ExistingBucket.fromName(this, `transfer-${t.name}-source`, t.source.bucket), path: t.source.path }
        : t.source,
      trigger: t.trigger,
      includePrefixes: t.includePrefixes,
      accountPrefix: prefix,
      kmsKeyName: w.pubsubKmsKeyName,
    }));

    if (w.training) {
      const t = w.training;
      const known = [...platform.gpuPools, ...platform.tpuPools].map((p) => p.name);
      const unknown = (t.pools ?? []).filter((n) => !known.includes(n));
      if (unknown.length > 0) throw fail(`training.pools names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not among gpuPools/tpuPools (${known.join(', ') || 'none'}).`);
      const chosen = (pool: { name: string }, byDefault: boolean) => (t.pools ? t.pools.includes(pool.name) : byDefault);
      this.training = new TrainingScheduler(this, 'training', {
        gpuPools: platform.gpuPools.filter((p) => chosen(p, !sharesGpus(p))),
        tpuPools: platform.tpuPools.filter((p) => chosen(p, true)),
        workloadNamespace: this.namespace,
        runnerServiceAccount: runner.kubernetesServiceAccount,
        queueName: t.queueName,
        nodeQuota: t.nodeQuota,
        kueueChartVersion: t.kueueChartVersion,
        jobsetChartVersion: t.jobsetChartVersion,
      });
    }

    this.monitoring = new MlMonitoring(this, 'monitoring', {
      project: props.project,
      metricPrefix: prefix.replace(/-/g, '_'),
      notification: w.monitoring.notification,
      servingNamespace: props.kubernetesNamespace,
      pipelineLogResource: this.orchestrator.logResource,
      servingErrorRate: w.monitoring.servingErrorRate,
      servingLatencyP99Ms: w.monitoring.servingLatencyP99Ms,
      labels: platformLabels(props),
    });

    if (w.build) {
      this.build = new BuildTriggers(this, 'build', {
        environment: props.name,
        project: props.project,
        region: props.region,
        source: w.build.source,
        accountPrefix: prefix,
        registry: platform.registry,
        kmsKeyName: w.pubsubKmsKeyName,
        stateBucket: props.stateBucket!,
        imagesOn: w.build.imagesOn,
        deployOn: w.build.deployOn,
        requireApproval: w.build.requireApproval,
        pipelineRuns: w.build.pipelineRuns,
        pipelineTarget: this.orchestrator.compileTarget,
        pipelineRunsAs: this.orchestrator.vertex?.identity,
        imageName: w.imageName,
        imageTag: w.imageTag,
        deployPipelines: w.build.deployPipelines,
        pipelineRoot: platform.store.pipelineRoot,
        database: platform.database,
        pipelineIdentity: runner,
        cluster: platform.cluster,
      });
    }

    new TerraformOutput(this, 'runtime-image', { value: this.image });
    new TerraformOutput(this, 'orchestrator-kind', { value: this.orchestrator.kind });
    if (this.training) new TerraformOutput(this, 'training-queue', { value: this.training.queueName });
    for (const s of this.serving) new TerraformOutput(this, `serving-url-${s.node.id.replace(/^serving-/, '')}`, { value: s.url });
    Aspects.of(this).add(this.policy);
  }
}

/**
 * One environment's platform and workloads. Put it directly in the App: it creates the stacks `<name>-platform` and
 * (with `workloads`) `<name>-workloads`, which depends on the platform stack through cross-stack references (cluster
 * endpoint and CA, database connection name, service account e-mails). Deploy: `cdktf deploy <name>-platform
 * <name>-workloads`.
 */
export class MlPlatform extends Construct {
  readonly platform: MlPlatformStack;
  readonly workloads?: MlWorkloadsStack;

  constructor(scope: Construct, id: string, props: MlPlatformProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(props.name)) {
      throw new ConstructValidationError('MlPlatform', this, `name '${props.name}' must be 1-20 lowercase letters, digits or '-', starting with a letter (it prefixes stacks and resources).`);
    }
    validateGcpLabels('MlPlatform', this, props.labels);
    this.platform = new MlPlatformStack(this, `${props.name}-platform`, props);
    if (props.workloads) this.workloads = new MlWorkloadsStack(this, `${props.name}-workloads`, props, this.platform, props.workloads);
  }

  /** The stacks, platform first. */
  get stacks(): TerraformStack[] {
    return this.workloads ? [this.platform, this.workloads] : [this.platform];
  }
}
