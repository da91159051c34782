// MlNetwork, MlCluster and CpuNodePool: synthesized properties (cdktf matchers) and exact validation errors.
import { Testing } from 'cdktf';
import { ContainerCluster } from '@cdktf/provider-google/lib/container-cluster';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { ServiceNetworkingConnection } from '@cdktf/provider-google/lib/service-networking-connection';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat';
import { CpuNodePool } from '../../constructs/cpu-node-pool';
import { MlNetwork } from '../../constructs/network';
import { Json, baseStack, errorOf, onlyResource, resourcesOf, synthJson } from './helpers';

describe('MlNetwork', () => {
  test('custom-mode VPC, subnet with pod/service ranges, PGA, flow logs, NAT and private service access', () => {
    const { stack } = baseStack();
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(ComputeSubnetwork, {
      ip_cidr_range: '10.0.0.0/20',
      private_ip_google_access: true,
      secondary_ip_range: [{ range_name: 'pods', ip_cidr_range: '10.4.0.0/14' }, { range_name: 'services', ip_cidr_range: '10.8.0.0/20' }],
      log_config: { aggregation_interval: 'INTERVAL_5_SEC', flow_sampling: 0.5, metadata: 'INCLUDE_ALL_METADATA' },
    });
    expect(synth).toHaveResourceWithProperties(ServiceNetworkingConnection, { service: 'servicenetworking.googleapis.com', deletion_policy: 'ABANDON' });
    expect(synth).toHaveResourceWithProperties(ComputeRouterNat, { source_subnetwork_ip_ranges_to_nat: 'LIST_OF_SUBNETWORKS', log_config: { enable: true, filter: 'ERRORS_ONLY' } });
    const json = synthJson(stack);
    expect(onlyResource(json, 'google_compute_network').auto_create_subnetworks).toBe(false);
    expect(onlyResource(json, 'google_compute_global_address')).toMatchObject({ purpose: 'VPC_PEERING', address_type: 'INTERNAL', address: '10.10.0.0', prefix_length: 16 });
  });

  test('refuses overlapping or malformed ranges', () => {
    const { stack } = baseStack();
    const props = { name: 'n2', region: 'us-central1', subnetCidr: '10.0.0.0/20', podsCidr: '10.4.0.0/14', servicesCidr: '10.8.0.0/20', privateServiceAccessCidr: '10.10.0.0/16' };
    expect(errorOf(() => new MlNetwork(stack, 'overlap', { ...props, servicesCidr: '10.0.8.0/24' }))).toBe(
      "MlNetwork 'test/overlap': subnetCidr 10.0.0.0/20 overlaps servicesCidr 10.0.8.0/24; give each range its own address space.");
    expect(errorOf(() => new MlNetwork(stack, 'bad', { ...props, podsCidr: '10.4.0.0' }))).toBe("MlNetwork 'test/bad': podsCidr '10.4.0.0' is not an IPv4 CIDR like 10.0.0.0/20.");
    expect(errorOf(() => new MlNetwork(stack, 'small', { ...props, privateServiceAccessCidr: '10.10.0.0/28' }))).toBe(
      "MlNetwork 'test/small': privateServiceAccessCidr 10.10.0.0/28 is smaller than /24; private service access needs a /24 or larger range.");
  });
});

