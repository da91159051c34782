// The spine demo pipeline: produce → scale → summarize plus a second summary of the raw numbers. It runs in
// seconds on the embedded defaults and exercises parameters, fan-out, fan-in and caching.

import { z } from 'zod';
import { Pipeline } from './dsl/pipeline';
import { ProduceNumbers, ScaleNumbers, SummarizeNumbers } from '../runtime/components';

export const pipeline = new Pipeline({
  name: 'spine-demo',
  description: 'Produces numbers, scales them and summarizes both series.',
  parameters: z.object({
    count: z.number().int().min(1).default(1000).describe('How many numbers to produce'),
    factor: z.number().default(3).describe('Multiplier applied by the scale node'),
  }),
});

const produce = pipeline.add('produce', ProduceNumbers, { parameters: { count: pipeline.param('count'), seed: 7 } });
const scale = pipeline.add('scale', ScaleNumbers, {
  inputs: { numbers: produce.outputs.numbers },
  parameters: { factor: pipeline.param('factor') },
  retry: { maxRetries: 2, backoffSeconds: 1 },
});
pipeline.add('summarize-raw', SummarizeNumbers, { inputs: { numbers: produce.outputs.numbers } });
pipeline.add('summarize-scaled', SummarizeNumbers, { inputs: { numbers: [scale.outputs.scaled] } });

export default pipeline;
