// Container components on the local runner: a non-zero exit fails the node with the last stderr lines, retries
// apply, an output never written or an output parameter of the wrong type fails the node naming it, ExecutorOutput
// metadata and parameters land in MLMD; `--local-exec docker` mounts the folders (checked on a stand-in engine,
// test/fixtures/container/fake-engine) and without an engine the run is refused in one line naming it.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArtifactState, ExecutionState } from '../../../../runtime/metadata/types';
import { LocalRunner, runPipeline } from '../../../../runtime/runner/local-runner';
import { findContainerEngine, parseLocalExecMode } from '../../../../runtime/components/container/local-exec';
import type { Pipeline } from '../../../../pipelines/dsl/pipeline';
import type { RunSummary } from '../../../../runtime/runner/run-types';
import type { LocalExecMode } from '../../../../runtime/components/container';
import * as fixtures from '../../../fixtures/container/shell-pipelines';
import { useTempStore } from '../../../support/temp-store';
import { waitFor } from '../../../support/wait-for';

const MODULE = path.join(__dirname, '../../../fixtures/container/shell-pipelines.ts');
const FAKE_ENGINE = path.join(__dirname, '../../../fixtures/container/fake-engine');
const NO_ENGINE = path.join(__dirname, '../../../fixtures/container/no-engine');
const t = useTempStore('mlp-local-exec-');

jest.setTimeout(120_000);

const run = (pipeline: Pipeline, localExec?: LocalExecMode): Promise<RunSummary> =>
  runPipeline(pipeline, { root: t.root, store: t.store, modules: [MODULE], localExec, parallelism: 1 });

const node = (s: RunSummary, id: string) => s.nodes.find((n) => n.id === id)!;

