// Demo component SummarizeNumbers: count, sum, mean, min and max of one or more Examples artifacts.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../../core/component';
import { Examples, GenericArtifact } from '../../../core/artifact-types';
import { readNumbers } from '../numbers-io';

export const SummarizeNumbers = defineComponent({
  name: 'SummarizeNumbers',
  version: '1',
  description: 'Writes summary.json with count, sum, mean, min and max over all input numbers.',
  inputs: { numbers: { type: Examples } },
  outputs: { summary: { type: GenericArtifact } },
  parameters: z.object({}),
  executor: async ({ inputs, outputs, log }) => {
    const values: number[] = [];
    for (const a of inputs.numbers) values.push(...(await readNumbers(a.path)));
    const sum = values.reduce((s, v) => s + v, 0);
    const summary = {
      count: values.length,
      sum,
      mean: values.length ? sum / values.length : null,
      min: values.length ? values.reduce((m, v) => Math.min(m, v), Infinity) : null,
      max: values.length ? values.reduce((m, v) => Math.max(m, v), -Infinity) : null,
    };
    await fs.promises.writeFile(path.join(outputs.summary.path, 'summary.json'), JSON.stringify(summary, null, 2));
    outputs.summary.properties = { count: summary.count, mean: summary.mean ?? 0 };
    log(`summary: ${JSON.stringify(summary)}`);
  },
});
