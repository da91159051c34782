// `mlp runs`, `mlp artifacts` and `mlp lineage`: read-only views of the metadata store. Lineage folds each
// CACHED execution into the execution whose outputs it reused (runtime/metadata/cached-reuses.ts).

import type { Command } from 'commander';
import { openMetadataStore } from '../../metadata';
import { foldCachedReuses, type FoldedLineage } from '../../metadata/cached-reuses';
import { isInputEvent, isOutputEvent, portOf } from '../../metadata/events';
import { ArtifactState, ExecutionState, TypeKind, type Artifact, type Execution, type LineageDirection, type MetadataStore } from '../../metadata/types';
import { CONTEXT_RUN } from '../../runner/mlmd-types';
import { UserError } from '../../core/errors';
import { STANDARD_ARTIFACT_TYPES } from '../../core/artifact-types';
import { DEFAULT_ROOT, metadataAddress, type StoreOptions } from '../options';
import { formatDuration } from '../../runner/progress';
import { isoTime, table } from '../format';

interface ListFlags extends StoreOptions {
  json?: boolean;
  limit: string;
}

function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'pipeline root whose embedded metadata store to read', DEFAULT_ROOT)
    .option('--metadata <address>', 'metadata store: sqlite:PATH or postgres://... (default: sqlite:<root>/metadata.sqlite)')
    .option('--json', 'print JSON instead of a table');
}

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--limit must be a whole number ≥ 1, got ${v}`);
  return n;
}

async function withStore<T>(flags: StoreOptions, fn: (store: MetadataStore) => Promise<T>): Promise<T> {
  const store = await openMetadataStore(metadataAddress(flags), { mustExist: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerInspectCommands(program: Command): void {
  withStoreOptions(program.command('runs').description('list pipeline runs, newest first'))
    .option('--limit <n>', 'how many runs', '20')
    .action(async (flags: ListFlags) => {
      const limit = parseLimit(flags.limit);
      await withStore(flags, async (store) => {
        const runs = await store.getContexts({ type: CONTEXT_RUN, newestFirst: true, limit });
        const rows = runs.map((r) => ({
          runId: r.name,
          pipeline: r.customProperties?.pipeline_name,
          state: r.customProperties?.state,
          startedAt: r.customProperties?.started_at,
          durationMs: r.customProperties?.duration_ms,
        }));
        if (flags.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        process.stdout.write(
          table(
            ['RUN', 'PIPELINE', 'STATE', 'STARTED', 'DURATION'],
            rows.map((r) => [r.runId, String(r.pipeline ?? ''), String(r.state ?? ''), String(r.startedAt ?? ''), typeof r.durationMs === 'number' ? formatDuration(r.durationMs) : '']),
          ),
        );
      });
    });

  withStoreOptions(program.command('artifacts').description('list artifacts, newest first'))
    .option('--type <type>', 'only artifacts of this type (e.g. Examples, Model)')
    .option('--state <state>', `only artifacts in this state (${Object.keys(ArtifactState).filter((k) => isNaN(Number(k))).join(', ')})`)
    .option('--limit <n>', 'how many artifacts', '50')
    .action(async (flags: ListFlags & { type?: string; state?: string }) => {
      const limit = parseLimit(flags.limit);
      let state: ArtifactState | undefined;
      if (flags.state !== undefined) {
        state = ArtifactState[flags.state.toUpperCase() as keyof typeof ArtifactState];
        if (state === undefined) throw new UserError(`--state ${flags.state}: unknown artifact state`);
      }
      await withStore(flags, async (store) => {
        if (flags.type !== undefined) await checkArtifactType(store, flags.type);
        const artifacts = await store.getArtifacts({ type: flags.type, state, newestFirst: true, limit });
        if (flags.json) return void process.stdout.write(`${JSON.stringify(artifacts, null, 2)}\n`);
        process.stdout.write(
          table(
            ['ID', 'TYPE', 'STATE', 'CREATED', 'URI'],
            artifacts.map((a) => [a.id, a.type, ArtifactState[a.state], isoTime(a.createTimeSinceEpoch), a.uri]),
          ),
        );
      });
    });

  withStoreOptions(program.command('lineage').description('show where an artifact came from and what used it (each execution once, with the cached reruns that reused it)'))
    .argument('<artifact>', 'artifact id or URI')
    .option('--direction <dir>', 'upstream, downstream or both', 'both')
    .action(async (ref: string, flags: StoreOptions & { json?: boolean; direction: string }) => {
      if (!['upstream', 'downstream', 'both'].includes(flags.direction)) {
        throw new UserError(`--direction must be upstream, downstream or both, got ${flags.direction}`);
      }
      await withStore(flags, async (store) => {
        const artifact = await findArtifact(store, ref);
        const dirs: LineageDirection[] = flags.direction === 'both' ? ['upstream', 'downstream'] : [flags.direction as LineageDirection];
        const graphs: Partial<Record<LineageDirection, FoldedLineage>> = {};
        for (const d of dirs) graphs[d] = foldCachedReuses(await store.getLineage(artifact.id!, d));
        if (flags.json) {
          const json = Object.fromEntries(Object.entries(graphs).map(([d, g]) => [d, lineageJson(g)]));
          return void process.stdout.write(`${JSON.stringify({ artifact, ...json }, null, 2)}\n`);
        }
        for (const d of dirs) {
          process.stdout.write(`${d}:\n${renderLineage(artifact, graphs[d]!, d)}`);
        }
      });
    });
}

/** A type neither standard nor recorded in the store is a typo, not an empty list: the error lists the known ones. */
async function checkArtifactType(store: MetadataStore, type: string): Promise<void> {
  const known = new Set([...STANDARD_ARTIFACT_TYPES.map((t) => t.name), ...(await store.getTypes(TypeKind.ARTIFACT)).map((t) => t.name)]);
  if (!known.has(type)) throw new UserError(`--type ${type}: unknown artifact type (known: ${[...known].sort().join(', ')})`);
}

async function findArtifact(store: MetadataStore, ref: string): Promise<Artifact> {
  const byId = /^\d+$/.test(ref) ? await store.getArtifacts({ ids: [Number(ref)] }) : await store.getArtifacts({ uri: ref, newestFirst: true });
  if (byId.length === 0) throw new UserError(`no artifact with ${/^\d+$/.test(ref) ? 'id' : 'URI'} ${ref} in the metadata store`);
  return byId[0];
}

function describeArtifact(a: Artifact): string {
  return `artifact ${a.id} ${a.type} ${ArtifactState[a.state]} ${a.uri}`;
}

/** A lineage for --json: each execution shown carries the CACHED executions folded into it (`reusedBy`). */
function lineageJson(g: FoldedLineage): object {
  const executions = g.executions.map((e) => ({ ...e, ...(g.reusedBy.has(e.id!) ? { reusedBy: g.reusedBy.get(e.id!) } : {}) }));
  return { artifacts: g.artifacts, executions, events: g.events };
}

function describeExecution(e: Execution, reuses = 0): string {
  const p = e.customProperties ?? {};
  const bits = [`execution ${e.id} ${e.type} ${ExecutionState[e.lastKnownState]}`];
  if (p.node_id) bits.push(`node ${p.node_id}`);
  if (p.run_id) bits.push(`run ${p.run_id}`);
  if (p.runtime_version) bits.push(`runtime ${p.runtime_version}`);
  if (reuses) bits.push(`reused by ${reuses} cached execution${reuses === 1 ? '' : 's'}`);
  return bits.join(', ');
}

/**
 * An indented tree: artifact ← producing executions ← their inputs (upstream), or → consumers (downstream).
 * Each execution says how many CACHED executions reused its outputs (they are folded into it).
 */
export function renderLineage(root: Artifact, g: FoldedLineage, direction: LineageDirection): string {
  const artifacts = new Map(g.artifacts.map((a) => [a.id!, a]));
  artifacts.set(root.id!, root);
  const executions = new Map(g.executions.map((e) => [e.id!, e]));
  const lines: string[] = [];
  const seen = new Set<string>();
  const walkArtifact = (id: number, depth: number, port?: string): void => {
    const a = artifacts.get(id);
    if (!a) return;
    const label = `${'  '.repeat(depth)}${port ? `[${port}] ` : ''}${describeArtifact(a)}`;
    if (seen.has(`a${id}`)) return void lines.push(`${label} (see above)`);
    seen.add(`a${id}`);
    lines.push(label);
    const links = g.events.filter((e) => e.artifactId === id && (direction === 'upstream' ? isOutputEvent(e) : isInputEvent(e)));
    for (const ev of links) walkExecution(ev.executionId, depth + 1);
  };
  const walkExecution = (id: number, depth: number): void => {
    const e = executions.get(id);
    if (!e) return;
    const arrow = direction === 'upstream' ? '← ' : '→ ';
    const label = `${'  '.repeat(depth)}${arrow}${describeExecution(e, g.reusedBy.get(id)?.length)}`;
    if (seen.has(`e${id}`)) return void lines.push(`${label} (see above)`);
    seen.add(`e${id}`);
    lines.push(label);
    const links = g.events.filter((ev) => ev.executionId === id && (direction === 'upstream' ? isInputEvent(ev) : isOutputEvent(ev)));
    for (const ev of links) walkArtifact(ev.artifactId, depth + 2, portOf(ev) || undefined);
  };
  walkArtifact(root.id!, 0);
  return `${lines.join('\n')}\n`;
}
