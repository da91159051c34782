// The bundled pipelines by name (`mlp run <name>`), and loading a pipeline from a user's module file.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../runtime/core/errors';
import { syntaxErrorOf } from '../runtime/core/syntax-error';
import { Pipeline } from './dsl/pipeline';
import { ensureTypeScriptLoader } from '../runtime/runner/component-modules';

export { Pipeline, when } from './dsl/pipeline';
// Steps running a user's own image (any language or framework), defined here or loaded from a KFP component file.
export { containerComponent, loadKfpComponent, loadKfpComponents } from '../runtime/components/container';

/** Bundled pipelines: name → module file (loaded on demand). */
export const BUNDLED_PIPELINES: Record<string, string> = {
  'spine-demo': path.join(__dirname, 'spine-demo'),
  'data-validation': path.join(__dirname, 'data-validation'),
  penguins: path.join(__dirname, 'examples', 'penguins'),
  flights: path.join(__dirname, 'examples', 'flights'),
};

export interface LoadedPipeline {
  pipeline: Pipeline;
  /** The module file, for worker processes that must load the same components. */
  module: string;
}

function resolveModuleFile(ref: string): string {
  if (BUNDLED_PIPELINES[ref]) return require.resolve(BUNDLED_PIPELINES[ref]);
  const abs = path.resolve(ref);
  if (!fs.existsSync(abs)) {
    const bundled = Object.keys(BUNDLED_PIPELINES).join(', ');
    throw new UserError(`pipeline file ${ref} not found (and it is not a bundled pipeline: ${bundled})`);
  }
  return abs;
}

/** Loads a pipeline from a bundled name or a module exporting a Pipeline (default export or `pipeline`). */
export function loadPipeline(ref: string): LoadedPipeline {
  const file = resolveModuleFile(ref);
  if (/\.[cm]?tsx?$/.test(file)) ensureTypeScriptLoader();
  let mod;
  try {
    mod = require(file);
  } catch (err) {
    throw syntaxErrorOf(err) ?? err;
  }
  const candidate = mod.default ?? mod.pipeline;
  const pipeline = typeof candidate === 'function' && !(candidate instanceof Pipeline) ? candidate() : candidate;
  if (!(pipeline instanceof Pipeline)) {
    throw new UserError(`${ref}: the module must export a Pipeline as its default export or as \`pipeline\``);
  }
  return { pipeline, module: file };
}
