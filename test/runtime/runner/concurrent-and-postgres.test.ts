// The runner against the store a cloud deployment uses (a real PostgreSQL server), and two runs writing to
// the same metadata store at once — on PostgreSQL and on the embedded SQLite file — losing nothing.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../../runtime/metadata';
import { ExecutionState } from '../../../runtime/metadata/types';
import { runPipeline } from '../../../runtime/runner/local-runner';
import { CONTEXT_RUN } from '../../../runtime/runner/mlmd-types';
import { pipeline as retryPipeline } from '../../fixtures/pipelines/retry-pipeline';
import { startPostgres } from '../../support/postgres';
import { runCli } from '../../support/cli';

const MODULE = path.join(__dirname, '../../fixtures/pipelines/retry-pipeline.ts');

let pg: Awaited<ReturnType<typeof startPostgres>>;
let dir: string;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
});
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-conc-'));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('on PostgreSQL a rerun is fully cached', async () => {
  const store = await openMetadataStore(pg.url);
  try {
    const first = await runPipeline(retryPipeline, { root: path.join(dir, 'root'), store, modules: [MODULE] });
    expect(first.state).toBe('COMPLETE');
    const second = await runPipeline(retryPipeline, { root: path.join(dir, 'root'), store, modules: [MODULE] });
    expect(second.nodes.every((n) => n.state === 'cached')).toBe(true);
    const [runCtx] = await store.getContexts({ type: CONTEXT_RUN, name: second.runId });
    const executions = await store.getExecutions({ contextId: runCtx.id });
    expect(executions.map((e) => e.lastKnownState)).toEqual(retryPipeline.nodes.map(() => ExecutionState.CACHED));
  } finally {
    await store.close();
  }
});

test.each([
  ['sqlite', () => `sqlite:${path.join(dir, 'shared.sqlite')}`],
  ['postgres', () => pg.url],
])('two runs writing to the same %s store at once both complete and lose nothing', async (_name, address) => {
  const metadata = address();
  const run = (n: number) => runCli(['run', 'spine-demo', '--root', path.join(dir, `root-${n}`), '--metadata', metadata, '--param', `count=${n * 100}`, '--json']);
  const results = await Promise.all([run(1), run(2)]);
  // stderr in the comparison so a failure says why.
  for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('error') });
  const runIds = results.map((r) => JSON.parse(r.stdout).runId);
  const store = await openMetadataStore(metadata);
  try {
    for (const runId of runIds) {
      const [ctx] = await store.getContexts({ type: CONTEXT_RUN, name: runId });
      expect(ctx.customProperties?.state).toBe('COMPLETE');
      const executions = await store.getExecutions({ contextId: ctx.id });
      expect(executions).toHaveLength(4);
      expect(executions.every((e) => e.lastKnownState === ExecutionState.COMPLETE)).toBe(true);
    }
  } finally {
    await store.close();
  }
});
