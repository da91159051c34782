// GpuNodePool: accelerator/machine validation, DWS queued provisioning and flex-start rules, taint, helpers.
import { Testing } from 'cdktf';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { GpuAccelerator } from '../../constructs/accelerators';
import { GpuNodePool, GpuNodePoolProps } from '../../constructs/gpu-node-pool';
import { baseStack, errorOf, onlyResource, synthJson } from './helpers';

function pool(props: Partial<GpuNodePoolProps> = {}, id = 'l4') {
  const base = baseStack();
  const gpu = new GpuNodePool(base.stack, id, {
    cluster: base.cluster,
    accelerator: GpuAccelerator.L4,
    machineType: 'g2-standard-8',
    zones: ['us-central1-a', 'us-central1-b'],
    maxNodes: 4,
    ...props,
  });
  return { ...base, gpu };
}

describe('GpuNodePool', () => {
  test('L4 pool has the accelerator, driver config, taint, labels and node locations', () => {
    const { stack } = pool({ driverVersion: 'LATEST', spot: true });
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(ContainerNodePool, {
      name: 'l4',
      node_locations: ['us-central1-a', 'us-central1-b'],
      initial_node_count: 0,
      autoscaling: { total_min_node_count: 0, total_max_node_count: 4, location_policy: 'ANY' },
      management: { auto_repair: true, auto_upgrade: true },
      // The jest adapter matches top-level keys partially; nested blocks need objectContaining.
      node_config: expect.objectContaining({
        machine_type: 'g2-standard-8',
        spot: true,
        guest_accelerator: [{ type: 'nvidia-l4', count: 1, gpu_driver_installation_config: { gpu_driver_version: 'LATEST' } }],
        taint: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
        labels: { 'ml-platform/accelerator': 'nvidia-l4', 'ml-platform/pool': 'l4' },
        workload_metadata_config: { mode: 'GKE_METADATA' },
        shielded_instance_config: { enable_secure_boot: true, enable_integrity_monitoring: true },
      }),
    });
  });

  test('GPU count comes from the machine type and sharing config is emitted', () => {
    const { stack, gpu } = pool({ machineType: 'g2-standard-48', gpuSharing: 'MPS', maxSharedClientsPerGpu: 4 });
    expect(gpu.gpusPerNode).toBe(4);
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np.node_config.guest_accelerator).toEqual([{
      type: 'nvidia-l4', count: 4,
      gpu_driver_installation_config: { gpu_driver_version: 'DEFAULT' },
      gpu_sharing_config: { gpu_sharing_strategy: 'MPS', max_shared_clients_per_gpu: 4 },
    }]);
    expect(np.autoscaling.location_policy).toBe('BALANCED');
  });

  test('workload helpers give tolerations, node selector and resource limits', () => {
    const { gpu } = pool({ machineType: 'g2-standard-24' });
    expect(gpu.tolerations()).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(gpu.nodeSelector()).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4' });
    expect(gpu.resourceLimits()).toEqual({ 'nvidia.com/gpu': '2' });
    expect(gpu.resourceLimits(1)).toEqual({ 'nvidia.com/gpu': '1' });
    expect(errorOf(() => gpu.resourceLimits(3))).toBe("GpuNodePool 'test/l4': a pod can request 1-2 GPUs on this pool, not 3.");
    expect(gpu.acceleratorName).toBe('L4');
  });

  test('refuses L4 on an n1 machine with the exact reason', () => {
    expect(errorOf(() => pool({ machineType: 'n1-standard-8' }))).toBe(
      "GpuNodePool 'test/l4': accelerator nvidia-l4 (L4) needs machine family g2, but machineType is n1-standard-8; "
      + 'set machineType to one of g2-standard-4, g2-standard-8, g2-standard-12, g2-standard-16, g2-standard-32, g2-standard-24, g2-standard-48, g2-standard-96 '
      + 'or pick an accelerator offered on n1 (nvidia-tesla-t4, nvidia-tesla-v100).',
    );
  });

  test('T4 on n1 validates the count and vCPU ceiling', () => {
    const { gpu } = pool({ accelerator: GpuAccelerator.T4, machineType: 'n1-standard-16', gpusPerNode: 2 }, 't4');
    expect(gpu.gpusPerNode).toBe(2);
    expect(errorOf(() => pool({ accelerator: GpuAccelerator.T4, machineType: 'n1-standard-8', gpusPerNode: 3 }, 't4'))).toBe(
      "GpuNodePool 'test/t4': nvidia-tesla-t4 (T4) attaches 1, 2, 4 GPUs per N1 node, not 3; set gpusPerNode to one of those.");
    expect(errorOf(() => pool({ accelerator: GpuAccelerator.V100, machineType: 'n1-standard-32' }, 'v100'))).toBe(
      "GpuNodePool 'test/v100': n1-standard-32 has 32 vCPUs but 1 x nvidia-tesla-v100 allows at most 12; use a smaller machine type or set gpusPerNode to 4 or 8.");
  });

  test('refuses a gpusPerNode that contradicts the machine type', () => {
    expect(errorOf(() => pool({ accelerator: GpuAccelerator.H100_80GB, machineType: 'a3-highgpu-8g', gpusPerNode: 4 }, 'h100'))).toBe(
      "GpuNodePool 'test/h100': machineType a3-highgpu-8g always has 8 x nvidia-h100-80gb, but gpusPerNode is 4; remove gpusPerNode or set it to 8.");
  });

  test('queued provisioning: no reservation, min 0, ANY, auto-repair off', () => {
    const { stack } = pool({ accelerator: GpuAccelerator.H100_80GB, machineType: 'a3-highgpu-8g', queuedProvisioning: true }, 'h100');
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np.queued_provisioning).toEqual({ enabled: true });
    expect(np.node_config.reservation_affinity).toEqual({ consume_reservation_type: 'NO_RESERVATION' });
    expect(np.autoscaling).toEqual({ total_min_node_count: 0, total_max_node_count: 4, location_policy: 'ANY' });
    expect(np.management).toEqual({ auto_repair: false, auto_upgrade: true });
    expect(np.placement_policy).toBeUndefined();
  });

  test('refuses queued provisioning with a reservation', () => {
    expect(errorOf(() => pool({ queuedProvisioning: true, reservationAffinity: 'SPECIFIC_RESERVATION', reservationName: 'l4-res' }))).toBe(
      "GpuNodePool 'test/l4': queued provisioning (Dynamic Workload Scheduler) cannot consume reservations, but reservationAffinity is SPECIFIC_RESERVATION; "
      + 'remove reservationAffinity/reservationName or set queuedProvisioning to false.');
    expect(errorOf(() => pool({ queuedProvisioning: true, reservationAffinity: 'ANY_RESERVATION' }))).toContain('reservationAffinity is ANY_RESERVATION');
  });

  test('refuses the other queued provisioning and flex-start violations', () => {
    expect(errorOf(() => pool({ queuedProvisioning: true, minNodes: 1 }))).toBe(
      "GpuNodePool 'test/l4': queued provisioning needs minNodes 0 (nodes exist only while a ProvisioningRequest is admitted), got 1; set minNodes to 0.");
    expect(errorOf(() => pool({ queuedProvisioning: true, compactPlacement: true, zones: ['us-central1-a'] }))).toBe(
      "GpuNodePool 'test/l4': queued provisioning does not support COMPACT placement; remove compactPlacement or set queuedProvisioning to false.");
    expect(errorOf(() => pool({ flexStart: true, spot: true }))).toBe("GpuNodePool 'test/l4': flex-start VMs cannot be spot VMs; remove spot or flexStart.");
    expect(errorOf(() => pool({ queuedProvisioning: true, flexStart: true }))).toContain('choose one');
    expect(errorOf(() => pool({ compactPlacement: true }))).toBe(
      "GpuNodePool 'test/l4': COMPACT placement needs exactly one zone, got 2 (us-central1-a, us-central1-b); list a single zone in zones.");
  });

  test('flex-start turns auto-repair off, is never spot and consumes no reservation', () => {
    const { stack } = pool({ accelerator: GpuAccelerator.A100_40GB, machineType: 'a2-highgpu-1g', flexStart: true }, 'a100');
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np.node_config.flex_start).toBe(true);
    expect(np.node_config.reservation_affinity).toEqual({ consume_reservation_type: 'NO_RESERVATION' });
    expect(np.node_config.spot).toBeUndefined();
    expect(np.management.auto_repair).toBe(false);
  });

  test('flex-start refuses any reservation affinity but NO_RESERVATION', () => {
    expect(errorOf(() => pool({ flexStart: true, reservationAffinity: 'ANY_RESERVATION' }))).toBe(
      "GpuNodePool 'test/l4': flex-start VMs cannot consume reservations (GKE needs reservation affinity NO_RESERVATION), but reservationAffinity is ANY_RESERVATION; "
      + 'remove reservationAffinity/reservationName or set flexStart to false.');
    expect(errorOf(() => pool({ flexStart: true, reservationAffinity: 'SPECIFIC_RESERVATION', reservationName: 'r' }))).toContain('reservationAffinity is SPECIFIC_RESERVATION');
    const { stack } = pool({ flexStart: true, reservationAffinity: 'NO_RESERVATION' });
    expect(onlyResource(synthJson(stack), 'google_container_node_pool').node_config.reservation_affinity).toEqual({ consume_reservation_type: 'NO_RESERVATION' });
  });

  test('specific reservation and compact placement in one zone', () => {
    const { stack } = pool({ zones: ['us-central1-c'], compactPlacement: true, reservationAffinity: 'SPECIFIC_RESERVATION', reservationName: 'l4-res' });
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np.placement_policy).toEqual({ type: 'COMPACT' });
    expect(np.node_config.reservation_affinity).toEqual({
      consume_reservation_type: 'SPECIFIC_RESERVATION', key: 'compute.googleapis.com/reservation-name', values: ['l4-res'],
    });
  });

  test('zones must be in the cluster region and unique; sharing needs client count', () => {
    expect(errorOf(() => pool({ zones: ['europe-west4-a'] }))).toBe("GpuNodePool 'test/l4': zones zone 'europe-west4-a' is not in the cluster's region us-central1.");
    expect(errorOf(() => pool({ zones: ['us-central1-a', 'us-central1-a'] }))).toBe("GpuNodePool 'test/l4': zones lists a zone twice (us-central1-a, us-central1-a).");
    expect(errorOf(() => pool({ zones: [] }))).toBe("GpuNodePool 'test/l4': zones is empty; list at least one zone.");
    expect(errorOf(() => pool({ gpuSharing: 'TIME_SHARING' }))).toBe("GpuNodePool 'test/l4': gpuSharing TIME_SHARING needs maxSharedClientsPerGpu between 2 and 48 (got none).");
    expect(errorOf(() => pool({ minNodes: 5 }))).toBe("GpuNodePool 'test/l4': minNodes 5 must be an integer between 0 and maxNodes (4).");
    expect(errorOf(() => pool({ name: 'L4_Pool' }))).toContain("node pool name 'L4_Pool' is invalid");
  });
});
