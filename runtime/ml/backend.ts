// Picks the TensorFlow.js backend at start: CUDA (@tensorflow/tfjs-node-gpu) → native CPU
// (@tensorflow/tfjs-node) → WebAssembly → plain JS, taking the first that loads. The two native packages are
// optional dependencies (they download libtensorflow at install time, so offline installs drop them;
// container images have them). MLP_TF_BACKEND forces one; the choice is returned for logging and for the
// ModelRun's properties.

import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors';

export const BACKEND_ORDER = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

interface Candidate {
  /** npm package that provides it (loaded for its side effect of registering the backend). */
  pkg?: string;
  /** Name the backend registers under in tfjs. */
  tfName: string;
}

const CANDIDATES: Record<BackendName, Candidate> = {
  'node-gpu': { pkg: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  node: { pkg: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  wasm: { pkg: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  cpu: { tfName: 'cpu' },
};

export interface ChosenBackend {
  name: BackendName;
  /** Why the earlier candidates were passed over, for the log. */
  skipped: { name: BackendName; reason: string }[];
}

/** Loads a backend package for its registration side effect. */
export type PackageLoader = (pkg: string) => unknown;

async function tryBackend(name: BackendName, load: PackageLoader): Promise<string | undefined> {
  const c = CANDIDATES[name];
  try {
    if (c.pkg) load(c.pkg);
    if (!(await tf.setBackend(c.tfName))) return `tfjs could not initialise the ${c.tfName} backend`;
    await tf.ready();
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'MODULE_NOT_FOUND' ? `${c.pkg} is not installed` : e.message.split('\n')[0];
  }
}

/**
 * Selects and initialises the backend (forced by `forced`, default $MLP_TF_BACKEND). `load` is `require`;
 * tests pass one that reports the native packages missing, so they behave alike on every machine.
 */
export async function selectBackend(forced: string | undefined = process.env.MLP_TF_BACKEND, load: PackageLoader = require): Promise<ChosenBackend> {
  if (forced) {
    if (!(BACKEND_ORDER as readonly string[]).includes(forced)) {
      throw new UserError(`MLP_TF_BACKEND=${forced}: expected one of ${BACKEND_ORDER.join(', ')}`);
    }
    const reason = await tryBackend(forced as BackendName, load);
    if (reason) throw new UserError(`MLP_TF_BACKEND=${forced} cannot be used: ${reason}`);
    return { name: forced as BackendName, skipped: [] };
  }
  const skipped: ChosenBackend['skipped'] = [];
  for (const name of BACKEND_ORDER) {
    const reason = await tryBackend(name, load);
    if (!reason) return { name, skipped };
    skipped.push({ name, reason });
  }
  throw new UserError(`no TensorFlow.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
