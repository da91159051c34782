// The HyperParameters artifact's file: best_hyperparameters.json (TFX's name) holding the chosen values, so a
// Trainer reads the Tuner's best trial without knowing how it was found.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../core/errors';

export const BEST_HYPERPARAMETERS_FILE = 'best_hyperparameters.json';

export interface BestHyperparameters {
  values: Record<string, unknown>;
  [extra: string]: unknown;
}

export async function writeBestHyperparameters(dir: string, content: BestHyperparameters): Promise<void> {
  await fs.promises.writeFile(path.join(dir, BEST_HYPERPARAMETERS_FILE), JSON.stringify(content, null, 2));
}

export async function readBestHyperparameters(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, BEST_HYPERPARAMETERS_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (err) {
    throw new UserError(`hyperparameters file ${file} cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const values = (parsed as BestHyperparameters | null)?.values;
  if (!values || typeof values !== 'object' || Array.isArray(values)) throw new UserError(`hyperparameters file ${file} has no "values" object`);
  return values;
}
