// Issue 21 §2: the options a platform team expects from the reference modules, on MlCluster, GpuNodePool, TpuNodePool
// and MetadataDatabase — synthesized with their values and defaults, each invalid combination refused with the fix.
import { Aspects } from 'cdktf';
import { GpuAccelerator } from '../../constructs/accelerators';
import { GpuNodePool, GpuNodePoolProps } from '../../constructs/gpu-node-pool';
import { TpuNodePool, TpuNodePoolProps } from '../../constructs/tpu-node-pool';
import { MetadataDatabase, MetadataDatabaseProps } from '../../constructs/metadata-database';
import { MlClusterProps } from '../../constructs/cluster';
import { PolicyPack } from '../../constructs/policy/policy-pack';
import { Json, baseStack, errorOf, onlyResource, resourcesOf, synthJson } from './helpers';

const KEY = 'projects/acme-sec/locations/us-central1/keyRings/ml/cryptoKeys/main';
const clusterOf = (props: Partial<MlClusterProps> = {}): Json => onlyResource(synthJson(baseStack(props).stack), 'google_container_cluster');

function gpuPool(props: Partial<GpuNodePoolProps> = {}, cluster: Partial<MlClusterProps> = {}) {
  const base = baseStack(cluster);
  new GpuNodePool(base.stack, 'gpu', { cluster: base.cluster, accelerator: GpuAccelerator.H100_80GB, machineType: 'a3-highgpu-8g', zones: ['us-central1-a'], maxNodes: 2, ...props });
  return base;
}
const gpuJson = (props: Partial<GpuNodePoolProps> = {}): Json => onlyResource(synthJson(gpuPool(props).stack), 'google_container_node_pool');

function tpuPools(props: Partial<TpuNodePoolProps> = {}) {
  const base = baseStack();
  const pool = new TpuNodePool(base.stack, 'tpu', { cluster: base.cluster, version: 'v5p', topology: '2x2x2', zone: 'us-central1-a', ...props });
  return { ...base, pool };
}

function database(props: Partial<MetadataDatabaseProps> = {}) {
  const base = baseStack();
  const db = new MetadataDatabase(base.stack, 'db', { instanceName: 'mlp-test-metadata', project: 'acme-ml-test', network: base.network, tier: 'db-custom-2-7680', ...props });
  return { ...base, db };
}

