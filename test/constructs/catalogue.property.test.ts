// Property-based tests over the GPU and TPU catalogues: every accepted combination synthesizes with the expected
// shape, every rejected one names the reason and the fix.
import fc from 'fast-check';
import { TerraformStack } from 'cdktf';
import {
  GPU_ACCELERATOR_TYPES, GPU_CATALOGUE, GpuAcceleratorType, machineTypesFor, resolveGpu,
} from '../../constructs/accelerators';
import { TPU_CATALOGUE, TPU_VERSIONS, TpuVersion, exampleTopologies, resolveTpuSlice } from '../../constructs/tpu';
import { BootDiskType } from '../../constructs/accelerators';
import { GpuNodePool } from '../../constructs/gpu-node-pool';
import { TpuNodePool } from '../../constructs/tpu-node-pool';
import { ConstructValidationError } from '../../constructs/errors';
import { baseStack, onlyResource, synthJson } from './helpers';

const ALL_GPU_MACHINES = [...new Set(GPU_ACCELERATOR_TYPES.flatMap((t) => machineTypesFor(t)))];
const accelerator = fc.constantFrom(...GPU_ACCELERATOR_TYPES);
const machineType = fc.oneof(fc.constantFrom(...ALL_GPU_MACHINES), fc.constantFrom('e2-standard-4', 'n2-standard-8', 'g2-standard-2', 'a2-highgpu-3g', 'n1-standard-3', 'n1-highcpu-1'));
const count = fc.option(fc.integer({ min: 0, max: 17 }), { nil: undefined });

function gpuPoolJson(type: GpuAcceleratorType, machine: string, gpus?: number) {
  const { stack, cluster } = baseStack();
  new GpuNodePool(stack, 'gpu', { cluster, accelerator: type, machineType: machine, gpusPerNode: gpus, zones: ['us-central1-a'], maxNodes: 2 });
  return onlyResource(synthJson(stack as TerraformStack), 'google_container_node_pool');
}

