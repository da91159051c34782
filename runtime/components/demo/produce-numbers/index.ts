// Demo component ProduceNumbers: writes a deterministic pseudo-random series as an Examples artifact.
// Part of the small spine-demo pipeline that exercises the runner before the real data components exist.

import { z } from 'zod';
import { defineComponent } from '../../../core/component';
import { Examples } from '../../../core/artifact-types';
import { DEMO_SPLIT, writeNumbers } from '../numbers-io';

export const ProduceNumbers = defineComponent({
  name: 'ProduceNumbers',
  version: '1',
  description: 'Writes `count` pseudo-random integers in [0, 1000) drawn from `seed`.',
  inputs: {},
  outputs: { numbers: { type: Examples } },
  parameters: z.object({
    count: z.number().int().min(1).max(10_000_000).default(1000).describe('How many numbers to write'),
    seed: z.number().int().default(42).describe('Seed of the generator (same seed, same numbers)'),
  }),
  executor: async ({ outputs, parameters, log }) => {
    // A 32-bit LCG: deterministic across machines, which is all a demo needs.
    let state = parameters.seed >>> 0;
    const values: number[] = [];
    for (let i = 0; i < parameters.count; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      values.push(state % 1000);
    }
    await writeNumbers(outputs.numbers.path, values);
    outputs.numbers.properties = { span: 0, version: 0, split_names: JSON.stringify([DEMO_SPLIT]), row_count: values.length };
    log(`wrote ${values.length} numbers`);
  },
});