describe('MlCluster production options', () => {
  test('defaults for ML: OPTIMIZE_UTILIZATION, cost allocation, DCGM metrics in Managed Prometheus, image streaming, BASIC posture', () => {
    const c = clusterOf();
    expect(c.cluster_autoscaling).toEqual({ autoscaling_profile: 'OPTIMIZE_UTILIZATION' });
    expect(c.cost_management_config).toEqual({ enabled: true });
    expect(c.monitoring_config).toEqual({ enable_components: ['SYSTEM_COMPONENTS', 'DCGM'], managed_prometheus: { enabled: true } });
    expect(c.node_pool_defaults).toEqual({ node_config_defaults: { gcfs_config: { enabled: true } } });
    expect(c.security_posture_config).toEqual({ mode: 'BASIC', vulnerability_mode: 'VULNERABILITY_BASIC' });
    expect(c.database_encryption).toBeUndefined();
    expect(c.addons_config.gke_backup_agent_config).toBeUndefined();
  });

  test('node auto-provisioning limits, KMS secrets encryption, Backup for GKE and posture are configurable', () => {
    const base = baseStack({
      autoscalingProfile: 'BALANCED', autoProvisioning: { maxCpu: 512, maxMemoryGb: 2048, maxGpus: { 'nvidia-l4': 16 } }, costAllocation: false, dcgmMetrics: false,
      imageStreaming: false, secretsEncryptionKey: KEY, backup: true, backupCron: '0 2 * * 0', backupRetainDays: 30,
      securityPostureMode: 'DISABLED',
    });
    const json = synthJson(base.stack);
    const c = onlyResource(json, 'google_container_cluster');
    expect(c.cluster_autoscaling).toMatchObject({
      autoscaling_profile: 'BALANCED', enabled: true,
      resource_limits: [{ resource_type: 'cpu', maximum: 512 }, { resource_type: 'memory', maximum: 2048 }, { resource_type: 'nvidia-l4', maximum: 16 }],
      auto_provisioning_defaults: expect.objectContaining({ image_type: 'COS_CONTAINERD', shielded_instance_config: { enable_secure_boot: true, enable_integrity_monitoring: true } }),
    });
    expect(c.cluster_autoscaling.auto_provisioning_defaults.service_account).toMatch(/google_service_account\.cluster_node-sa_/);
    expect(c.cost_management_config).toEqual({ enabled: false });
    expect(c.monitoring_config.enable_components).toEqual(['SYSTEM_COMPONENTS']);
    expect(c.node_pool_defaults.node_config_defaults.gcfs_config).toEqual({ enabled: false });
    expect(c.database_encryption).toEqual({ state: 'ENCRYPTED', key_name: KEY });
    expect(c.addons_config.gke_backup_agent_config).toEqual({ enabled: true });
    expect(c.security_posture_config).toEqual({ mode: 'DISABLED', vulnerability_mode: 'VULNERABILITY_DISABLED' });
    expect(onlyResource(json, 'google_gke_backup_backup_plan')).toMatchObject({
      name: 'mlp-test-daily', location: 'us-central1', backup_schedule: { cron_schedule: '0 2 * * 0' }, retention_policy: { backup_retain_days: 30 },
      backup_config: { all_namespaces: true, include_volume_data: true, include_secrets: true },
    });
  });

  test('refuses a KMS key outside the region, backup settings without backup, bad limits and scanning without posture', () => {
    expect(errorOf(() => baseStack({ secretsEncryptionKey: 'projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k' }))).toBe(
      "MlCluster 'test/cluster': secretsEncryptionKey is in location europe-west4, but GKE needs the key in the cluster's region us-central1; create the key ring in us-central1.");
    expect(errorOf(() => baseStack({ secretsEncryptionKey: 'my-key' }))).toContain("secretsEncryptionKey 'my-key' is not a Cloud KMS key name");
    expect(errorOf(() => baseStack({ backupRetainDays: 7 }))).toBe(
      "MlCluster 'test/cluster': backupCron/backupRetainDays are set but backup is off; set backup: true or remove them.");
    expect(errorOf(() => baseStack({ autoProvisioning: { maxCpu: 0, maxMemoryGb: 10 } }))).toBe("MlCluster 'test/cluster': autoProvisioning.maxCpu 0 must be a positive integer.");
    expect(errorOf(() => baseStack({ securityPostureMode: 'DISABLED', vulnerabilityScanning: 'VULNERABILITY_BASIC' }))).toBe(
      "MlCluster 'test/cluster': vulnerabilityScanning VULNERABILITY_BASIC needs a security posture; set securityPostureMode to BASIC or remove vulnerabilityScanning.");
  });
});

