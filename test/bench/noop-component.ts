// A component that does nothing, for measuring the runner's own overhead.

import { z } from 'zod';
import { defineComponent } from '../../runtime/core/component';
import { GenericArtifact } from '../../runtime/core/artifact-types';

export const NoOp = defineComponent({
  name: 'bench.NoOp',
  version: '1',
  description: 'Does nothing; its output is an empty artifact.',
  inputs: { previous: { type: GenericArtifact, optional: true } },
  outputs: { out: { type: GenericArtifact } },
  parameters: z.object({ index: z.number().int() }),
  executor: () => undefined,
});
