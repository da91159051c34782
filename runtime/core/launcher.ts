// Runs one component from a KFP ExecutorInput: validates parameters, makes inputs available as local
// folders, runs the executor on scratch output folders, publishes every output atomically to its final URI
// and returns (and writes to outputFile, if given) the ExecutorOutput. Shared by `mlp component run` in a
// container and by the local runner's executor processes.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AnyComponent, ExecutorContext, InputArtifact, InputPorts, OutputArtifact, OutputPorts, ParameterSchema, StepIdentity } from './component';
import { artifactIdOfName, ExecutorInput, ExecutorInputSchema, ExecutorOutput, formatZodIssues } from './executor-io';
import { UserError } from './errors';
import { localPathOf, storageFor } from '../storage';
import type { Properties } from '../metadata/types';
import { checkOutputProperties } from '../metadata/property-encoding';

/** Custom property carrying an output's content fingerprint (from its commit manifest). */
export const FINGERPRINT_PROPERTY = 'mlp_fingerprint';

export interface LaunchOptions {
  /** Where executor log lines go (default: stderr). */
  log?: (line: string) => void;
  /** Where the executor's progress statuses go (default: the log). */
  progress?: (status: string) => void;
  /** The pipeline node this execution is for, handed to the executor. */
  step?: StepIdentity;
}

export function parseExecutorInput(raw: unknown, where: string): ExecutorInput {
  const parsed = ExecutorInputSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid ExecutorInput in ${where}: ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}

export async function launchComponent(
  component: AnyComponent,
  input: ExecutorInput,
  opts: LaunchOptions = {},
): Promise<ExecutorOutput> {
  return withExecutorContext(component, input, opts, async (ctx) => {
    await component.executor(ctx);
    const result: ExecutorOutput = { artifacts: {}, ...(Object.keys(ctx.outputParameters).length ? { parameterValues: ctx.outputParameters } : {}) };
    // What the publisher will record must be what the store takes: a refusal after publishing would leave
    // published files behind a failed execution.
    for (const [port, out] of Object.entries(ctx.outputs)) {
      checkOutputProperties(component.outputs[port].type.properties, out.properties, (name) => `component ${component.name}: property "${name}" of output artifact "${port}"`);
    }
    // Output parameters are recorded as one struct on the execution.
    checkOutputProperties({}, { parameterValues: result.parameterValues }, () => `component ${component.name}: its output parameters`);
    for (const [port, out] of Object.entries(ctx.outputs)) {
      const manifest = await storageFor(out.uri).publishDirectory(out.path, out.uri);
      result.artifacts![port] = {
        artifacts: [{ uri: out.uri, metadata: { ...out.properties, [FINGERPRINT_PROPERTY]: manifest.fingerprint } }],
      };
    }
    if (input.outputs.outputFile) await writeFileAtomic(input.outputs.outputFile, JSON.stringify(result, null, 2));
    return result;
  });
}

/**
 * Calls `body` with the executor context launchComponent gives the executor (parameters validated, inputs as
 * local folders, outputs on scratch folders), removing what it made afterwards. Publishes nothing: the phases of
 * a sharded step (runtime/runner/shard-steps.ts) that must not write outputs run their part through it.
 */
export async function withExecutorContext<T>(
  component: AnyComponent,
  input: ExecutorInput,
  opts: LaunchOptions,
  body: (ctx: ExecutorContext<InputPorts, OutputPorts, ParameterSchema>) => Promise<T>,
): Promise<T> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // A null parameter is one not given: Airflow renders an unset optional DAG param (Param(None)) as null where KFP
  // leaves it out; a required one is still refused below.
  const given = Object.entries(input.inputs?.parameterValues ?? {}).filter(([, value]) => value !== null);
  const params = component.parameters.safeParse(Object.fromEntries(given));
  if (!params.success) {
    throw new UserError(`component ${component.name}: invalid parameter ${formatZodIssues(params.error.issues)}`);
  }
  const cleanups: string[] = [];
  try {
    const inputs: Record<string, InputArtifact[]> = {};
    for (const [port, spec] of Object.entries(component.inputs)) {
      const given = input.inputs?.artifacts?.[port]?.artifacts ?? [];
      if (given.length === 0 && !spec.optional) {
        throw new UserError(`component ${component.name}: missing input artifact for port "${port}"`);
      }
      inputs[port] = [];
      for (const a of given) {
        const id = artifactIdOfName(a.name);
        inputs[port].push({ ...(id === undefined ? {} : { id }), ...(await materializeInput(component.name, port, a.uri, a.metadata, cleanups)) });
      }
    }
    const outputs: Record<string, OutputArtifact> = {};
    for (const port of Object.keys(component.outputs)) {
      const given = input.outputs.artifacts?.[port]?.artifacts ?? [];
      if (given.length !== 1) {
        throw new UserError(`component ${component.name}: ExecutorInput must give exactly one URI for output "${port}", got ${given.length}`);
      }
      const scratch = await makeScratch(given[0].uri);
      cleanups.push(scratch);
      outputs[port] = { uri: given[0].uri, path: scratch, properties: {} };
    }

    return await body({ inputs, outputs, parameters: params.data, log, progress: opts.progress ?? log, step: opts.step, outputParameters: {} });
  } finally {
    for (const dir of cleanups) await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function materializeInput(
  component: string,
  port: string,
  uri: string,
  metadata: Record<string, unknown> | undefined,
  cleanups: string[],
): Promise<InputArtifact> {
  const storage = storageFor(uri);
  const commit = await storage.readCommit(uri);
  if (!commit) {
    throw new UserError(`component ${component}: input artifact ${uri} (port "${port}") is missing or was never completely published`);
  }
  const properties = { ...(metadata ?? {}) } as Properties;
  const local = localPathOf(uri);
  if (local) return { uri, path: local, properties };
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-input-'));
  cleanups.push(dir);
  await storage.downloadTree(uri, dir);
  return { uri, path: dir, properties };
}

/** Scratch folders of a local output are named from this prefix, so a dead run's leftovers can be found. */
export function scratchPrefix(localOutput: string): string {
  return path.join(path.dirname(localOutput), `.${path.basename(localOutput)}.scratch-`);
}

/** Removes scratch folders a killed executor left next to a local output. */
export async function removeScratch(outputUri: string): Promise<void> {
  const local = localPathOf(outputUri);
  if (!local) return;
  const prefix = path.basename(scratchPrefix(local));
  const entries = await fs.promises.readdir(path.dirname(local)).catch(() => [] as string[]);
  for (const e of entries) {
    if (e.startsWith(prefix)) await fs.promises.rm(path.join(path.dirname(local), e), { recursive: true, force: true });
  }
}

/** A scratch folder on the same filesystem as a local final URI (so publishing is a rename), else in TMPDIR. */
async function makeScratch(finalUri: string): Promise<string> {
  const local = localPathOf(finalUri);
  if (local) {
    const parent = path.dirname(local);
    await fs.promises.mkdir(parent, { recursive: true });
    const dir = await fs.promises.mkdtemp(scratchPrefix(local));
    // mkdtemp makes 0700 folders; the published artifact should be readable like any other output.
    await fs.promises.chmod(dir, 0o755 & ~process.umask());
    return dir;
  }
  return fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-output-'));
}

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
}