describe('GpuNodePool production options', () => {
  test('every pool has gVNIC and image streaming; A3 uses its 16 bundled local SSDs as ephemeral storage by default', () => {
    const np = gpuJson();
    expect(np.node_config).toMatchObject({ gvnic: { enabled: true }, gcfs_config: { enabled: true }, ephemeral_storage_local_ssd_config: { local_ssd_count: 16 } });
    expect(np.upgrade_settings).toEqual({ strategy: 'SURGE', max_surge: 1, max_unavailable: 0 });
    expect(gpuJson({ localSsdEphemeralStorage: false }).node_config.ephemeral_storage_local_ssd_config).toBeUndefined();
    expect(onlyResource(synthJson(gpuPool({ accelerator: GpuAccelerator.L4, machineType: 'g2-standard-8' }).stack), 'google_container_node_pool').node_config.ephemeral_storage_local_ssd_config).toBeUndefined();
  });

  test('MIG partitions, max run duration, blue-green upgrades, kubelet/linux config and image cache disks', () => {
    const image = 'projects/acme-ml-test/global/images/runtime-cache-0-1-0';
    const np = gpuJson({
      gpuPartitionSize: '1g.10gb', maxRunDurationSeconds: 86400, upgradeStrategy: 'BLUE_GREEN', blueGreenSoakSeconds: 1800,
      cpuManagerPolicy: 'static', podPidsLimit: 4096, sysctls: { 'net.core.somaxconn': '4096' }, imageCacheDisks: [image],
    });
    expect(np.node_config.guest_accelerator[0]).toMatchObject({ type: 'nvidia-h100-80gb', count: 8, gpu_partition_size: '1g.10gb' });
    expect(np.node_config).toMatchObject({
      max_run_duration: '86400s',
      kubelet_config: { cpu_manager_policy: 'static', pod_pids_limit: 4096 },
      linux_node_config: { sysctls: { 'net.core.somaxconn': '4096' } },
      secondary_boot_disks: [{ disk_image: image, mode: 'CONTAINER_IMAGE_CACHE' }],
    });
    expect(np.upgrade_settings).toEqual({
      strategy: 'BLUE_GREEN',
      blue_green_settings: { node_pool_soak_duration: '1800s', standard_rollout_policy: { batch_percentage: 0.25, batch_soak_duration: '60s' } },
    });
  });

  test('refuses MIG on non-MIG accelerators or sizes, SSD storage without SSDs, DWS blue-green and image caches without streaming', () => {
    expect(errorOf(() => gpuPool({ accelerator: GpuAccelerator.L4, machineType: 'g2-standard-8', gpuPartitionSize: '1g.10gb' }))).toBe(
      "GpuNodePool 'test/gpu': gpuPartitionSize needs a Multi-Instance GPU accelerator (nvidia-tesla-a100, nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h100-mega-80gb), not nvidia-l4; remove gpuPartitionSize.");
    expect(errorOf(() => gpuPool({ gpuPartitionSize: '1g.5gb' }))).toBe(
      "GpuNodePool 'test/gpu': gpuPartitionSize '1g.5gb' is not a nvidia-h100-80gb partition; use one of 1g.10gb, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb.");
    expect(errorOf(() => gpuPool({ accelerator: GpuAccelerator.L4, machineType: 'g2-standard-8', localSsdEphemeralStorage: true }))).toBe(
      "GpuNodePool 'test/gpu': machineType g2-standard-8 bundles no local SSDs; remove localSsdEphemeralStorage (A2 Ultra, A3 and A4 machines have them).");
    expect(errorOf(() => gpuPool({ queuedProvisioning: true, upgradeStrategy: 'BLUE_GREEN' }))).toBe(
      "GpuNodePool 'test/gpu': Dynamic Workload Scheduler pools (queuedProvisioning, flexStart) upgrade by surge only; remove upgradeStrategy BLUE_GREEN.");
    expect(errorOf(() => gpuPool({ blueGreenSoakSeconds: 60 }))).toContain("blueGreenSoakSeconds is set but upgradeStrategy is not 'BLUE_GREEN'");
    expect(errorOf(() => gpuPool({ imageCacheDisks: ['projects/p/global/images/cache'] }, { imageStreaming: false }))).toBe(
      "GpuNodePool 'test/gpu': imageCacheDisks (container image cache) needs image streaming; keep the cluster's imageStreaming on or remove imageCacheDisks.");
    expect(errorOf(() => gpuPool({ maxRunDurationSeconds: 60 }))).toBe("GpuNodePool 'test/gpu': maxRunDurationSeconds 60 must be an integer of at least 600.");
    expect(errorOf(() => gpuPool({ podPidsLimit: 10 }))).toBe("GpuNodePool 'test/gpu': podPidsLimit 10 must be an integer between 1024 and 4194304.");
  });
});

