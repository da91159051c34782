// Typed, zod-validated environment configuration for the platform and workloads stacks. A bad config fails with one
// line naming the field path (e.g. `database.tier`), before any construct is created.
import { z } from 'zod';
import { GPU_ACCELERATOR_TYPES } from '../constructs/accelerators';
import { TPU_VERSIONS } from '../constructs/tpu';
import { parseCidr } from '../constructs/errors';

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, { message: 'must be an IPv4 CIDR like 10.0.0.0/20' });
const zone = z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'must be a zone like us-central1-a');
const name = z.string().regex(/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/, 'must be lowercase letters, digits and -');
const count = z.number().int().min(0);

const gpuPool = z.object({
  name,
  accelerator: z.enum(GPU_ACCELERATOR_TYPES as [string, ...string[]]),
  machineType: z.string(),
  zones: z.array(zone).min(1),
  minNodes: count,
  maxNodes: z.number().int().min(1),
  spot: z.boolean(),
  driverVersion: z.enum(['DEFAULT', 'LATEST']),
  queuedProvisioning: z.boolean().optional(),
  flexStart: z.boolean().optional(),
  gpuSharing: z.enum(['TIME_SHARING', 'MPS']).optional(),
  maxSharedClientsPerGpu: z.number().int().optional(),
}).strict();

const tpuPool = z.object({
  name,
  version: z.enum(TPU_VERSIONS as [string, ...string[]]),
  topology: z.string().regex(/^\d+(x\d+){1,2}$/, 'must look like 2x4 or 2x2x2'),
  zone,
  spot: z.boolean(),
  scaleToZero: z.boolean(),
}).strict();

const imageTag = z.string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be an image tag like 0.1.0 or a commit SHA')
  .refine((t) => t !== 'latest', { message: "must not be 'latest': pin the tag Cloud Build pushed" });
const cron = z.string().regex(/^\S+(\s+\S+){4}$/, "must be a five-field cron expression like '0 3 * * *'");
const kubeName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/, 'must be a Kubernetes name (lowercase letters, digits and -)');
const gitRef = z.union([z.object({ branch: z.string().min(1) }).strict(), z.object({ tag: z.string().min(1) }).strict()]);

const composerComponent = z.object({ count: z.number().int().optional(), cpu: z.number().optional(), memoryGb: z.number().optional(), storageGb: z.number().optional() }).strict();
const orchestrator = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('argo'), chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be an exact chart version like 0.45.21').optional(), namespace: kubeName.optional(), parallelism: z.number().int().min(1).optional() }).strict(),
  z.object({
    kind: z.literal('composer'),
    imageVersion: z.string().optional(),
    environmentSize: z.enum(['SMALL', 'MEDIUM', 'LARGE']).optional(),
    highResilience: z.boolean().optional(),
    // Airflow workloads, maintenance window and snapshots: ComposerOrchestrator's props (ranges checked there).
    scheduler: composerComponent.optional(),
    dagProcessor: composerComponent.optional(),
    workers: z.object({ minCount: z.number().int().optional(), maxCount: z.number().int().optional(), cpu: z.number().optional(), memoryGb: z.number().optional(), storageGb: z.number().optional() }).strict().optional(),
    triggerer: z.object({ count: z.number().int(), cpu: z.number(), memoryGb: z.number() }).strict().optional(),
    maintenanceWindowStartUtc: z.string().optional(),
    maintenanceWindowHours: z.number().int().optional(),
    maintenanceWindowDays: z.union([z.array(z.enum(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'])), z.literal('DAILY')]).optional(),
    scheduledSnapshots: z.boolean().optional(),
    snapshotSchedule: z.string().optional(),
    snapshotTimeZone: z.string().optional(),
    snapshotLocation: z.string().optional(),
  }).strict(),
  z.object({ kind: z.literal('vertex') }).strict(),
]);

const rollout = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Recreate') }).strict(),
  z.object({ kind: z.literal('RollingUpdate'), maxSurge: z.string().optional(), maxUnavailable: z.string().optional() }).strict(),
  z.object({ kind: z.literal('BlueGreen'), active: z.enum(['blue', 'green']), blueTag: imageTag, greenTag: imageTag, idleReplicas: z.number().int().min(0).optional() }).strict(),
  z.object({ kind: z.literal('Canary'), canaryTag: imageTag, canaryPercent: z.number().int().min(1).max(50) }).strict(),
]);

