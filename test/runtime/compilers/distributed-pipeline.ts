// A pipeline module with distributed container steps (issue 19), for the Vertex AI CustomJob and Composer tests:
// a 3-worker GPU training step (nvidia-l4 on every replica) whose model a second step reads, and a TPU v5e 4x4 slice.

import { z } from 'zod';
import { Pipeline } from '../../../pipelines/dsl/pipeline';
import { containerComponent } from '../../../runtime/components/container';
import { Model } from '../../../runtime/core/artifact-types';

export const DdpTrainer = containerComponent({
  name: 'DdpTrainer',
  image: 'us-docker.pkg.dev/p/r/ddp@sha256:' + 'a'.repeat(64),
  command: ['python', '/app/train.py'],
  args: ['--epochs', "{{$.inputs.parameters['epochs']}}", '--model', "{{$.outputs.artifacts['model'].path}}", '--loss', "{{$.outputs.parameters['loss'].output_file}}"],
  env: { NCCL_DEBUG: 'WARN' },
  parameters: z.object({ epochs: z.number().int() }),
  outputs: { model: { type: Model } },
  outputParameters: { loss: 'NUMBER_DOUBLE' },
  distribution: { workers: 3 },
});

export const JaxOnTpu = containerComponent({
  name: 'JaxOnTpu',
  image: 'us-docker.pkg.dev/p/r/jax:1',
  command: ['python', '/app/jax_train.py', '--out', "{{$.outputs.artifacts['model'].path}}"],
  outputs: { model: { type: Model } },
  tpu: { version: 'v5e', topology: '4x4' },
});

export const Exporter = containerComponent({
  name: 'Exporter',
  image: 'us-docker.pkg.dev/p/r/export:1',
  command: ['sh', '-c', 'cp -r "$0" "$1"', "{{$.inputs.artifacts['model'].path}}", "{{$.outputs.artifacts['exported'].path}}"],
  inputs: { model: { type: Model } },
  outputs: { exported: { type: Model } },
});

export function distributedPipeline(): Pipeline {
  const p = new Pipeline({ name: 'distributed', parameters: z.object({ epochs: z.number().int().default(2) }) });
  const train = p.add('train', DdpTrainer, { parameters: { epochs: p.param('epochs') }, resources: { cpu: '8', accelerator: { type: 'nvidia-l4', count: 1 } } });
  p.add('export', Exporter, { inputs: { model: train.outputs.model } });
  p.add('tpu-train', JaxOnTpu);
  return p;
}

export const pipeline = distributedPipeline;
