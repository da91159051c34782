// runtime/components/container/tpu-slices.json is the constructs' TPU catalogue (constructs/tpu.ts) as data: the
// runtime package ships without constructs/, so it reads the slices from this file, and this test keeps the
// file equal to what resolveTpuSlice gives for every topology up to each version's maximum.
// MLP_UPDATE_TPU_SLICES=1 npx jest test/runtime/components/container/tpu-slices.test.ts rewrites it.

import * as fs from 'fs';
import * as path from 'path';
import { TPU_CATALOGUE, TPU_VERSIONS, resolveTpuSlice } from '../../../../constructs/tpu';

const FILE = path.join(__dirname, '../../../../runtime/components/container/tpu-slices.json');

/** Every AxB / AxBxC non-decreasing topology of sides 1, 2 and multiples of 4 within the chip maximum, resolved. */
function catalogueSlices() {
  const out: Record<string, unknown> = {};
  for (const version of TPU_VERSIONS) {
    const spec = TPU_CATALOGUE[version];
    const sides = [1, 2, ...Array.from({ length: spec.maxChips / 4 }, (_, i) => 4 * (i + 1))];
    const candidates: string[] = [];
    const grow = (dims: number[]): void => {
      if (dims.length === spec.dimensions) return void candidates.push(dims.join('x'));
      const chips = dims.reduce((a, b) => a * b, 1);
      for (const s of sides) if (chips * s <= spec.maxChips) grow([...dims, s]);
    };
    grow([]);
    const singleHost: Record<string, { machineType: string; chipsPerVm: number }> = {};
    const multiHost: string[] = [];
    for (const topology of candidates) {
      const single = resolveTpuSlice(version, topology);
      if (!single.ok) continue;
      if (!single.multiHost) singleHost[topology] = { machineType: single.machineType, chipsPerVm: single.chipsPerVm };
      if (resolveTpuSlice(version, topology, { chipsPerVm: spec.multiHostChipsPerVm }).ok && topology.split('x').map(Number).reduce((a, b) => a * b, 1) > spec.multiHostChipsPerVm) multiHost.push(topology);
    }
    out[version] = {
      acceleratorLabel: spec.acceleratorLabel,
      singleHost,
      multiHost: { machineType: spec.multiHostMachineType, chipsPerVm: spec.multiHostChipsPerVm, topologies: multiHost },
    };
  }
  return out;
}

test('tpu-slices.json is the constructs TPU catalogue (single-host topologies, multi-host topologies and machine)', () => {
  const expected = catalogueSlices();
  if (process.env.MLP_UPDATE_TPU_SLICES === '1') fs.writeFileSync(FILE, `${JSON.stringify(expected, null, 1)}\n`);
  expect(JSON.parse(fs.readFileSync(FILE, 'utf8'))).toEqual(expected);
});
