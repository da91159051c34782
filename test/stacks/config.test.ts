// Environment config (zod): the three environments validate; bad configs fail with one line naming the field path.
import { EnvironmentConfigError, parseEnvironmentConfig } from '../../stacks/config';
import { ENVIRONMENT_NAMES, environment, rawEnvironment } from '../../stacks/environments';
import { Testing } from 'cdktf';
import { environmentPlatform } from '../../stacks/environment-platform';

/* eslint-disable @typescript-eslint/no-explicit-any */
function broken(mutate: (cfg: any) => void): string {
  const cfg = rawEnvironment('dev') as any;
  mutate(cfg);
  try {
    parseEnvironmentConfig(cfg);
  } catch (e) {
    expect(e).toBeInstanceOf(EnvironmentConfigError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected the config to be rejected');
}

describe('environment config', () => {
  test('dev, staging and prod validate', () => {
    for (const env of ENVIRONMENT_NAMES) expect(environment(env).name).toBe(env);
  });

  test('dev is cheap, prod is hardened', () => {
    const dev = environment('dev');
    const prod = environment('prod');
    expect(dev.clusterLocation).toBe('zonal');
    expect(dev.gpuPools.every((p) => p.spot && p.minNodes === 0)).toBe(true);
    expect(dev.database).toMatchObject({ tier: 'db-g1-small', highAvailability: false, deletionProtection: false });
    expect(prod.clusterLocation).toBe('regional');
    expect(prod.database).toMatchObject({ highAvailability: true, pointInTimeRecovery: true, deletionProtection: true });
    expect(prod.cluster.deletionProtection).toBe(true);
  });

  test('every environment keeps more backups than days of transaction logs (Cloud SQL answers 400 otherwise)', () => {
    for (const env of ENVIRONMENT_NAMES) {
      const db = environment(env).database;
      expect(db.retainedBackups).toBeGreaterThan(db.transactionLogRetentionDays);
    }
  });

  test('a missing field fails with one line naming its path', () => {
    expect(broken((c) => { delete c.database.tier; })).toBe(
      "Invalid environment config 'dev': database.tier: Invalid input: expected string, received undefined");
  });

  test('a wrong value names the array index in the path', () => {
    expect(broken((c) => { c.gpuPools[0].accelerator = 'nvidia-l5'; })).toMatch(/^Invalid environment config 'dev': gpuPools\[0\]\.accelerator: Invalid option: expected one of "nvidia-tesla-t4"\|/);
    expect(broken((c) => { c.network.podsCidr = '10.4.0.0'; })).toBe(
      "Invalid environment config 'dev': network.podsCidr: must be an IPv4 CIDR like 10.0.0.0/20");
  });

  test('cross-field rules point at the field', () => {
    expect(broken((c) => { c.zones = ['europe-west4-a']; })).toBe(
      "Invalid environment config 'dev': zones[0]: zone europe-west4-a is not in region us-central1");
    expect(broken((c) => { c.cpuPool.minNodes = 9; })).toBe("Invalid environment config 'dev': cpuPool.minNodes: must not exceed cpuPool.maxNodes");
    expect(broken((c) => { c.database.transactionLogRetentionDays = 3; })).toBe(
      "Invalid environment config 'dev': database.retainedBackups: must exceed database.transactionLogRetentionDays (3); Cloud SQL refuses it otherwise");
  });

  test('unknown keys are rejected and several issues are counted', () => {
    expect(broken((c) => { c.database.tierr = 'db-g1-small'; })).toBe(
      'Invalid environment config \'dev\': database: Unrecognized key: "tierr"');
    expect(broken((c) => { delete c.project; delete c.region; })).toMatch(/^Invalid environment config 'dev': project: .* \(and 1 more issue\)$/);
  });

  test('workloads: the orchestrator is a typed union and image tags are pinned', () => {
    expect(broken((c) => { c.workloads.orchestrator = { kind: 'airflow' }; })).toBe(
      "Invalid environment config 'dev': workloads.orchestrator.kind: Invalid discriminator value. Expected 'argo' | 'composer' | 'vertex'");
    expect(broken((c) => { c.workloads.orchestrator = { kind: 'argo', chartVersion: '0.45.*' }; })).toBe(
      "Invalid environment config 'dev': workloads.orchestrator.chartVersion: must be an exact chart version like 0.45.21");
    expect(broken((c) => { c.workloads.imageTag = 'latest'; })).toBe(
      "Invalid environment config 'dev': workloads.imageTag: must not be 'latest': pin the tag Cloud Build pushed");
  });

  test('workloads.imageDigests: serving runs its tags by digest, so CKV_K8S_43 passes without a suppression', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const cfg = rawEnvironment('dev') as any;
    cfg.workloads.imageDigests = { [cfg.workloads.imageTag]: digest };
    const platform = environmentPlatform(Testing.app(), parseEnvironmentConfig(cfg));
    const deployments = Object.values(JSON.parse(Testing.synth(platform.workloads!)).resource.kubernetes_deployment_v1) as any[];
    expect(deployments.map((d) => d.spec.template.spec.container[0].image)).toEqual(
      cfg.workloads.serving.map(() => expect.stringMatching(new RegExp(`/runtime:${cfg.workloads.imageTag}@${digest}$`))));
    const report = platform.workloads!.policy.reports.get('dev-workloads')!;
    expect(report.violations).toEqual([]);
    expect(report.suppressed.filter((f) => f.ruleId === 'CKV_K8S_43')).toEqual([]);
    expect(broken((c) => { c.workloads.imageDigests = { [c.workloads.imageTag]: 'sha256:abc' }; })).toBe(
      `Invalid environment config 'dev': workloads.imageDigests.${cfg.workloads.imageTag}: must be a digest: sha256: followed by 64 lowercase hex digits`);
    const stale = rawEnvironment('dev') as any;
    stale.workloads.imageDigests = { '0.0.9': digest };
    expect(() => environmentPlatform(Testing.app(), parseEnvironmentConfig(stale))).toThrow(
      "workloads.imageDigests names tag '0.0.9', which no serving image runs (serving tags: 0.1.0); remove it.");
  });

  test('workloads: serving on an unknown GPU pool and malformed schedules point at the field', () => {
    expect(broken((c) => { c.workloads.serving[0].gpuPool = 'h100'; })).toBe(
      "Invalid environment config 'dev': workloads.serving[0].gpuPool: is not one of gpuPools (l4-spot)");
    expect(broken((c) => { c.workloads.schedules[0].cron = 'hourly'; })).toBe(
      "Invalid environment config 'dev': workloads.schedules[0].cron: must be a five-field cron expression like '0 3 * * *'");
    expect(broken((c) => { c.workloads.transfers[0].source = { kind: 's3', bucket: 'partner', roleArn: 'AKIA123' }; })).toBe(
      "Invalid environment config 'dev': workloads.transfers[0].source.roleArn: must be an AWS IAM role ARN");
  });

  test('Composer workloads, maintenance window and snapshots, and bucket placement options go from config into the stacks', () => {
    const cfg = rawEnvironment('dev') as any;
    cfg.workloads.schedules = [];
    cfg.workloads.orchestrator = {
      kind: 'composer', environmentSize: 'MEDIUM', workers: { minCount: 1, maxCount: 6 }, triggerer: { count: 1, cpu: 0.5, memoryGb: 1 },
      maintenanceWindowDays: 'DAILY', snapshotSchedule: '0 2 * * *',
    };
    const platform = environmentPlatform(Testing.app(), parseEnvironmentConfig(cfg));
    const env = JSON.parse(Testing.synth(platform.workloads!)).resource.google_composer_environment;
    const config = (Object.values(env)[0] as any).config;
    expect(config.workloads_config).toEqual({ worker: { min_count: 1, max_count: 6 }, triggerer: { count: 1, cpu: 0.5, memory_gb: 1 } });
    expect(config.maintenance_window.recurrence).toBe('FREQ=DAILY');
    expect(config.recovery_config.scheduled_snapshots_config.snapshot_creation_schedule).toBe('0 2 * * *');
    const storage = rawEnvironment('dev') as any;
    storage.storage = { ...storage.storage, location: 'US', dualRegion: ['US-CENTRAL1', 'US-EAST1'], turboReplication: true, autoclass: true };
    const buckets = Object.values(JSON.parse(Testing.synth(environmentPlatform(Testing.app(), parseEnvironmentConfig(storage)).platform)).resource.google_storage_bucket) as any[];
    for (const b of buckets) expect(b).toMatchObject({ location: 'US', custom_placement_config: { data_locations: ['US-CENTRAL1', 'US-EAST1'] }, rpo: 'ASYNC_TURBO' });
    expect(broken((c) => { c.workloads.schedules = []; c.workloads.orchestrator = { kind: 'composer', maintenanceWindowDays: ['FRI'] }; })).toMatch(
      /^Invalid environment config 'dev': workloads\.orchestrator\.maintenanceWindowDays/);
  });
});
