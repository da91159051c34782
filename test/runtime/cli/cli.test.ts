// The `mlp` command as a user runs it: --help everywhere, --json summaries, and bad input giving one clear
// line and a non-zero exit (missing pipeline file, invalid parameter, missing input artifact, unwritable
// root, a metadata database from a newer runtime).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { buildProgram } from '../../../runtime/cli/main';
import { expectOneLineError, runCli } from '../../support/cli';

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-cli-'));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('--help lists the commands, and every command (and subcommand) has its own --help', async () => {
  const top = await runCli(['--help']);
  expect(top.code).toBe(0);
  for (const c of ['run', 'runs', 'artifacts', 'lineage', 'component', 'stats', 'data', 'compile', 'serve', 'predict']) expect(top.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  // Every command the program registers, so a new one cannot ship without help.
  const leaves = buildProgram().commands.flatMap((c) => (c.commands.length ? c.commands.map((s) => [c.name(), s.name()]) : [[c.name()]]));
  expect(leaves.length).toBeGreaterThanOrEqual(12);
  for (const c of leaves) {
    const r = await runCli([...c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: mlp ${c.join(' ')}`);
  }
}, 120_000);

test('run --json prints a machine-readable summary; runs, artifacts and lineage read it back', async () => {
  const root = path.join(dir, 'root');
  const r = await runCli(['run', 'spine-demo', '--root', root, '--param', 'count=20', '--json']);
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout);
  expect(summary.state).toBe('COMPLETE');
  expect(summary.parameters).toEqual({ count: 20, factor: 3 });
  expect(summary.nodes.map((n: { id: string; state: string }) => [n.id, n.state])).toEqual([
    ['produce', 'executed'],
    ['scale', 'executed'],
    ['summarize-raw', 'executed'],
    ['summarize-scaled', 'executed'],
  ]);
  // Progress went to stderr: a line per node.
  expect(r.stderr.match(/^✓ \[\d\/4\]/gm)).toHaveLength(4);
  const summaryUri = summary.nodes[3].outputs.summary;
  expect(JSON.parse(fs.readFileSync(path.join(summaryUri, 'summary.json'), 'utf8'))).toMatchObject({ count: 20 });

  const runs = JSON.parse((await runCli(['runs', '--root', root, '--json'])).stdout);
  expect(runs).toEqual([expect.objectContaining({ runId: summary.runId, pipeline: 'spine-demo', state: 'COMPLETE' })]);

  const examples = JSON.parse((await runCli(['artifacts', '--root', root, '--type', 'Examples', '--json'])).stdout);
  expect(examples).toHaveLength(2);

  const lineage = await runCli(['lineage', summaryUri, '--root', root, '--direction', 'upstream']);
  expect(lineage.code).toBe(0);
  // summary ← summarize-scaled ← scaled ← scale ← numbers ← produce
  expect(lineage.stdout).toMatch(/execution \d+ SummarizeNumbers COMPLETE, node summarize-scaled/);
  expect(lineage.stdout).toMatch(/\[numbers\] artifact \d+ Examples LIVE .*\/scale\/scaled\//);
  expect(lineage.stdout).toMatch(/execution \d+ ProduceNumbers COMPLETE, node produce, run spine-demo-.*, runtime \d+\.\d+\.\d+/);
});

test('a missing pipeline file', async () => {
  expectOneLineError(await runCli(['run', path.join(dir, 'nope.ts'), '--root', dir]), /^mlp: error: pipeline file .*nope\.ts not found/);
});

test('an invalid parameter names its path', async () => {
  const r = await runCli(['run', 'spine-demo', '--root', dir, '--param', 'count=-3']);
  expectOneLineError(r, /^mlp: error: pipeline spine-demo: invalid parameter count: Too small: expected number to be >=1$/);
  const unknown = await runCli(['run', 'spine-demo', '--root', dir, '--param', 'colour=red']);
  expectOneLineError(unknown, /^mlp: error: pipeline spine-demo has no parameter "colour"/);
});

test('an unwritable root', async () => {
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, '');
  // A path below a regular file cannot be created, even by root.
  const r = await runCli(['run', 'spine-demo', '--root', path.join(file, 'root'), '--metadata', `sqlite:${path.join(dir, 'm.sqlite')}`]);
  expectOneLineError(r, /^mlp: error: pipeline root .*a-file\/root is not writable: ENOTDIR/);
});

test('a metadata database written by a newer runtime is refused, naming both versions', async () => {
  const root = path.join(dir, 'root');
  expect((await runCli(['run', 'spine-demo', '--root', root, '--param', 'count=5'])).code).toBe(0);
  const db = new Database(path.join(root, 'metadata.sqlite'));
  db.prepare('UPDATE MLMDEnv SET schema_version = 11').run();
  db.close();
  const r = await runCli(['runs', '--root', root]);
  expectOneLineError(r, /^mlp: error: metadata store .* has schema version 11, newer than version 10 supported/);
});

test('component run: the KFP container contract, and a missing input artifact', async () => {
  const out = path.join(dir, 'produced');
  const outputFile = path.join(dir, 'executor-output.json');
  const input = {
    inputs: { parameterValues: { count: 4, seed: 1 } },
    outputs: { artifacts: { numbers: { artifacts: [{ uri: out }] } }, outputFile },
  };
  const r = await runCli(['component', 'run', 'ProduceNumbers', '--executor-input', JSON.stringify(input)]);
  expect(r.code).toBe(0);
  const output = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
  expect(output.artifacts.numbers.artifacts[0]).toMatchObject({ uri: out, metadata: { span: 0, row_count: 4, mlp_fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  expect(fs.readFileSync(path.join(out, 'Split-all', 'numbers.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);

  // Chain the next step from a file, as a container would receive it.
  const scaleInput = path.join(dir, 'scale-input.json');
  fs.writeFileSync(scaleInput, JSON.stringify({
    inputs: { parameterValues: { factor: 2 }, artifacts: { numbers: { artifacts: [{ uri: out }] } } },
    outputs: { artifacts: { scaled: { artifacts: [{ uri: path.join(dir, 'scaled') }] } } },
  }));
  const scaled = await runCli(['component', 'run', 'ScaleNumbers', '--executor-input', scaleInput, '--json']);
  expect(scaled.code).toBe(0);
  expect(JSON.parse(scaled.stdout).artifacts.scaled.artifacts[0].metadata.row_count).toBe(4);

  const missing = {
    inputs: { artifacts: { numbers: { artifacts: [{ uri: path.join(dir, 'does-not-exist') }] } } },
    outputs: { artifacts: { scaled: { artifacts: [{ uri: path.join(dir, 'x') }] } } },
  };
  const m = await runCli(['component', 'run', 'ScaleNumbers', '--executor-input', JSON.stringify(missing)]);
  expectOneLineError(m, /^mlp: error: component ScaleNumbers: input artifact .*does-not-exist \(port "numbers"\) is missing or was never completely published$/);
  expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);

  const badParam = await runCli(['component', 'run', 'ProduceNumbers', '--executor-input', JSON.stringify({ ...input, inputs: { parameterValues: { count: 'many' } } })]);
  expectOneLineError(badParam, /^mlp: error: component ProduceNumbers: invalid parameter count: Invalid input: expected number, received string$/);
});