const serving = z.object({
  name: kubeName,
  modelName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
  rollout: rollout.optional(),
  gpuPool: name.optional(),
  gpus: z.number().int().min(1).optional(),
  minReplicas: z.number().int().min(1).optional(),
  maxReplicas: z.number().int().min(1).optional(),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  modelSource: z.enum(['gcs', 'gcs-fuse']).optional(),
}).strict();

const transfer = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{1,28}[a-z0-9]$/, 'must be 3-30 lowercase letters, digits and -'),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('s3'), bucket: z.string().min(3), roleArn: z.string().startsWith('arn:aws:iam::', 'must be an AWS IAM role ARN'), path: z.string().optional() }).strict(),
    z.object({ kind: z.literal('gcs'), bucket: z.string().min(3), path: z.string().optional() }).strict(),
    z.object({ kind: z.literal('posix'), rootDirectory: z.string().startsWith('/', 'must be an absolute path'), bandwidthLimitMbps: z.number().int().min(1).optional() }).strict(),
  ]),
  trigger: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('schedule'), startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2025-01-31'), startTimeUtc: z.string().optional(), repeatIntervalHours: z.number().int().min(1).max(720).optional() }).strict(),
    z.object({ kind: z.literal('event-stream'), streamName: z.string().min(1) }).strict(),
  ]),
  sinkPath: z.string().optional(),
  includePrefixes: z.array(z.string()).optional(),
}).strict();

const workloads = z.object({
  /** Runtime image tag in the environment's registry (what Cloud Build pushed; never latest). */
  imageTag,
  /** Digests of the serving image tags (`{ '0.1.0': 'sha256:<64 hex>' }`): serving runs them by digest (Checkov CKV_K8S_43). */
  imageDigests: z.record(imageTag, z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be a digest: sha256: followed by 64 lowercase hex digits')).optional(),
  orchestrator,
  /** Schedules of compiled pipelines; applied when compiled pipelines are given (MLP_COMPILED_PIPELINES). */
  schedules: z.array(z.object({
    pipeline: kubeName,
    cron,
    timeZone: z.string().optional(),
    parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }).strict()),
  serving: z.array(serving),
  transfers: z.array(transfer),
  monitoring: z.object({
    notification: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('email'), address: z.string().email() }).strict(),
      z.object({ kind: z.literal('existing'), name: z.string().regex(/^projects\/[^/]+\/notificationChannels\/\d+$/, 'must be projects/<p>/notificationChannels/<id>') }).strict(),
    ]),
    servingErrorRate: z.number().gt(0).lt(1).optional(),
    servingLatencyP99Ms: z.number().positive().optional(),
  }).strict(),
  /** Distributed training: JobSet + Kueue with a queue over these pools (TrainingScheduler); omitted = not installed. */
  training: z.object({
    queueName: kubeName.optional(),
    /** GPU/TPU pool names; default every TPU pool and every GPU pool without GPU sharing. */
    pools: z.array(name).min(1).optional(),
    nodeQuota: z.record(z.string(), z.number().int().min(1)).optional(),
  }).strict().optional(),
  build: z.object({
    github: z.object({ owner: z.string().min(1), name: z.string().min(1) }).strict(),
    imagesOn: gitRef.optional(),
    deployOn: gitRef,
    requireApproval: z.boolean(),
    pipelineRuns: z.array(z.object({ pipeline: kubeName, schedule: cron.optional(), timeZone: z.string().optional() }).strict()),
  }).strict().optional(),
}).strict();

