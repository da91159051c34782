// Demo component ScaleNumbers: multiplies every number of an Examples artifact by a factor.

import { z } from 'zod';
import { defineComponent } from '../../../core/component';
import { Examples } from '../../../core/artifact-types';
import { readNumbers, writeNumbers } from '../numbers-io';

export const ScaleNumbers = defineComponent({
  name: 'ScaleNumbers',
  version: '1',
  description: 'Multiplies each input number by `factor`.',
  inputs: { numbers: { type: Examples } },
  outputs: { scaled: { type: Examples } },
  parameters: z.object({ factor: z.number().finite().default(2).describe('Multiplier') }),
  executor: async ({ inputs, outputs, parameters }) => {
    const source = inputs.numbers[0];
    const values = (await readNumbers(source.path)).map((v) => v * parameters.factor);
    await writeNumbers(outputs.scaled.path, values);
    outputs.scaled.properties = { ...source.properties, row_count: values.length };
  },
});
