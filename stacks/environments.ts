// The dev, staging and prod environment configurations: dev is cheap (zonal, spot GPUs from 0, small database), prod is
// hardened (regional, HA + PITR, deletion protection everywhere, GPU blue-green serving, approval before deploys).
import { EnvironmentConfig, EnvironmentName, parseEnvironmentConfig } from './config';

const common = {
  region: 'us-central1',
  network: {
    subnetCidr: '10.0.0.0/20',
    podsCidr: '10.4.0.0/14',
    servicesCidr: '10.8.0.0/20',
    privateServiceAccessCidr: '10.10.0.0/16',
    masterCidr: '172.16.0.0/28',
  },
  authorizedNetworks: [
    { cidr: '203.0.113.0/24', displayName: 'corp-vpn' },
    { cidr: '198.51.100.16/28', displayName: 'ci-runners' },
  ],
  kubernetesNamespace: 'ml-platform',
};

const github = { owner: 'acme', name: 'gcp-ml-platform' };

const RAW: { readonly [E in EnvironmentName]: unknown } = {
  dev: {
    ...common,
    name: 'dev',
    project: 'acme-ml-dev',
    clusterLocation: 'zonal',
    zones: ['us-central1-a'],
    labels: { env: 'dev', team: 'ml-platform' },
    cluster: { releaseChannel: 'REGULAR', privateEndpoint: false, deletionProtection: false, binaryAuthorization: 'AUDIT' },
    cpuPool: { machineType: 'e2-standard-4', minNodes: 1, maxNodes: 3, spot: true },
    gpuPools: [
      { name: 'l4-spot', accelerator: 'nvidia-l4', machineType: 'g2-standard-8', zones: ['us-central1-a'], minNodes: 0, maxNodes: 2, spot: true, driverVersion: 'LATEST' },
    ],
    tpuPools: [],
    database: { tier: 'db-g1-small', highAvailability: false, pointInTimeRecovery: true, retainedBackups: 3, transactionLogRetentionDays: 2, diskSizeGb: 10, deletionProtection: false },
    storage: { bucketPrefix: 'acme-ml-dev', location: 'US-CENTRAL1', tempArtifactTtlDays: 3, forceDestroy: true },
    registry: { repositoryId: 'ml-images', keepRecentVersions: 5, deleteUntaggedAfterDays: 3 },
    state: { bucket: 'acme-ml-tfstate' },
    billing: { account: '01A2B3-C4D5E6-F7A8B9', assumedStorageGb: 500, assumedEgressGb: 50 },
    workloads: {
      imageTag: '0.1.0',
      orchestrator: { kind: 'argo', parallelism: 5 },
      schedules: [{ pipeline: 'spine-demo', cron: '0 6 * * *' }],
      serving: [
        { name: 'flights', modelName: 'flights', rollout: { kind: 'RollingUpdate', maxSurge: '1', maxUnavailable: '0' }, minReplicas: 2, maxReplicas: 3, cpu: '500m', memory: '1Gi' },
      ],
      transfers: [
        { name: 'flights-landing', source: { kind: 'gcs', bucket: 'acme-data-landing', path: 'flights/' }, trigger: { kind: 'schedule', startDate: '2025-01-01', startTimeUtc: '02:00', repeatIntervalHours: 24 } },
      ],
      monitoring: { notification: { kind: 'email', address: 'ml-platform-dev@acme.com' }, servingErrorRate: 0.1, servingLatencyP99Ms: 2000 },
      training: {},
      build: { github, deployOn: { branch: '^main$' }, requireApproval: false, pipelineRuns: [{ pipeline: 'spine-demo' }] },
    },
  },
  staging: {
    ...common,
    name: 'staging',
    project: 'acme-ml-staging',
    clusterLocation: 'regional',
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
    labels: { env: 'staging', team: 'ml-platform' },
    cluster: { releaseChannel: 'REGULAR', privateEndpoint: false, deletionProtection: true, binaryAuthorization: 'AUDIT' },
    cpuPool: { machineType: 'e2-standard-8', minNodes: 1, maxNodes: 6, spot: false },
    gpuPools: [
      { name: 'l4-spot', accelerator: 'nvidia-l4', machineType: 'g2-standard-24', zones: ['us-central1-a', 'us-central1-b'], minNodes: 0, maxNodes: 4, spot: true, driverVersion: 'DEFAULT' },
      { name: 'a100-flex', accelerator: 'nvidia-tesla-a100', machineType: 'a2-highgpu-1g', zones: ['us-central1-b', 'us-central1-c'], minNodes: 0, maxNodes: 4, spot: false, driverVersion: 'DEFAULT', flexStart: true },
    ],
    tpuPools: [
      { name: 'v5e-2x4', version: 'v5e', topology: '2x4', zone: 'us-central1-a', spot: true, scaleToZero: true },
    ],
    database: { tier: 'db-custom-2-7680', highAvailability: false, pointInTimeRecovery: true, retainedBackups: 7, transactionLogRetentionDays: 6, diskSizeGb: 20, deletionProtection: true },
    storage: { bucketPrefix: 'acme-ml-staging', location: 'US-CENTRAL1', tempArtifactTtlDays: 7, forceDestroy: false },
    registry: { repositoryId: 'ml-images', keepRecentVersions: 10, deleteUntaggedAfterDays: 7 },
    state: { bucket: 'acme-ml-tfstate' },
    billing: { account: '01A2B3-C4D5E6-F7A8B9', assumedStorageGb: 2000, assumedEgressGb: 200 },
    workloads: {
      imageTag: '0.1.0',
      orchestrator: { kind: 'argo' },
      schedules: [{ pipeline: 'spine-demo', cron: '0 5 * * 1' }],
      serving: [
        { name: 'flights', modelName: 'flights', rollout: { kind: 'Canary', canaryTag: '0.1.0', canaryPercent: 20 }, minReplicas: 4, maxReplicas: 8, cpu: '1', memory: '2Gi' },
      ],
      transfers: [
        {
          name: 'partner-s3',
          source: { kind: 's3', bucket: 'acme-partner-exports', roleArn: 'arn:aws:iam::123456789012:role/acme-ml-staging-transfer', path: 'flights/' },
          trigger: { kind: 'event-stream', streamName: 'arn:aws:sqs:us-east-1:123456789012:acme-partner-exports-events' },
        },
      ],
      monitoring: { notification: { kind: 'email', address: 'ml-platform-staging@acme.com' } },
      training: {},
      build: { github, deployOn: { branch: '^main$' }, requireApproval: false, pipelineRuns: [{ pipeline: 'spine-demo' }] },
    },
  },
  prod: {
    ...common,
    name: 'prod',
    project: 'acme-ml-prod',
    clusterLocation: 'regional',
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
    labels: { env: 'prod', team: 'ml-platform' },
    authorizedNetworks: [{ cidr: '203.0.113.0/24', displayName: 'corp-vpn' }],
    cluster: { releaseChannel: 'STABLE', privateEndpoint: false, deletionProtection: true, binaryAuthorization: 'AUDIT' },
    cpuPool: { machineType: 'n2-standard-8', minNodes: 2, maxNodes: 10, spot: false },
    gpuPools: [
      { name: 'l4-serving', accelerator: 'nvidia-l4', machineType: 'g2-standard-24', zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'], minNodes: 1, maxNodes: 8, spot: false, driverVersion: 'DEFAULT', gpuSharing: 'TIME_SHARING', maxSharedClientsPerGpu: 2 },
      { name: 'h100-queued', accelerator: 'nvidia-h100-80gb', machineType: 'a3-highgpu-8g', zones: ['us-central1-a', 'us-central1-c'], minNodes: 0, maxNodes: 4, spot: false, driverVersion: 'LATEST', queuedProvisioning: true },
    ],
    tpuPools: [
      { name: 'v5p-2x2x2', version: 'v5p', topology: '2x2x2', zone: 'us-central1-a', spot: false, scaleToZero: true },
    ],
    database: { tier: 'db-custom-4-16384', highAvailability: true, pointInTimeRecovery: true, retainedBackups: 30, transactionLogRetentionDays: 7, diskSizeGb: 100, deletionProtection: true },
    storage: { bucketPrefix: 'acme-ml-prod', location: 'US-CENTRAL1', tempArtifactTtlDays: 14, rawDataRetentionDays: 30, rawDataVersioning: false, forceDestroy: false },
    registry: { repositoryId: 'ml-images', keepRecentVersions: 20, deleteUntaggedAfterDays: 14 },
    state: { bucket: 'acme-ml-tfstate' },
    billing: { account: '01A2B3-C4D5E6-F7A8B9', assumedStorageGb: 10000, assumedEgressGb: 2000 },
    workloads: {
      imageTag: '0.1.0',
      orchestrator: { kind: 'argo', parallelism: 40 },
      schedules: [{ pipeline: 'spine-demo', cron: '0 4 * * *' }],
      serving: [
        {
          name: 'flights',
          modelName: 'flights',
          rollout: { kind: 'BlueGreen', active: 'blue', blueTag: '0.1.0', greenTag: '0.1.0', idleReplicas: 1 },
          gpuPool: 'l4-serving',
          gpus: 1,
          minReplicas: 3,
          maxReplicas: 12,
          cpu: '4',
          memory: '16Gi',
        },
      ],
      transfers: [
        { name: 'onprem-exports', source: { kind: 'posix', rootDirectory: '/mnt/exports/flights', bandwidthLimitMbps: 200 }, trigger: { kind: 'schedule', startDate: '2025-01-01', startTimeUtc: '01:00', repeatIntervalHours: 24 } },
      ],
      monitoring: { notification: { kind: 'existing', name: 'projects/acme-ml-prod/notificationChannels/4519384012' }, servingErrorRate: 0.01, servingLatencyP99Ms: 500 },
      // The queued H100 pool is usable only through Kueue's ProvisioningRequest check; the shared L4 serving pool stays out.
      training: { pools: ['h100-queued', 'v5p-2x2x2'] },
      build: { github, deployOn: { tag: '^v\\d+\\.\\d+\\.\\d+$' }, requireApproval: true, pipelineRuns: [{ pipeline: 'spine-demo' }] },
    },
  },
};

export const ENVIRONMENT_NAMES: readonly EnvironmentName[] = ['dev', 'staging', 'prod'];

/** The validated config of one environment. */
export function environment(name: EnvironmentName): EnvironmentConfig {
  return parseEnvironmentConfig(RAW[name]);
}

/** Raw (unvalidated) config, for tests that break it on purpose. */
export function rawEnvironment(name: EnvironmentName): unknown {
  return JSON.parse(JSON.stringify(RAW[name]));
}