/** Runs `fn` with PATH replaced (the engine lookup reads it); restores it afterwards. */
async function withPath<T>(dirs: string[], fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = [...dirs, saved].join(path.delimiter);
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

test('a non-zero exit fails the node with the exit code and the last stderr lines; stdout and stderr are in the node log', async () => {
  const s = await run(fixtures.failing, 'subprocess');
  const n = node(s, 'failing');
  expect(n.state).toBe('failed');
  expect(n.error).toBe('container component test.Failing: sh exited with code 3; last stderr lines: two | three | four | five | six');
  const log = fs.readFileSync(n.logFile!, 'utf8');
  expect(log).toContain('starting\n');
  expect(log).toContain('one\n');
  const [execution] = await t.store.getExecutions({ ids: [n.executionId!] });
  expect(execution.lastKnownState).toBe(ExecutionState.FAILED);
});

test('retries apply; ExecutorOutput metadata and parameters are recorded; the outputs are committed; a rerun is cached', async () => {
  const s = await run(fixtures.flaky, 'subprocess');
  expect(s.nodes.map((n) => [n.id, n.state, n.attempts, n.error])).toEqual([['flaky', 'executed', 2, undefined], ['reader', 'executed', 1, undefined]]);
  const out = node(s, 'reader').outputs.out;
  expect(fs.readFileSync(path.join(out, 'shout.txt'), 'utf8')).toBe('HELLO');
  expect(fs.existsSync(path.join(out, '_MLP_COMMITTED.json'))).toBe(true);
  const [artifact] = await t.store.getArtifacts({ uri: out });
  expect(artifact.customProperties).toMatchObject({ length: 5, source: 'reader' });
  const [execution] = await t.store.getExecutions({ ids: [node(s, 'reader').executionId!] });
  expect(execution.customProperties?.outputs).toEqual({ words: ['hello'] });
  const again = await run(fixtures.flaky, 'subprocess');
  expect(again.nodes.map((n) => n.state)).toEqual(['cached', 'cached']);
});

test('an output artifact the command never wrote fails the node naming it', async () => {
  const n = node(await run(fixtures.silent, 'subprocess'), 'silent');
  expect(n.state).toBe('failed');
  expect(n.error).toMatch(/^container component test\.Silent: the command wrote nothing at output artifact "out" \(its path .*\/out\)$/);
});

test('an output parameter that is not of its type fails the node naming it', async () => {
  const n = node(await run(fixtures.badCount, 'subprocess'), 'bad-count');
  expect(n.state).toBe('failed');
  expect(n.error).toBe('container component test.BadCount: output parameter "count" (NUMBER_INTEGER) is not an integer: "twelve"');
});

test('ExecutorOutput metadata the store would refuse fails the node before anything is published', async () => {
  const n = node(await run(fixtures.badMetadata, 'subprocess'), 'bad-metadata');
  expect(n.state).toBe('failed');
  expect(n.error).toBe('container component test.BadMetadata: ExecutorOutput metadata "span" of output artifact "examples" (Examples) is declared INT, got the string "first"');
  const [artifact] = await t.store.getArtifacts({ type: 'Examples' });
  expect(artifact.state).toBe(ArtifactState.ABANDONED);
  expect(fs.existsSync(artifact.uri)).toBe(false);
});

test('a local process that writes into its input artifact fails its node naming the file', async () => {
  const n = node(await run(fixtures.scribble, 'subprocess'), 'scribbler');
  expect(n.state).toBe('failed');
  expect(n.error).toMatch(/^container component test\.Scribbler: the command changed its input artifact "numbers" \(.*\/flaky\/out\/\d+: greeting\.txt changed\); inputs are read-only, write only to outputs$/);
});

test('canceling the run stops the command with its worker and records the execution CANCELED', async () => {
  const pidFile = path.join(t.root, 'sleeper.pid');
  const runner = new LocalRunner(fixtures.sleeper, { root: t.root, store: t.store, modules: [MODULE], localExec: 'subprocess', parameters: { pid_file: pidFile } });
  const done = runner.run();
  await waitFor('the command to start', () => fs.existsSync(pidFile));
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  runner.cancel('SIGTERM');
  const s = await done;
  expect(s.state).toBe('CANCELED');
  expect(node(s, 'sleeper').state).toBe('canceled');
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  const [execution] = await t.store.getExecutions({ ids: [node(s, 'sleeper').executionId!] });
  expect(execution.lastKnownState).toBe(ExecutionState.CANCELED);
});

test('--local-exec docker runs the image with the artifact folders and files mounted', async () => {
  const logFile = path.join(t.root, 'docker-argv.log');
  process.env.FAKE_DOCKER_LOG = logFile;
  let s: RunSummary;
  try {
    s = await withPath([FAKE_ENGINE], () => run(fixtures.imageOnly, 'docker'));
    expect(s.nodes.map((n) => [n.id, n.state, n.error])).toEqual([['image-only', 'executed', undefined], ['reader', 'executed', undefined]]);
    expect(fs.readFileSync(path.join(node(s, 'reader').outputs.out, 'shout.txt'), 'utf8')).toBe('HI');
  } finally {
    delete process.env.FAKE_DOCKER_LOG;
  }
  const calls = fs.readFileSync(logFile, 'utf8').trim().split('\n');
  expect(calls).toHaveLength(2);
  expect(calls[0]).toContain("'--entrypoint', 'sh', 'example.com/team/trainer:1'");
  expect(calls[1]).toMatch(/'--volume', '[^']+:\/mlp\/inputs\/numbers\/0:ro'/);
  expect(calls[1]).toContain("'--entrypoint', 'python3', 'python:3.11-slim'");
  expect(calls[0]).toContain("'--env', 'API_TOKEN=token-value-not-for-logs'");
  // The node log names the variable, never its value.
  const log = fs.readFileSync(path.join(s.logDir, 'image-only.log'), 'utf8');
  expect(log).toContain('--env API_TOKEN=…');
  expect(log).not.toContain('token-value-not-for-logs');
});

test('--local-exec docker without an engine is refused before anything runs, naming what is missing', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-no-path-'));
  try {
    // PATH holds only a Docker client whose engine does not answer, and no podman.
    const saved = process.env.PATH;
    process.env.PATH = NO_ENGINE;
    try {
      await expect(run(fixtures.imageOnly, 'docker')).rejects.toThrow(
        '--local-exec docker: no container engine for container component test.ImageOnly: docker cannot reach its engine (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?); podman is not installed (not on PATH)',
      );
      // Without --local-exec, an image-only step says how to run it without an engine.
      await expect(run(fixtures.imageOnly)).rejects.toThrow(
        /^container component test\.ImageOnly needs a container engine to run its image example\.com\/team\/trainer:1 and none is available \(.*\); run with --local-exec subprocess to run its command as a local process, or declare a localCommand$/,
      );
    } finally {
      process.env.PATH = saved;
    }
    expect(await t.store.getExecutions()).toEqual([]);
    expect(findContainerEngine(empty)).toEqual({ missing: 'docker is not installed (not on PATH); podman is not installed (not on PATH)' });
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test('an image-only step runs as a local process with --local-exec subprocess', async () => {
  const s = await run(fixtures.imageOnly, 'subprocess');
  expect(s.nodes.map((n) => n.state)).toEqual(['executed', 'executed']);
  expect(fs.readFileSync(path.join(node(s, 'image-only').outputs.out, 'greeting.txt'), 'utf8')).toBe('hi\n');
});

test('--local-exec takes subprocess or docker', () => {
  expect(parseLocalExecMode('subprocess', '--local-exec')).toBe('subprocess');
  expect(parseLocalExecMode(undefined, '--local-exec')).toBeUndefined();
  expect(() => parseLocalExecMode('kubernetes', '--local-exec')).toThrow('--local-exec: "kubernetes" is not a local execution mode (subprocess, docker)');
});
