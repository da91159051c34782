// TpuSlice / TpuNodePool: version x topology -> machine type and node count, COMPACT placement with topology, errors.
import { Testing } from 'cdktf';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { TpuNodePool, TpuNodePoolProps, TpuSlice } from '../../constructs/tpu-node-pool';
import { baseStack, errorOf, onlyResource, synthJson } from './helpers';

function pool(props: Partial<TpuNodePoolProps> = {}, id = 'tpu') {
  const base = baseStack();
  const tpu = new TpuNodePool(base.stack, id, { cluster: base.cluster, version: 'v5e', topology: '2x4', zone: 'us-central1-a', ...props });
  return { ...base, tpu };
}

describe('TpuSlice', () => {
  test('v5e 2x4 defaults to one single-host ct5lp-hightpu-8t VM', () => {
    const s = TpuSlice.of('v5e', '2x4');
    expect([s.machineType, s.chipsPerVm, s.nodeCount, s.chips, s.multiHost]).toEqual(['ct5lp-hightpu-8t', 8, 1, 8, false]);
  });
  test('v5e 2x4 with 4 chips per VM is a 2-node multi-host slice', () => {
    const s = TpuSlice.of('v5e', '2x4', { chipsPerVm: 4 });
    expect([s.machineType, s.nodeCount, s.multiHost]).toEqual(['ct5lp-hightpu-4t', 2, true]);
  });
  test('v5p 2x2x2 is 8 chips on 2 ct5p-hightpu-4t VMs; v6e 4x4 is 4 ct6e-standard-4t VMs', () => {
    const v5p = TpuSlice.of('v5p', '2x2x2');
    expect([v5p.machineType, v5p.chips, v5p.nodeCount, v5p.multiHost]).toEqual(['ct5p-hightpu-4t', 8, 2, true]);
    const v6e = TpuSlice.of('v6e', '4x4');
    expect([v6e.machineType, v6e.chips, v6e.nodeCount]).toEqual(['ct6e-standard-4t', 16, 4]);
  });
  test('rejects wrong dimensions and unsupported topologies with the reason', () => {
    expect(errorOf(() => TpuSlice.of('v5p', '2x4'))).toBe("TpuSlice: TPU v5p topology must have 3 dimensions (AxBxC), got '2x4'; use e.g. 2x2x1, 2x2x2, 2x2x4, 2x4x4.");
    expect(errorOf(() => TpuSlice.of('v5e', '3x3'))).toBe('TpuSlice: TPU v5e does not support topology 3x3; use one of 1x1, 2x2, 2x4, 4x4, 4x8, 8x8, 8x16, 16x16.');
  });
});

describe('TpuNodePool', () => {
  test('multi-host v5p slice: COMPACT placement with topology, single zone, node count, taint, selector', () => {
    const { stack, tpu } = pool({ version: 'v5p', topology: '2x2x2' });
    expect(Testing.synth(stack)).toHaveResourceWithProperties(ContainerNodePool, {
      name: 'tpu',
      node_locations: ['us-central1-a'],
      node_count: 2,
      placement_policy: { type: 'COMPACT', tpu_topology: '2x2x2' },
      node_config: expect.objectContaining({
        machine_type: 'ct5p-hightpu-4t',
        taint: [{ key: 'google.com/tpu', value: 'present', effect: 'NO_SCHEDULE' }],
      }),
    });
    expect(tpu.nodeSelector()).toEqual({ 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5p-slice', 'cloud.google.com/gke-tpu-topology': '2x2x2' });
    expect(tpu.tolerations()).toEqual([{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(tpu.resourceLimits()).toEqual({ 'google.com/tpu': '4' });
  });

  test('single-host slices keep the placement policy and topology (never dropped)', () => {
    const { stack } = pool({ version: 'v6e', topology: '2x2' });
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np.placement_policy).toEqual({ type: 'COMPACT', tpu_topology: '2x2' });
    expect(np.node_config.machine_type).toBe('ct6e-standard-4t');
    expect(np.node_count).toBe(1);
  });

  test('scaleToZero autoscales the whole slice between 0 and its node count', () => {
    const { stack } = pool({ version: 'v5e', topology: '4x4', scaleToZero: true, spot: true });
    const np = onlyResource(synthJson(stack), 'google_container_node_pool');
    expect(np.autoscaling).toEqual({ min_node_count: 0, max_node_count: 4, location_policy: 'ANY' });
    expect(np.node_count).toBeUndefined();
    expect(np.initial_node_count).toBe(0);
    expect(np.node_config.spot).toBe(true);
  });

  test('refuses a topology that does not match the node count', () => {
    expect(errorOf(() => pool({ version: 'v5p', topology: '2x2x2', nodeCount: 3 }))).toBe(
      "TpuNodePool 'test/tpu': TPU v5p topology 2x2x2 has 8 chips at 4 chips per VM (ct5p-hightpu-4t), so the slice needs 2 nodes, but nodeCount is 3; set nodeCount to 2 or leave it unset.");
    expect(errorOf(() => pool({ version: 'v5e', topology: '2x4', nodeCount: 2 }))).toBe(
      "TpuNodePool 'test/tpu': TPU v5e topology 2x4 has 8 chips at 8 chips per VM (ct5lp-hightpu-8t), so the slice needs 1 node, but nodeCount is 2; set nodeCount to 1 or leave it unset.");
  });

  test('nodeCount matching the multi-host shape is accepted', () => {
    const { tpu } = pool({ version: 'v5e', topology: '2x4', chipsPerVm: 4, nodeCount: 2 });
    expect(tpu.slice.nodeCount).toBe(2);
  });

  test('refuses zones outside the region, bad chips per VM, spot with reservation', () => {
    expect(errorOf(() => pool({ zone: 'us-east5-a' }))).toBe("TpuNodePool 'test/tpu': zone zone 'us-east5-a' is not in the cluster's region us-central1.");
    expect(errorOf(() => pool({ chipsPerVm: 2 }))).toBe("TpuNodePool 'test/tpu': TPU v5e topology 2x4 runs on 8 or 4 chips per VM, not 2; set chipsPerVm to one of those or leave it unset.");
    expect(errorOf(() => pool({ spot: true, reservationName: 'tpu-res' }))).toBe("TpuNodePool 'test/tpu': spot TPUs cannot consume a reservation; remove spot or reservationName.");
  });
});