describe('TpuNodePool production options', () => {
  test('multislice: one identical node pool per slice', () => {
    const { stack, pool } = tpuPools({ slices: 3, scaleToZero: true });
    const pools = resourcesOf(synthJson(stack), 'google_container_node_pool');
    expect(pools.map((p) => p.name).sort()).toEqual(['tpu', 'tpu-s1', 'tpu-s2']);
    for (const p of pools) expect(p).toMatchObject({ placement_policy: { type: 'COMPACT', tpu_topology: '2x2x2' }, node_config: { machine_type: 'ct5p-hightpu-4t' }, autoscaling: { max_node_count: 2 } });
    expect(pool.nodePools).toHaveLength(3);
  });

  test('queued provisioning and flex-start for TPU consume no reservation and turn auto-repair off; ANY_RESERVATION is passed through', () => {
    const queued = onlyResource(synthJson(tpuPools({ queuedProvisioning: true, scaleToZero: true }).stack), 'google_container_node_pool');
    expect(queued).toMatchObject({ queued_provisioning: { enabled: true }, management: { auto_repair: false }, node_config: { reservation_affinity: { consume_reservation_type: 'NO_RESERVATION' } } });
    const flex = onlyResource(synthJson(tpuPools({ flexStart: true, scaleToZero: true }).stack), 'google_container_node_pool');
    expect(flex).toMatchObject({ management: { auto_repair: false }, node_config: { flex_start: true, reservation_affinity: { consume_reservation_type: 'NO_RESERVATION' } } });
    const any = onlyResource(synthJson(tpuPools({ reservationAffinity: 'ANY_RESERVATION' }).stack), 'google_container_node_pool');
    expect(any.node_config.reservation_affinity).toEqual({ consume_reservation_type: 'ANY_RESERVATION' });
  });

  test('a queued TPU slice passes the policy pack with its two documented suppressions', () => {
    const { stack } = tpuPools({ queuedProvisioning: true, scaleToZero: true });
    const pack = new PolicyPack();
    Aspects.of(stack).add(pack);
    synthJson(stack);
    const report = pack.reports.get('test')!;
    expect(report.violations).toEqual([]);
    // CKV_GCP_65 is the base cluster's (no Google Groups for RBAC), not the pool's.
    expect(report.suppressed.map((s) => s.ruleId).sort()).toEqual(['CKV_GCP_65', 'CKV_GCP_9', 'MLP_DWS_QUEUED']);
  });

  test('refuses DWS TPU pools with spot, reservations or a fixed size, and bad slice counts', () => {
    expect(errorOf(() => tpuPools({ queuedProvisioning: true }))).toBe("TpuNodePool 'test/tpu': queued provisioning creates slices on demand; set scaleToZero: true.");
    expect(errorOf(() => tpuPools({ flexStart: true, scaleToZero: true, spot: true }))).toBe("TpuNodePool 'test/tpu': flex-start does not use spot VMs; remove spot.");
    expect(errorOf(() => tpuPools({ queuedProvisioning: true, scaleToZero: true, reservationAffinity: 'ANY_RESERVATION' }))).toBe(
      "TpuNodePool 'test/tpu': queued provisioning cannot consume reservations (GKE needs reservation affinity NO_RESERVATION); remove reservationAffinity/reservationName.");
    expect(errorOf(() => tpuPools({ queuedProvisioning: true, flexStart: true, scaleToZero: true }))).toContain('choose one');
    expect(errorOf(() => tpuPools({ slices: 0 }))).toBe("TpuNodePool 'test/tpu': slices 0 must be an integer between 1 and 64.");
    expect(errorOf(() => tpuPools({ reservationAffinity: 'SPECIFIC_RESERVATION' }))).toBe("TpuNodePool 'test/tpu': reservationAffinity 'SPECIFIC_RESERVATION' needs reservationName.");
  });
});