describe('GPU catalogue properties', () => {
  test('every catalogued machine type synthesizes (all in one stack) with its GPU count', () => {
    const { stack, cluster } = baseStack();
    const expected = new Map<string, { type: string; count: number }>();
    GPU_ACCELERATOR_TYPES.forEach((type, ti) => {
      machineTypesFor(type).forEach((machine, mi) => {
        // N1: the smallest attachable count whose vCPU ceiling fits the machine; fixed families: the machine decides.
        const vcpus = Number(machine.split('-')[2]);
        const gpus = GPU_CATALOGUE[type].attachable.find((a) => a.maxVcpus >= vcpus)?.gpus;
        const r = resolveGpu(type, machine, gpus);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const name = `g${ti}-${mi}`;
        new GpuNodePool(stack, name, { cluster, accelerator: type, machineType: machine, gpusPerNode: gpus, zones: ['us-central1-a'], maxNodes: 1 });
        expected.set(name, { type, count: r.gpusPerNode });
      });
    });
    const pools = Object.values(synthJson(stack).resource.google_container_node_pool) as { name: string; node_config: { guest_accelerator: { type: string; count: number }[] } }[];
    expect(pools).toHaveLength(expected.size);
    for (const p of pools) {
      expect(p.node_config.guest_accelerator[0]).toMatchObject(expected.get(p.name)!);
    }
    for (const type of GPU_ACCELERATOR_TYPES) {
      for (const m of GPU_CATALOGUE[type].fixedMachines) expect(resolveGpu(type, m.machineType)).toMatchObject({ ok: true, gpusPerNode: m.gpus });
    }
  });

  test('accepted combinations synthesize a tainted pool with matching guest accelerator; rejected ones name the reason', () => {
    fc.assert(fc.property(accelerator, machineType, count, (type, machine, gpus) => {
      const r = resolveGpu(type, machine, gpus);
      if (r.ok) {
        const np = gpuPoolJson(type, machine, gpus);
        expect(np.node_config.machine_type).toBe(machine);
        expect(np.node_config.guest_accelerator).toEqual([expect.objectContaining({ type, count: r.gpusPerNode })]);
        expect(np.node_config.taint).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }]);
        expect(machine.split('-')[0]).toBe(GPU_CATALOGUE[type].machineFamily);
      } else {
        // The reason names what is wrong (machine type or count) and what to do.
        expect(r.reason).toMatch(new RegExp(`${machine.replace(/[-]/g, '\\-')}|${gpus}`));
        expect(r.reason).toMatch(/\b(set|use|remove|pick)\b/);
        let thrown: unknown;
        try { gpuPoolJson(type, machine, gpus); } catch (e) { thrown = e; }
        expect(thrown).toBeInstanceOf(ConstructValidationError);
        expect((thrown as Error).message).toBe(`GpuNodePool 'test/gpu': ${r.reason}`);
      }
    }), { numRuns: 25, seed: 42 });
  });

  test('every machine boots from its series\' first disk type by default; A3 Ultra and A4 from Hyperdisk Balanced', () => {
    const { stack, cluster } = baseStack();
    GPU_ACCELERATOR_TYPES.forEach((type, i) => {
      new GpuNodePool(stack, `d${i}`, { cluster, accelerator: type, machineType: machineTypesFor(type)[0], zones: ['us-central1-a'], maxNodes: 1 });
    });
    const pools = Object.values(synthJson(stack).resource.google_container_node_pool) as { name: string; node_config: { disk_type: string } }[];
    const byType = Object.fromEntries(pools.map((p) => [GPU_ACCELERATOR_TYPES[Number(p.name.slice(1))], p.node_config.disk_type]));
    for (const type of GPU_ACCELERATOR_TYPES) expect(byType[type]).toBe(GPU_CATALOGUE[type].bootDiskTypes[0]);
    expect(byType['nvidia-h200-141gb']).toBe('hyperdisk-balanced');
    expect(byType['nvidia-b200']).toBe('hyperdisk-balanced');
    expect(byType['nvidia-l4']).toBe('pd-balanced');
  });

  test('a boot disk type outside the machine series\' list is refused with the allowed ones', () => {
    const all: BootDiskType[] = ['pd-standard', 'pd-balanced', 'pd-ssd', 'hyperdisk-balanced'];
    fc.assert(fc.property(accelerator, fc.constantFrom(...all), (type, disk) => {
      const machine = machineTypesFor(type)[0];
      const allowed = GPU_CATALOGUE[type].bootDiskTypes;
      const { stack, cluster } = baseStack();
      const build = () => new GpuNodePool(stack, 'gpu', { cluster, accelerator: type, machineType: machine, zones: ['us-central1-a'], maxNodes: 1, diskType: disk });
      if (allowed.includes(disk)) {
        build();
        expect(onlyResource(synthJson(stack), 'google_container_node_pool').node_config.disk_type).toBe(disk);
      } else {
        expect(build).toThrow(`GpuNodePool 'test/gpu': machineType ${machine} does not boot from ${disk}; set diskType to ${allowed.join(' or ')} (or remove diskType for ${allowed[0]}).`);
      }
    }), { numRuns: 40, seed: 5 });
  });

  test('an accelerator never resolves on another family', () => {
    fc.assert(fc.property(accelerator, accelerator, (a, b) => {
      fc.pre(GPU_CATALOGUE[a].machineFamily !== GPU_CATALOGUE[b].machineFamily);
      const machine = machineTypesFor(b)[0];
      const r = resolveGpu(a, machine);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toContain(`needs machine family ${GPU_CATALOGUE[a].machineFamily}, but machineType is ${machine}`);
    }), { numRuns: 100, seed: 7 });
  });
});

const version = fc.constantFrom(...TPU_VERSIONS);
const topology = fc.oneof(
  fc.constantFrom(...new Set(TPU_VERSIONS.flatMap((v) => exampleTopologies(v)))),
  fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 })).map(([a, b]) => `${a}x${b}`),
  fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 })).map(([a, b, c]) => `${a}x${b}x${c}`),
);