export const EnvironmentConfigSchema = z.object({
  /** Environment name; the stack is `<name>-platform`. */
  name: z.enum(['dev', 'staging', 'prod']),
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id'),
  region: z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'must be a region like us-central1'),
  /** zonal: control plane and default nodes in zones[0] (cheap); regional: replicated control plane. */
  clusterLocation: z.enum(['zonal', 'regional']),
  zones: z.array(zone).min(1),
  labels: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/), z.string().regex(/^[a-z0-9_-]{0,63}$/)),
  network: z.object({
    subnetCidr: cidr,
    podsCidr: cidr,
    servicesCidr: cidr,
    privateServiceAccessCidr: cidr,
    masterCidr: cidr,
  }).strict(),
  authorizedNetworks: z.array(z.object({ cidr, displayName: z.string().min(1) }).strict()).min(1),
  cluster: z.object({
    releaseChannel: z.enum(['RAPID', 'REGULAR', 'STABLE']),
    privateEndpoint: z.boolean(),
    deletionProtection: z.boolean(),
    binaryAuthorization: z.enum(['AUDIT', 'ENFORCE', 'DISABLED']),
    /** Attestors the Binary Authorization policy requires (needed with ENFORCE). */
    binaryAuthorizationAttestors: z.array(z.string().regex(/^projects\/[^/]+\/attestors\/[^/]+$/, 'must be projects/<project>/attestors/<name>')).optional(),
    /** Periods without upgrades (release freezes). */
    maintenanceExclusions: z.array(z.object({
      name: z.string().min(1),
      startTime: z.string().datetime({ offset: true }),
      endTime: z.string().datetime({ offset: true }),
      scope: z.enum(['NO_UPGRADES', 'NO_MINOR_UPGRADES', 'NO_MINOR_OR_NODE_UPGRADES']),
    }).strict()).optional(),
  }).strict(),
  cpuPool: z.object({
    machineType: z.string(),
    minNodes: count,
    maxNodes: z.number().int().min(1),
    spot: z.boolean(),
  }).strict(),
  gpuPools: z.array(gpuPool),
  tpuPools: z.array(tpuPool),
  database: z.object({
    tier: z.string().regex(/^db-/, 'must be a Cloud SQL tier like db-custom-2-7680'),
    /** ENTERPRISE_PLUS for db-perf-optimized-N-* tiers (default ENTERPRISE). */
    edition: z.enum(['ENTERPRISE', 'ENTERPRISE_PLUS']).optional(),
    highAvailability: z.boolean(),
    pointInTimeRecovery: z.boolean(),
    retainedBackups: z.number().int().min(1).max(365),
    /** Days of PITR transaction logs; Cloud SQL needs fewer than retainedBackups. */
    transactionLogRetentionDays: z.number().int().min(1).max(35),
    diskSizeGb: z.number().int().min(10),
    deletionProtection: z.boolean(),
  }).strict(),
  storage: z.object({
    bucketPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/, 'must be 3-50 lowercase letters, digits or -'),
    location: z.string().min(2),
    tempArtifactTtlDays: z.number().int().min(1),
    rawDataRetentionDays: z.number().int().min(1).optional(),
    /** Must be false with rawDataRetentionDays (Cloud Storage allows no retention policy on a versioned bucket). */
    rawDataVersioning: z.boolean().optional(),
    autoclass: z.boolean().optional(),
    pipelineRootHierarchicalNamespace: z.boolean().optional(),
    pipelineRootVersioning: z.boolean().optional(),
    /** Two regions of the multi-region `location` (US, EU, ASIA) holding the data. */
    dualRegion: z.array(z.string()).optional(),
    turboReplication: z.boolean().optional(),
    kmsKeyName: z.string().optional(),
    forceDestroy: z.boolean(),
  }).strict(),
  registry: z.object({
    repositoryId: name,
    keepRecentVersions: z.number().int().min(1),
    deleteUntaggedAfterDays: z.number().int().min(1),
  }).strict(),
  kubernetesNamespace: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
  /** Remote state: the bucket must exist before the first deploy (see README, state bucket bootstrap). */
  state: z.object({ bucket: z.string().min(3) }).strict(),
  /** Cloud Billing: the account the environment's budget is on and the storage/egress its cost ceiling assumes. */
  billing: z.object({
    account: z.string().regex(/^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/, 'must be a billing account id like 012345-6789AB-CDEF01'),
    /** Budget amount; unset: the environment's cost ceiling. */
    monthlyBudgetUsd: z.number().positive().optional(),
    /** Fractions of the budget that alert (ascending); unset: 0.5, 0.9, 1.0. */
    alertThresholds: z.array(z.number().gt(0).max(10)).min(1).optional(),
    assumedStorageGb: z.number().min(0),
    assumedEgressGb: z.number().min(0),
  }).strict(),
  /** The `<env>-workloads` stack: orchestrator, serving, transfers, monitoring, build triggers. */
  workloads,
}).strict().superRefine((cfg, ctx) => {
  cfg.zones.forEach((z, i) => {
    if (!z.startsWith(`${cfg.region}-`)) ctx.addIssue({ code: 'custom', path: ['zones', i], message: `zone ${z} is not in region ${cfg.region}` });
  });
  const names = [...cfg.gpuPools.map((p) => p.name), ...cfg.tpuPools.map((p) => p.name), 'general'];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) ctx.addIssue({ code: 'custom', path: ['gpuPools'], message: `node pool name ${dup} is used twice` });
  if (cfg.database.retainedBackups <= cfg.database.transactionLogRetentionDays) {
    ctx.addIssue({ code: 'custom', path: ['database', 'retainedBackups'], message: `must exceed database.transactionLogRetentionDays (${cfg.database.transactionLogRetentionDays}); Cloud SQL refuses it otherwise` });
  }
  if (cfg.cpuPool.minNodes > cfg.cpuPool.maxNodes) ctx.addIssue({ code: 'custom', path: ['cpuPool', 'minNodes'], message: 'must not exceed cpuPool.maxNodes' });
  const gpuNames = cfg.gpuPools.map((p) => p.name);
  cfg.workloads.serving.forEach((s, i) => {
    if (s.gpuPool !== undefined && !gpuNames.includes(s.gpuPool)) {
      ctx.addIssue({ code: 'custom', path: ['workloads', 'serving', i, 'gpuPool'], message: `is not one of gpuPools (${gpuNames.join(', ') || 'none'})` });
    }
  });
  const acceleratorPools = [...gpuNames, ...cfg.tpuPools.map((p) => p.name)];
  cfg.workloads.training?.pools?.forEach((p, i) => {
    if (!acceleratorPools.includes(p)) ctx.addIssue({ code: 'custom', path: ['workloads', 'training', 'pools', i], message: `is not one of gpuPools or tpuPools (${acceleratorPools.join(', ') || 'none'})` });
  });
  if (cfg.workloads.orchestrator.kind === 'composer' && cfg.workloads.schedules.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['workloads', 'schedules'], message: "must be empty with Composer: compile the DAGs with --schedule '<cron>' instead" });
  }
});

export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;
export type EnvironmentName = EnvironmentConfig['name'];
export type GpuPoolConfig = z.infer<typeof gpuPool>;
export type TpuPoolConfig = z.infer<typeof tpuPool>;
export type WorkloadsConfig = z.infer<typeof workloads>;

/** Thrown for an invalid environment config; the message is one line naming the field path. */
export class EnvironmentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentConfigError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '') || '(root)';
}

/** Validates unknown input (e.g. parsed JSON/YAML from an org repo) into an EnvironmentConfig. */
export function parseEnvironmentConfig(input: unknown): EnvironmentConfig {
  const result = EnvironmentConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const label = input && typeof input === 'object' && typeof (input as { name?: unknown }).name === 'string' ? ` '${(input as { name: string }).name}'` : '';
  const [first, ...rest] = result.error.issues;
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? 's' : ''})` : '';
  throw new EnvironmentConfigError(`Invalid environment config${label}: ${formatPath(first.path)}: ${first.message.replace(/\s+/g, ' ')}${more}`);
}
