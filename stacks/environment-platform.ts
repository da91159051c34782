// One environment of this repo as an MlPlatform: maps the zod-validated EnvironmentConfig to MlPlatformProps (the
// stacks `<env>-platform` and `<env>-workloads`), with the GCS backend (prefix `platform/<env>/<stack>`).
import { Construct } from 'constructs';
import { MlPlatform, MlPlatformProps, MlServingOptions } from '../constructs/ml-platform';
import { CompiledPipelines } from '../constructs/pipeline-orchestrator';
import { GpuAcceleratorType } from '../constructs/accelerators';
import { TpuVersion } from '../constructs/tpu';
import { EnvironmentConfig } from './config';
import { addEnvironmentBudget, environmentCostCeiling } from './environment-cost';

/** `<env>-platform` */
export function platformStackName(env: string): string {
  return `${env}-platform`;
}
/** `<env>-workloads` */
export function workloadsStackName(env: string): string {
  return `${env}-workloads`;
}

export interface EnvironmentOptions {
  /**
   * Compiled pipelines (every target; the environment's orchestrator takes its own), installed with the config's
   * schedules.
   * @default - none: orchestrators are installed without pipelines, and the config's schedules are not applied
   */
  readonly pipelines?: CompiledPipelines;
}

/** Only the compiled output of the environment's orchestrator (a deploy may compile every target). */
function pipelinesFor(config: EnvironmentConfig, all: CompiledPipelines | undefined): CompiledPipelines | undefined {
  if (!all) return undefined;
  switch (config.workloads.orchestrator.kind) {
    case 'argo': return { argo: all.argo ?? [] };
    case 'vertex': return { kfp: all.kfp ?? [] };
    case 'composer': return { airflow: all.airflow ?? [] };
  }
}

/** MlPlatformProps of an environment. */
export function environmentPlatformProps(config: EnvironmentConfig, options: EnvironmentOptions = {}): MlPlatformProps {
  const env = config.name;
  const w = config.workloads;
  const pipelines = pipelinesFor(config, options.pipelines);
  return {
    name: env,
    project: config.project,
    region: config.region,
    labels: config.labels,
    network: {
      subnetCidr: config.network.subnetCidr,
      podsCidr: config.network.podsCidr,
      servicesCidr: config.network.servicesCidr,
      privateServiceAccessCidr: config.network.privateServiceAccessCidr,
    },
    cluster: {
      location: config.clusterLocation === 'zonal' ? config.zones[0] : config.region,
      nodeLocations: config.clusterLocation === 'regional' ? config.zones : undefined,
      masterIpv4CidrBlock: config.network.masterCidr,
      masterAuthorizedNetworks: config.authorizedNetworks,
      privateEndpoint: config.cluster.privateEndpoint,
      releaseChannel: config.cluster.releaseChannel,
      binaryAuthorization: config.cluster.binaryAuthorization,
      binaryAuthorizationAttestors: config.cluster.binaryAuthorizationAttestors,
      maintenanceExclusions: config.cluster.maintenanceExclusions,
      deletionProtection: config.cluster.deletionProtection,
    },
    cpuPool: { machineType: config.cpuPool.machineType, minNodes: config.cpuPool.minNodes, maxNodes: config.cpuPool.maxNodes, spot: config.cpuPool.spot },
    gpuPools: config.gpuPools.map((p) => ({
      name: p.name,
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
    })),
    tpuPools: config.tpuPools.map((p) => ({ name: p.name, version: p.version as TpuVersion, topology: p.topology, zone: p.zone, spot: p.spot, scaleToZero: p.scaleToZero })),
    storage: {
      bucketPrefix: config.storage.bucketPrefix,
      location: config.storage.location,
      tempArtifactTtlDays: config.storage.tempArtifactTtlDays,
      rawDataRetentionDays: config.storage.rawDataRetentionDays,
      rawDataVersioning: config.storage.rawDataVersioning,
      autoclass: config.storage.autoclass,
      pipelineRootHierarchicalNamespace: config.storage.pipelineRootHierarchicalNamespace,
      pipelineRootVersioning: config.storage.pipelineRootVersioning,
      dualRegion: config.storage.dualRegion,
      turboReplication: config.storage.turboReplication,
      kmsKeyName: config.storage.kmsKeyName,
      forceDestroy: config.storage.forceDestroy,
    },
    database: {
      tier: config.database.tier,
      edition: config.database.edition,
      highAvailability: config.database.highAvailability,
      pointInTimeRecovery: config.database.pointInTimeRecovery,
      retainedBackups: config.database.retainedBackups,
      transactionLogRetentionDays: config.database.transactionLogRetentionDays,
      diskSizeGb: config.database.diskSizeGb,
      deletionProtection: config.database.deletionProtection,
    },
    registry: { repositoryId: config.registry.repositoryId, keepRecentVersions: config.registry.keepRecentVersions, deleteUntaggedAfterDays: config.registry.deleteUntaggedAfterDays },
    kubernetesNamespace: config.kubernetesNamespace,
    stateBucket: config.state.bucket,
    statePrefix: `platform/${env}`,
    workloads: {
      imageTag: w.imageTag,
      imageDigests: w.imageDigests,
      orchestrator: w.orchestrator,
      pipelines,
      // Schedules name compiled pipelines, so they only apply when those are given.
      schedules: pipelines ? w.schedules : undefined,
      serving: w.serving.map((s): MlServingOptions => ({
        name: s.name,
        modelName: s.modelName,
        rollout: s.rollout,
        gpuPool: s.gpuPool,
        gpus: s.gpus,
        minReplicas: s.minReplicas,
        maxReplicas: s.maxReplicas,
        cpu: s.cpu,
        memory: s.memory,
        modelSource: s.modelSource ? { kind: s.modelSource } : undefined,
      })),
      transfers: w.transfers,
      training: w.training,
      monitoring: w.monitoring,
      build: w.build
        ? {
          source: { kind: 'github', owner: w.build.github.owner, name: w.build.github.name },
          imagesOn: w.build.imagesOn,
          deployOn: w.build.deployOn,
          requireApproval: w.build.requireApproval,
          pipelineRuns: w.build.pipelineRuns,
          // The deploy compiles what the schedules run (Argo, Vertex), so synth finds them.
          deployPipelines: w.orchestrator.kind === 'composer' ? undefined : [...new Set(w.schedules.map((s) => s.pipeline))],
        }
        : undefined,
    },
  };
}

/** The environment's MlPlatform (construct id `<env>`), holding the stacks `<env>-platform` and `<env>-workloads`. */
export function environmentPlatform(scope: Construct, config: EnvironmentConfig, options: EnvironmentOptions = {}): MlPlatform {
  const props = environmentPlatformProps(config, options);
  const platform = new MlPlatform(scope, config.name, props);
  addEnvironmentBudget(platform, config, environmentCostCeiling(config, props));
  return platform;
}