describe('TPU catalogue properties', () => {
  test('every example topology resolves consistently (chips = nodes x chips per VM, machine type of the version)', () => {
    for (const v of TPU_VERSIONS) {
      for (const t of exampleTopologies(v)) {
        const r = resolveTpuSlice(v, t);
        expect(r.ok).toBe(true);
        if (!r.ok) continue;
        expect(r.nodeCount * r.chipsPerVm).toBe(r.chips);
        expect(r.chips).toBe(t.split('x').map(Number).reduce((x, y) => x * y, 1));
        const spec = TPU_CATALOGUE[v];
        expect([spec.multiHostMachineType, ...spec.singleHost.map((s) => s.machineType)]).toContain(r.machineType);
        expect(r.multiHost).toBe(r.nodeCount > 1);
      }
    }
  });

  test('accepted (version, topology) pairs synthesize COMPACT placement with the topology; rejected ones name the reason', () => {
    fc.assert(fc.property(version, topology, (v: TpuVersion, t: string) => {
      const r = resolveTpuSlice(v, t);
      const { stack, cluster } = baseStack();
      const build = () => new TpuNodePool(stack, 'tpu', { cluster, version: v, topology: t, zone: 'us-central1-b' });
      if (r.ok) {
        build();
        const np = onlyResource(synthJson(stack), 'google_container_node_pool');
        expect(np.placement_policy).toEqual({ type: 'COMPACT', tpu_topology: t });
        expect(np.node_count).toBe(r.nodeCount);
        expect(np.node_locations).toEqual(['us-central1-b']);
        expect(r.chips).toBeLessThanOrEqual(TPU_CATALOGUE[v].maxChips);
      } else {
        expect(r.reason).toContain(`TPU ${v}`);
        expect(r.reason).toMatch(/\buse\b/);
        expect(build).toThrow(`TpuNodePool 'test/tpu': ${r.reason}`);
      }
    }), { numRuns: 25, seed: 1234 });
  });

  test('TPU v6e boots from Hyperdisk Balanced and refuses Persistent Disk; v5e defaults to pd-balanced', () => {
    const v6e = baseStack();
    new TpuNodePool(v6e.stack, 'tpu', { cluster: v6e.cluster, version: 'v6e', topology: '2x2', zone: 'us-central1-b' });
    expect(onlyResource(synthJson(v6e.stack), 'google_container_node_pool').node_config.disk_type).toBe('hyperdisk-balanced');
    const bad = baseStack();
    expect(() => new TpuNodePool(bad.stack, 'tpu', { cluster: bad.cluster, version: 'v6e', topology: '2x2', zone: 'us-central1-b', diskType: 'pd-balanced' })).toThrow(
      "TpuNodePool 'test/tpu': machineType ct6e-standard-4t does not boot from pd-balanced; set diskType to hyperdisk-balanced (or remove diskType for hyperdisk-balanced).");
    const v5e = baseStack();
    new TpuNodePool(v5e.stack, 'tpu', { cluster: v5e.cluster, version: 'v5e', topology: '2x2', zone: 'us-central1-b' });
    expect(onlyResource(synthJson(v5e.stack), 'google_container_node_pool').node_config.disk_type).toBe('pd-balanced');
  });

  test('a node count that differs from chips / chips per VM is always rejected with the required count', () => {
    fc.assert(fc.property(version, fc.nat(20), fc.integer({ min: 1, max: 300 }), (v, i, n) => {
      const topologies = exampleTopologies(v);
      const t = topologies[i % topologies.length];
      const ok = resolveTpuSlice(v, t);
      if (!ok.ok) throw new Error(`example topology ${t} rejected`);
      fc.pre(n !== ok.nodeCount);
      const r = resolveTpuSlice(v, t, { nodeCount: n });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toContain(`needs ${ok.nodeCount} node${ok.nodeCount === 1 ? '' : 's'}, but nodeCount is ${n}; set nodeCount to ${ok.nodeCount}`);
    }), { numRuns: 200, seed: 99 });
  });
});
