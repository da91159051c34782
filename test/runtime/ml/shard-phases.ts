// Runs a component's sharded phases in this process, as the shard steps do, on local artifacts: the executor
// context (inputs as their local folders, outputs as fresh folders, parameters with their defaults), shard i's
// partial into its own empty folder for i = 0…N−1, then the merge over all of them. Tests compare what the merge
// wrote with the unsharded executor's output on the same inputs.

import * as fs from 'fs';
import * as path from 'path';
import type { AnyComponent, ExecutorContext, OutputArtifact } from '../../../runtime/core/component';
import { fresh, type ArtifactRef } from './helpers';

// Any component's context, as AnyComponent's executor takes it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Context = ExecutorContext<any, any, any>;

/** The executor context over local artifacts; `outputs` maps each port to the folder it writes. */
export function localContext(
  component: AnyComponent,
  inputs: Record<string, ArtifactRef | undefined>,
  outputs: Record<string, string>,
  parameters: Record<string, unknown>,
  log: string[] = [],
): Context {
  return {
    inputs: Object.fromEntries(Object.keys(component.inputs).map((port) => {
      const ref = inputs[port];
      return [port, ref ? [{ uri: ref.uri, path: ref.uri, properties: ref.properties as OutputArtifact['properties'] }] : []];
    })),
    outputs: Object.fromEntries(Object.entries(outputs).map(([port, dir]) => {
      fs.mkdirSync(dir, { recursive: true });
      return [port, { uri: dir, path: dir, properties: {} }];
    })),
    parameters: component.parameters.parse(parameters),
    log: (line) => log.push(line),
    progress: (line) => log.push(line),
    outputParameters: {},
  };
}

/** partial ×`shards` (each into a fresh folder under `dir`) then merge; returns the merge's outputs. */
export async function runShardPhases(
  component: AnyComponent,
  dir: string,
  inputs: Record<string, ArtifactRef | undefined>,
  outputs: Record<string, string>,
  parameters: Record<string, unknown>,
  shards: number,
): Promise<{ outputs: Record<string, OutputArtifact>; partialDirs: string[]; log: string[] }> {
  const sharding = component.sharding;
  if (!sharding) throw new Error(`${component.name} has no sharding`);
  const log: string[] = [];
  const partialDirs: string[] = [];
  for (let index = 0; index < shards; index++) {
    const partialDir = fresh(dir, `shard-${index}`);
    fs.mkdirSync(partialDir, { recursive: true });
    // Each shard gets a context of its own (its outputs are never written), as a separate process would.
    await sharding.partial(localContext(component, inputs, Object.fromEntries(Object.keys(outputs).map((p) => [p, fresh(dir, `unused-${p}`)])), parameters, log), { index, count: shards }, partialDir);
    partialDirs.push(partialDir);
  }
  const ctx = localContext(component, inputs, outputs, parameters, log);
  await sharding.merge(ctx, partialDirs);
  return { outputs: ctx.outputs as Record<string, OutputArtifact>, partialDirs, log };
}

/** Every file below `dir` (relative paths, sorted). */
export function filesBelow(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}
