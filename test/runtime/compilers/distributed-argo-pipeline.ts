// A pipeline module with a multi-host TPU slice step (v5p 2x2x2: two hosts) for the Argo JobSet tests
// (argo-jobset.test.ts), loaded by `mlp compile` too.

import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { containerComponent } from '../../../runtime/components/container';

export const JaxV5p = containerComponent({ name: 'JaxV5p', image: 'us-docker.pkg.dev/p/r/jax:1', command: ['python', '/app/t.py'], tpu: { version: 'v5p', topology: '2x2x2' } });

export function pipeline(): Pipeline {
  const p = new Pipeline({ name: 'v5p' });
  p.add('slice', JaxV5p);
  return p;
}