describe('MlCluster', () => {
  test('private, hardened GKE Standard cluster', () => {
    const { stack } = baseStack({ maintenanceExclusions: [{ name: 'freeze', startTime: '2026-12-20T00:00:00Z', endTime: '2027-01-03T00:00:00Z', scope: 'NO_UPGRADES' }] });
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(ContainerCluster, {
      name: 'mlp-test',
      location: 'us-central1',
      remove_default_node_pool: true,
      networking_mode: 'VPC_NATIVE',
      ip_allocation_policy: { cluster_secondary_range_name: 'pods', services_secondary_range_name: 'services' },
      private_cluster_config: { enable_private_nodes: true, enable_private_endpoint: false, master_ipv4_cidr_block: '172.16.0.0/28', master_global_access_config: { enabled: true } },
      master_authorized_networks_config: { gcp_public_cidrs_access_enabled: false, cidr_blocks: [{ cidr_block: '203.0.113.0/24', display_name: 'vpn' }] },
      workload_identity_config: { workload_pool: 'acme-ml-test.svc.id.goog' },
      release_channel: { channel: 'REGULAR' },
      datapath_provider: 'ADVANCED_DATAPATH',
      enable_shielded_nodes: true,
      binary_authorization: { evaluation_mode: 'PROJECT_SINGLETON_POLICY_ENFORCE' },
      addons_config: expect.objectContaining({ gcs_fuse_csi_driver_config: { enabled: true } }),
      deletion_protection: true,
      maintenance_policy: {
        recurring_window: { start_time: '2024-01-06T02:00:00Z', end_time: '2024-01-06T08:00:00Z', recurrence: 'FREQ=WEEKLY;BYDAY=SA,SU' },
        maintenance_exclusion: [{ exclusion_name: 'freeze', start_time: '2026-12-20T00:00:00Z', end_time: '2027-01-03T00:00:00Z', exclusion_options: { scope: 'NO_UPGRADES' } }],
      },
    });
    const json = synthJson(stack);
    const cluster = onlyResource(json, 'google_container_cluster');
    expect(cluster.node_config.workload_metadata_config).toEqual({ mode: 'GKE_METADATA' });
    expect(cluster.node_config.service_account).toMatch(/^\$\{google_service_account\.cluster_node-sa_.*\.email\}$/);
    expect(cluster.logging_config.enable_components).toEqual(['SYSTEM_COMPONENTS', 'WORKLOADS']);
    expect(resourcesOf(json, 'google_project_iam_member').map((m) => m.role)).toEqual(['roles/container.defaultNodeServiceAccount']);
    expect(onlyResource(json, 'google_binary_authorization_policy').default_admission_rule).toEqual({ evaluation_mode: 'ALWAYS_DENY', enforcement_mode: 'DRYRUN_AUDIT_LOG_ONLY' });
  });

  test('zonal cluster in a zone of the region', () => {
    const { stack } = baseStack({ location: 'us-central1-a', deletionProtection: false, binaryAuthorization: 'DISABLED' });
    const json = synthJson(stack);
    expect(onlyResource(json, 'google_container_cluster')).toMatchObject({ location: 'us-central1-a', deletion_protection: false, binary_authorization: { evaluation_mode: 'DISABLED' } });
    expect(resourcesOf(json, 'google_binary_authorization_policy')).toHaveLength(0);
  });

  test('refuses an authorized network of 0.0.0.0/0', () => {
    expect(errorOf(() => baseStack({ masterAuthorizedNetworks: [{ cidr: '0.0.0.0/0', displayName: 'anywhere' }] }))).toBe(
      "MlCluster 'test/cluster': masterAuthorizedNetworks entry 'anywhere' is 0.0.0.0/0, which opens the control plane to the whole internet; list specific CIDRs (VPN, CI runners) instead.");
  });

  test('refuses other invalid cluster props', () => {
    expect(errorOf(() => baseStack({ masterAuthorizedNetworks: [] }))).toBe(
      "MlCluster 'test/cluster': masterAuthorizedNetworks is empty; list the CIDRs (VPN, CI runners, bastion) that may reach the control plane.");
    expect(errorOf(() => baseStack({ location: 'europe-west4' }))).toBe(
      "MlCluster 'test/cluster': location 'europe-west4' is neither the network's region us-central1 nor a zone in it; use us-central1 (regional) or us-central1-a/b/c (zonal).");
    expect(errorOf(() => baseStack({ masterIpv4CidrBlock: '10.0.0.0/28' }))).toBe(
      "MlCluster 'test/cluster': masterIpv4CidrBlock 10.0.0.0/28 overlaps the network's subnet range 10.0.0.0/20; pick an unused /28.");
    expect(errorOf(() => baseStack({ binaryAuthorization: 'ENFORCE' }))).toBe(
      "MlCluster 'test/cluster': binaryAuthorization 'ENFORCE' without binaryAuthorizationAttestors would block every workload; add attestors or use 'AUDIT'.");
    expect(errorOf(() => baseStack({ labels: { Team: 'x' } }))).toContain("label key 'Team' is invalid");
    expect(errorOf(() => baseStack({ binaryAuthorization: 'ENFORCE', binaryAuthorizationAttestors: ['built-by-cloud-build'] }))).toBe(
      "MlCluster 'test/cluster': binaryAuthorizationAttestors entry 'built-by-cloud-build' is not an attestor resource name; use projects/<project>/attestors/<name>.");
    expect(errorOf(() => baseStack({ maintenanceExclusions: [{ name: 'q4', startTime: '2026-11-01T00:00:00Z', endTime: '2027-01-05T00:00:00Z', scope: 'NO_UPGRADES' }] }))).toBe(
      "MlCluster 'test/cluster': maintenance exclusion 'q4' (NO_UPGRADES) is longer than the 30 days GKE allows; shorten it or use scope NO_MINOR_UPGRADES / NO_MINOR_OR_NODE_UPGRADES.");
  });

  test('ENFORCE with attestors requires attestation; a long minor-upgrade freeze is allowed; no exclusions emits none', () => {
    const attestor = 'projects/acme-ml-test/attestors/built-by-cloud-build';
    const { stack } = baseStack({
      binaryAuthorization: 'ENFORCE', binaryAuthorizationAttestors: [attestor],
      maintenanceExclusions: [{ name: 'q4', startTime: '2026-11-01T00:00:00Z', endTime: '2027-01-05T00:00:00Z', scope: 'NO_MINOR_UPGRADES' }],
    });
    const json = synthJson(stack);
    expect(onlyResource(json, 'google_binary_authorization_policy').default_admission_rule).toEqual({
      evaluation_mode: 'REQUIRE_ATTESTATION', enforcement_mode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', require_attestations_by: [attestor],
    });
    expect(onlyResource(json, 'google_container_cluster').maintenance_policy.maintenance_exclusion).toHaveLength(1);
    expect(onlyResource(synthJson(baseStack().stack), 'google_container_cluster').maintenance_policy.maintenance_exclusion).toBeUndefined();
  });

  test('backup enables gkebackup.googleapis.com (never disabled on destroy) and the backup plan waits for it', () => {
    const json = synthJson(baseStack({ backup: true }).stack);
    const api = onlyResource(json, 'google_project_service');
    expect(api).toMatchObject({ service: 'gkebackup.googleapis.com', project: 'acme-ml-test', disable_on_destroy: false });
    expect(onlyResource(json, 'google_gke_backup_backup_plan').depends_on).toEqual([expect.stringMatching(/^google_project_service\.project-services_gkebackup-acme-ml-test_/)]);
    expect(resourcesOf(synthJson(baseStack().stack), 'google_project_service')).toEqual([]);
  });

  test('a secrets encryption key is granted to the GKE service agent before the cluster is created', () => {
    const key = 'projects/acme-ml-test/locations/us-central1/keyRings/r/cryptoKeys/gke';
    const json = synthJson(baseStack({ secretsEncryptionKey: key }).stack);
    const grant = onlyResource(json, 'google_kms_crypto_key_iam_member');
    expect(grant).toMatchObject({ crypto_key_id: key, role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter' });
    expect(grant.member).toMatch(/^serviceAccount:service-\$\{data\.google_project\.cluster_project_[A-Z0-9]+\.number\}@container-engine-robot\.iam\.gserviceaccount\.com$/);
    expect(Object.values(json.data.google_project)).toEqual([expect.objectContaining({ project_id: 'acme-ml-test' })]);
    const cluster = onlyResource(json, 'google_container_cluster');
    expect(cluster.database_encryption).toEqual({ state: 'ENCRYPTED', key_name: key });
    expect(cluster.depends_on).toEqual([expect.stringMatching(/^google_kms_crypto_key_iam_member\.cluster_kms-gke-agent_/)]);
    const plain = synthJson(baseStack().stack);
    expect(resourcesOf(plain, 'google_kms_crypto_key_iam_member')).toEqual([]);
    expect(onlyResource(plain, 'google_container_cluster').depends_on).toBeUndefined();
  });
});

describe('CpuNodePool', () => {
  test('general pool with hardened node config and autoscaling', () => {
    const { stack, cluster } = baseStack();
    const cpu = new CpuNodePool(stack, 'general', { cluster, machineType: 'e2-standard-4', maxNodes: 3, taints: [{ key: 'dedicated', value: 'pipelines', effect: 'NO_SCHEDULE' }] });
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np).toMatchObject({
      name: 'general',
      autoscaling: { total_min_node_count: 1, total_max_node_count: 3, location_policy: 'BALANCED' },
      management: { auto_repair: true, auto_upgrade: true },
      node_config: { machine_type: 'e2-standard-4', image_type: 'COS_CONTAINERD', workload_metadata_config: { mode: 'GKE_METADATA' } },
    });
    expect(np.node_config.guest_accelerator).toBeUndefined();
    expect(cpu.tolerations()).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'pipelines', effect: 'NoSchedule' }]);
    expect(cpu.nodeSelector()).toEqual({ 'cloud.google.com/gke-nodepool': 'general' });
  });

  test('refuses accelerator machine types and reserved taints', () => {
    const { stack, cluster } = baseStack();
    expect(errorOf(() => new CpuNodePool(stack, 'gpu', { cluster, machineType: 'g2-standard-8', maxNodes: 1 }))).toBe(
      "CpuNodePool 'test/gpu': machineType g2-standard-8 is an accelerator machine (g2); use GpuNodePool or TpuNodePool for it.");
    expect(errorOf(() => new CpuNodePool(stack, 'cpu', { cluster, machineType: 'e2-standard-4', maxNodes: 1, taints: [{ key: 'nvidia.com/gpu', value: 'x', effect: 'NO_SCHEDULE' }] }))).toBe(
      "CpuNodePool 'test/cpu': taint nvidia.com/gpu is reserved for accelerator pools; use another key.");
  });

  test('boot disk type follows the machine series: N4/C4 take Hyperdisk only, E2 Persistent Disk only, unknown series refused', () => {
    const { stack, cluster } = baseStack();
    new CpuNodePool(stack, 'n4', { cluster, machineType: 'n4-standard-8', maxNodes: 1 });
    new CpuNodePool(stack, 'c3', { cluster, machineType: 'c3-standard-8', maxNodes: 1, diskType: 'pd-ssd' });
    const disks = Object.fromEntries((Object.values(synthJson(stack).resource.google_container_node_pool) as Json[]).map((p) => [p.name, p.node_config.disk_type]));
    expect(disks).toEqual({ n4: 'hyperdisk-balanced', c3: 'pd-ssd' });
    expect(errorOf(() => new CpuNodePool(stack, 'e2', { cluster, machineType: 'e2-standard-4', maxNodes: 1, diskType: 'hyperdisk-balanced' }))).toBe(
      "CpuNodePool 'test/e2': machineType e2-standard-4 does not boot from hyperdisk-balanced; set diskType to pd-balanced or pd-standard or pd-ssd (or remove diskType for pd-balanced).");
    expect(errorOf(() => new CpuNodePool(stack, 'c4', { cluster, machineType: 'c4-standard-8', maxNodes: 1, diskType: 'pd-balanced' }))).toContain('set diskType to hyperdisk-balanced');
    expect(errorOf(() => new CpuNodePool(stack, 'x9', { cluster, machineType: 'x9-standard-8', maxNodes: 1 }))).toBe(
      "CpuNodePool 'test/x9': machine series x9 (x9-standard-8) is not in the boot disk catalogue; use one of e2, n1, n2, n2d, t2d, t2a, c2, c2d, m1, m2, c3, c3d, m3, n4, c4, c4a, c4d.");
  });
});
