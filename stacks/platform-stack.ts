// PlatformStack: one environment's whole platform (`<env>-platform`) composed from the constructs, with a GCS backend
// whose prefix includes env and stack, and the policy pack applied.
import { Construct } from 'constructs';
import { Aspects, GcsBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { MlNetwork } from '../constructs/network';
import { MlCluster } from '../constructs/cluster';
import { CpuNodePool } from '../constructs/cpu-node-pool';
import { GpuNodePool } from '../constructs/gpu-node-pool';
import { TpuNodePool } from '../constructs/tpu-node-pool';
import { ArtifactStore } from '../constructs/artifact-store';
import { MetadataDatabase } from '../constructs/metadata-database';
import { ContainerRegistry } from '../constructs/container-registry';
import { WorkloadIdentity } from '../constructs/workload-identity';
import { GpuAcceleratorType } from '../constructs/accelerators';
import { TpuVersion } from '../constructs/tpu';
import { PolicyPack } from '../constructs/policy/policy-pack';
import { EnvironmentConfig } from './config';

/** `<env>-platform` */
export function platformStackName(env: string): string {
  return `${env}-platform`;
}

/** Construct ids inside the stack are a contract: renaming one replaces its resources. */
export class PlatformStack extends TerraformStack {
  readonly config: EnvironmentConfig;
  readonly policy: PolicyPack;
  readonly network: MlNetwork;
  readonly cluster: MlCluster;
  readonly cpuPool: CpuNodePool;
  readonly gpuPools: GpuNodePool[];
  readonly tpuPools: TpuNodePool[];
  readonly store: ArtifactStore;
  readonly database: MetadataDatabase;
  readonly registry: ContainerRegistry;
  readonly identities: WorkloadIdentity;

  constructor(scope: Construct, config: EnvironmentConfig) {
    const stackName = platformStackName(config.name);
    super(scope, stackName);
    this.config = config;
    const env = config.name;

    new GoogleProvider(this, 'google', { project: config.project, region: config.region, defaultLabels: { ...config.labels, managed_by: 'cdktf' } });
    new GcsBackend(this, { bucket: config.state.bucket, prefix: `platform/${env}/${stackName}` });

    this.network = new MlNetwork(this, 'network', {
      name: `mlp-${env}`,
      project: config.project,
      region: config.region,
      subnetCidr: config.network.subnetCidr,
      podsCidr: config.network.podsCidr,
      servicesCidr: config.network.servicesCidr,
      privateServiceAccessCidr: config.network.privateServiceAccessCidr,
    });

    this.cluster = new MlCluster(this, 'cluster', {
      name: `mlp-${env}`,
      project: config.project,
      network: this.network,
      location: config.clusterLocation === 'zonal' ? config.zones[0] : config.region,
      nodeLocations: config.clusterLocation === 'regional' ? config.zones : undefined,
      masterIpv4CidrBlock: config.network.masterCidr,
      masterAuthorizedNetworks: config.authorizedNetworks,
      privateEndpoint: config.cluster.privateEndpoint,
      releaseChannel: config.cluster.releaseChannel,
      binaryAuthorization: config.cluster.binaryAuthorization,
      deletionProtection: config.cluster.deletionProtection,
      labels: config.labels,
    });

    this.cpuPool = new CpuNodePool(this, 'general', {
      cluster: this.cluster,
      machineType: config.cpuPool.machineType,
      minNodes: config.cpuPool.minNodes,
      maxNodes: config.cpuPool.maxNodes,
      spot: config.cpuPool.spot,
      resourceLabels: config.labels,
    });

    this.gpuPools = config.gpuPools.map((p) => new GpuNodePool(this, p.name, {
      cluster: this.cluster,
      accelerator: p.accelerator as GpuAcceleratorType,
      machineType: p.machineType,
      zones: p.zones,
      minNodes: p.minNodes,
      maxNodes: p.maxNodes,
      spot: p.spot,
      driverVersion: p.driverVersion,
      queuedProvisioning: p.queuedProvisioning,
      flexStart: p.flexStart,
      gpuSharing: p.gpuSharing,
      maxSharedClientsPerGpu: p.maxSharedClientsPerGpu,
      resourceLabels: config.labels,
    }));

    this.tpuPools = config.tpuPools.map((p) => new TpuNodePool(this, p.name, {
      cluster: this.cluster,
      version: p.version as TpuVersion,
      topology: p.topology,
      zone: p.zone,
      spot: p.spot,
      scaleToZero: p.scaleToZero,
      resourceLabels: config.labels,
    }));

    this.store = new ArtifactStore(this, 'artifacts', {
      bucketPrefix: config.storage.bucketPrefix,
      location: config.storage.location,
      project: config.project,
      tempArtifactTtlDays: config.storage.tempArtifactTtlDays,
      rawDataRetentionDays: config.storage.rawDataRetentionDays,
      kmsKeyName: config.storage.kmsKeyName,
      forceDestroy: config.storage.forceDestroy,
      labels: config.labels,
    });
    PolicyPack.suppress(this.store.accessLogs, 'CKV_GCP_62',
      'This is the access-log sink itself: logging it into itself would recurse; only cloud-storage-analytics writes to it.');

    this.database = new MetadataDatabase(this, 'metadata-db', {
      instanceName: `mlp-${env}-metadata`,
      project: config.project,
      network: this.network,
      tier: config.database.tier,
      highAvailability: config.database.highAvailability,
      pointInTimeRecovery: config.database.pointInTimeRecovery,
      retainedBackups: config.database.retainedBackups,
      diskSizeGb: config.database.diskSizeGb,
      deletionProtection: config.database.deletionProtection,
      labels: config.labels,
    });

    this.registry = new ContainerRegistry(this, 'registry', {
      repositoryId: config.registry.repositoryId,
      project: config.project,
      location: config.region,
      keepRecentVersions: config.registry.keepRecentVersions,
      deleteUntaggedAfterDays: config.registry.deleteUntaggedAfterDays,
      labels: config.labels,
    });
    this.registry.grantPull({ principalId: 'gke-nodes', iamMember: `serviceAccount:${this.cluster.nodeServiceAccount.email}` });

    this.identities = new WorkloadIdentity(this, 'identities', {
      cluster: this.cluster,
      namespace: config.kubernetesNamespace,
      accountPrefix: `mlp-${env}`,
    });
    this.identities.grantPlatformAccess({ store: this.store, database: this.database, registry: this.registry });
    this.registry.grantPush(this.identities.identity('pipeline-runner'));
    // Storage Transfer Service ingests into raw data with the agent's least-privilege sink role.
    this.store.grantTransferSink();

    new TerraformOutput(this, 'cluster-name', { value: this.cluster.cluster.name });
    new TerraformOutput(this, 'pipeline-root', { value: this.store.pipelineRoot.url });
    new TerraformOutput(this, 'image-prefix', { value: this.registry.imagePrefix });

    this.policy = new PolicyPack();
    Aspects.of(this).add(this.policy);
  }
}
