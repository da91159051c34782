// Pusher: publishes a blessed model to a serving location in TensorFlow Serving's layout,
// <push_destination>/<version>/, where version is a monotonically increasing integer (unix seconds, or one
// more than the newest version already there). The version folder appears atomically (local rename, or
// objects then a commit marker on gs://), so a model server never loads half a model. Concurrent pushes to
// one destination may pick the same version: the storage layer lets exactly one publish land there and the
// others get a PublishConflictError, so they take the next free version; a pushed version is never replaced.
// Without a blessing from the Evaluator — or with a failed infra blessing — nothing is pushed and the artifact
// says why.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { UserError } from '../../core/errors';
import { InfraBlessing, Model, ModelBlessing, PushedModel } from '../../core/artifact-types';
import { joinUri, PublishConflictError, storageFor } from '../../storage';
import { isBlessed } from '../../ml/blessing';
import { versionsIn } from '../../ml/model-location';

export const PUSHED_FILE = 'pushed.json';

/** How many versions in a row a push may find taken by concurrent pushes before it gives up. */
export const MAX_PUSH_ATTEMPTS = 100;

/**
 * The next version number at a destination: now in unix seconds, or newest + 1 if that is not larger, and
 * above `after` (a version this push just lost). Every folder counts, committed or not, so an abandoned one
 * is skipped rather than reused.
 */
async function nextVersion(destination: string, after = 0): Promise<number> {
  const versions = await versionsIn(destination.replace(/\/+$/, ''), { missingOk: true });
  return Math.max(Math.floor(Date.now() / 1000), (versions[versions.length - 1] ?? 0) + 1, after + 1);
}

/** Publishes the model folder as the next free version; a version taken meanwhile moves it to the next one. */
async function publishNextVersion(modelDir: string, destination: string, log: (line: string) => void): Promise<{ version: number; target: string }> {
  // Publishing consumes its source folder, so publish a copy and keep the input untouched.
  const staging = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-push-'));
  try {
    await fs.promises.cp(modelDir, staging, { recursive: true });
    let version = await nextVersion(destination);
    for (let attempt = 1; ; attempt++) {
      const target = joinUri(destination, String(version));
      try {
        // A failed publish leaves the staging folder as it was, so the next attempt can use it again.
        await storageFor(target).publishDirectory(staging, target);
        return { version, target };
      } catch (err) {
        if (!(err instanceof PublishConflictError)) throw err;
        if (attempt === MAX_PUSH_ATTEMPTS) {
          throw new UserError(`cannot push to ${destination}: ${attempt} versions in a row were taken by concurrent pushes; last: ${err.message}`);
        }
        log(`version ${version} is taken (${err.message}); trying the next version`);
        version = await nextVersion(destination, version);
      }
    }
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
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
    const { version, target } = await publishNextVersion(model.path, parameters.push_destination, log);
    await fs.promises.writeFile(path.join(outputs.pushed_model.path, PUSHED_FILE), JSON.stringify({ pushed: true, destination: target, version }, null, 2));
    // TFX's Pusher records pushed_version as a string.
    outputs.pushed_model.properties = { pushed: 1, pushed_destination: target, pushed_version: String(version) };
    log(`pushed ${model.uri} to ${target}`);
  },
});