describe('MetadataDatabase production options', () => {
  test('defaults keep backups on delete and do not require connectors', () => {
    const settings = onlyResource(synthJson(database().stack), 'google_sql_database_instance').settings;
    expect(settings).toMatchObject({ retain_backups_on_delete: true, connector_enforcement: 'NOT_REQUIRED' });
    expect(settings.deny_maintenance_period).toBeUndefined();
  });

  test('read replicas, CMEK, deny-maintenance period, connector enforcement and backup location', () => {
    const { stack } = database({
      readReplicas: 2, kmsKeyName: KEY, denyMaintenanceStartDate: '2026-11-20', denyMaintenanceEndDate: '2027-01-05',
      connectorEnforcement: 'REQUIRED', retainBackupsOnDelete: false, backupLocation: 'us',
    });
    const pack = new PolicyPack();
    Aspects.of(stack).add(pack);
    const instances = resourcesOf(synthJson(stack), 'google_sql_database_instance');
    const primary = instances.find((i) => i.name === 'mlp-test-metadata')!;
    expect(primary).toMatchObject({
      encryption_key_name: KEY,
      settings: {
        connector_enforcement: 'REQUIRED', retain_backups_on_delete: false,
        deny_maintenance_period: { start_date: '2026-11-20', end_date: '2027-01-05', time: '00:00:00' },
        backup_configuration: { location: 'us' },
      },
    });
    const replicas = instances.filter((i) => i.name !== 'mlp-test-metadata');
    expect(replicas.map((r) => r.name)).toEqual(['mlp-test-metadata-replica-1', 'mlp-test-metadata-replica-2']);
    for (const r of replicas) {
      expect(r.master_instance_name).toMatch(/^\$\{google_sql_database_instance\.db_instance_[0-9A-F]+\.name\}$/);
      expect(r).toMatchObject({ encryption_key_name: KEY, settings: { tier: 'db-custom-2-7680', ip_configuration: { ipv4_enabled: false, ssl_mode: 'ENCRYPTED_ONLY' } } });
    }
    const report = pack.reports.get('test')!;
    expect(report.violations).toEqual([]);
    expect(report.suppressed.map((x) => `${x.ruleId} ${x.path}`).sort()).toEqual([
      'CKV_GCP_6 test/db/instance', 'CKV_GCP_6 test/db/replica-1', 'CKV_GCP_6 test/db/replica-2', 'MLP_SQL_PITR test/db/replica-1', 'MLP_SQL_PITR test/db/replica-2',
      'CKV_GCP_65 test/cluster/cluster', 'CKV_GCP_79 test/db/instance', 'CKV_GCP_79 test/db/replica-1', 'CKV_GCP_79 test/db/replica-2',
    ].sort());
  });

  test('POSTGRES_17 and a Google Groups security group pass CKV_GCP_79 and CKV_GCP_65 without suppressions; log_duration is on', () => {
    const base = baseStack({ rbacSecurityGroup: 'gke-security-groups@example.com' });
    new MetadataDatabase(base.stack, 'db', { instanceName: 'mlp-test-metadata', project: 'acme-ml-test', network: base.network, tier: 'db-custom-2-7680', databaseVersion: 'POSTGRES_17' });
    const pack = new PolicyPack();
    Aspects.of(base.stack).add(pack);
    const json = synthJson(base.stack);
    expect(onlyResource(json, 'google_container_cluster').authenticator_groups_config).toEqual({ security_group: 'gke-security-groups@example.com' });
    expect(onlyResource(json, 'google_sql_database_instance').settings.database_flags).toContainEqual({ name: 'log_duration', value: 'on' });
    const report = pack.reports.get('test')!;
    expect(report.violations).toEqual([]);
    expect(report.suppressed.map((x) => x.ruleId).sort()).toEqual(['CKV_GCP_6']);
  });

  test('refuses a key in another region, half a deny period, one over 90 days and replicas of shared-core tiers', () => {
    expect(errorOf(() => database({ kmsKeyName: 'projects/p/locations/us/keyRings/r/cryptoKeys/k' }))).toBe(
      "MetadataDatabase 'test/db': kmsKeyName is in location us, but Cloud SQL needs the key in the instance's region us-central1; create the key ring in us-central1.");
    expect(errorOf(() => database({ denyMaintenanceStartDate: '2026-11-20' }))).toBe(
      "MetadataDatabase 'test/db': denyMaintenanceStartDate and denyMaintenanceEndDate go together; set both or neither.");
    expect(errorOf(() => database({ denyMaintenanceStartDate: '2026-01-01', denyMaintenanceEndDate: '2026-06-01' }))).toBe(
      "MetadataDatabase 'test/db': the deny-maintenance period 2026-01-01..2026-06-01 is 151 days; Cloud SQL allows at most 90.");
    expect(errorOf(() => database({ tier: 'db-g1-small', readReplicas: 1 }))).toBe(
      "MetadataDatabase 'test/db': tier db-g1-small is shared-core and cannot have read replicas; use a db-custom-* tier or readReplicas 0.");
  });
});
