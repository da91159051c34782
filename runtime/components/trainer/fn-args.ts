// The Trainer's user-module contract, as TFX's: a module exports `runFn(fnArgs)`; fnArgs says where the
// training and eval data, schema and transform graph are, which hyperparameters to use, and where to write
// the serving model and the run's logs. runFn may return properties to record on the ModelRun.

import * as path from 'path';
import type { Properties } from '../../metadata/types';
import type { Schema } from '../../tfdv/schema-proto';
import type { TransformGraph } from '../../transform/graph';
import { UserError } from '../../core/errors';
import { ensureTypeScriptLoader } from '../../runner/component-modules';
import type { EpochRecord } from '../../ml/train-loop';
import { readJson, readSchema, schemaPath } from '../../tfdv/artifact-files';
import { checkGraph } from '../../transform/apply';

export interface FnArgs {
  /** Parquet files of the training split. */
  trainFiles: string[];
  /** Parquet files of the eval split. */
  evalFiles: string[];
  schemaPath: string;
  schema: Schema;
  transformGraphPath: string;
  transformGraph: TransformGraph;
  /** Parameters given to the Trainer, overridden by the HyperParameters input (e.g. the Tuner's best). */
  hyperparameters: Record<string, unknown>;
  /** Write the serving bundle (model, transform graph, signature) here: it becomes the Model artifact. */
  servingModelDir: string;
  /** Write logs and metrics here: it becomes the ModelRun artifact. */
  modelRunDir: string;
  /** Folder or gs:// prefix for checkpoints that survives a killed attempt (same inputs → same folder). */
  checkpointDir: string;
  /** Serving bundle folder of a model to warm-start from. */
  baseModel?: string;
  customConfig: Record<string, unknown>;
  /**
   * The examples' derived columns (ExampleGen's derived_columns, name → SQL expression): computed at ingestion,
   * never in a serving request, so one may be the label but not a model input (the Trainer refuses such a model).
   */
  derivedColumns?: Record<string, string>;
  /** The TensorFlow.js backend in use. */
  backend: string;
  log(line: string): void;
  /** Called after each epoch (the Tuner uses it for early stopping of poor trials); 'stop' ends training. */
  onEpoch?: (record: EpochRecord) => 'continue' | 'stop' | void | Promise<'continue' | 'stop' | void>;
}

export interface RunFnResult {
  /** Recorded as ModelRun properties. */
  properties?: Properties;
}

export type RunFn = (fnArgs: FnArgs) => Promise<RunFnResult | void>;

/** Loads runFn from a user module (TypeScript or JavaScript); errors name the module. */
export function loadRunFn(moduleFile: string): RunFn {
  const abs = path.resolve(moduleFile);
  if (/\.[cm]?tsx?$/.test(abs)) ensureTypeScriptLoader();
  let mod: { runFn?: unknown; run_fn?: unknown };
  try {
    mod = require(abs) as typeof mod;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(abs)) throw new UserError(`Trainer: module_file ${moduleFile} not found`);
    throw new UserError(`Trainer: module_file ${moduleFile} failed to load: ${e.message.split('\n')[0]}`);
  }
  const fn = mod.runFn ?? mod.run_fn;
  if (typeof fn !== 'function') throw new UserError(`Trainer: module_file ${moduleFile} does not export a runFn function`);
  return fn as RunFn;
}

/** The runFn to call: the user's module, or the bundled wide & deep trainer (loaded only when used). */
export async function resolveRunFn(moduleFile: string | undefined): Promise<RunFn> {
  return moduleFile ? loadRunFn(moduleFile) : (await import('./wide-deep-run-fn')).runFn;
}

/** The fnArgs that describe the data: the schema and the transform graph, read and checked (errors name the file). */
export async function readDataDescription(schemaDir: string, transformGraphPath: string): Promise<Pick<FnArgs, 'schemaPath' | 'schema' | 'transformGraphPath' | 'transformGraph'>> {
  return {
    schemaPath: schemaPath(schemaDir),
    schema: await readSchema(schemaDir),
    transformGraphPath,
    transformGraph: checkGraph(await readJson(transformGraphPath, 'transform graph'), transformGraphPath),
  };
}
