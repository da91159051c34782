// Pusher: publishes a blessed model to a serving location in TensorFlow Serving's layout,
// <push_destination>/<version>/, where version is a monotonically increasing integer (unix seconds, or one
// more than the newest version already there). The version folder appears atomically (local rename, or
// objects then a commit marker on gs://), so a model server never loads half a model. Without a blessing
// from the Evaluator — or with a failed infra blessing — nothing is pushed and the artifact says why.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { InfraBlessing, Model, ModelBlessing, PushedModel } from '../../core/artifact-types';
import { joinUri, storageFor } from '../../storage';
import { isBlessed } from '../../ml/blessing';
import { versionsIn } from '../../ml/model-location';

export const PUSHED_FILE = 'pushed.json';

/** The next version number at a destination: now in unix seconds, or newest + 1 if that is not larger. */
async function nextVersion(destination: string): Promise<number> {
  const versions = await versionsIn(destination.replace(/\/+$/, ''), { missingOk: true });
  return Math.max(Math.floor(Date.now() / 1000), (versions[versions.length - 1] ?? 0) + 1);
}

export const Pusher = defineComponent({
  name: 'Pusher',
  version: '1',
  description: 'Copies a blessed model to <push_destination>/<version>/ (TensorFlow Serving layout).',
  inputs: {
    model: { type: Model },
    model_blessing: { type: ModelBlessing, description: "The Evaluator's verdict; not blessed means no push" },
    infra_blessing: { type: InfraBlessing, optional: true, description: "The InfraValidator's verdict, when the pipeline has one" },
  },
  outputs: { pushed_model: { type: PushedModel } },
  parameters: z.object({
    push_destination: z.string().min(1).describe('Model base path the server watches: a local folder or gs:// prefix'),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const model = inputs.model[0];
    const refusals: string[] = [];
    if (!isBlessed(inputs.model_blessing[0], 'BLESSED')) refusals.push(`model ${model.uri} is not blessed by the evaluator`);
    const infra = inputs.infra_blessing[0];
    if (infra && !isBlessed(infra, 'INFRA_BLESSED')) refusals.push(`model ${model.uri} failed infra validation`);
    if (refusals.length > 0) {
      await fs.promises.writeFile(path.join(outputs.pushed_model.path, PUSHED_FILE), JSON.stringify({ pushed: false, reasons: refusals }, null, 2));
      outputs.pushed_model.properties = { pushed: 0 };
      log(`not pushed: ${refusals.join('; ')}`);
      return;
    }
    const version = await nextVersion(parameters.push_destination);
    const target = joinUri(parameters.push_destination, String(version));
    // Publishing consumes its source folder, so publish a copy and keep the input untouched.
    const staging = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-push-'));
    try {
      await fs.promises.cp(model.path, staging, { recursive: true });
      await storageFor(target).publishDirectory(staging, target);
    } finally {
      await fs.promises.rm(staging, { recursive: true, force: true });
    }
    await fs.promises.writeFile(path.join(outputs.pushed_model.path, PUSHED_FILE), JSON.stringify({ pushed: true, destination: target, version }, null, 2));
    outputs.pushed_model.properties = { pushed: 1, pushed_destination: target, pushed_version: version };
    log(`pushed ${model.uri} to ${target}`);
  },
});
