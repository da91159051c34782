// The ExecutorOutput of a distributed step on Argo, through the pipeline root (issue 19 §3): rank 0's
// `mlp component run --executor-output-uri` creates it exactly once (a second, different one is refused by the
// ifGenerationMatch 0 precondition), and `mlp component result` (the read-back step) prints the same JSON and
// writes it where Argo reads the output parameter; a missing object is a one-line error naming the URI. Real
// CLI processes against the in-process GCS emulator.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { storageFor } from '../../../runtime/storage';
import { expectOneLineError, runCli } from '../../support/cli';
import { useGcsEmulator } from '../../support/gcs-emulator';

useGcsEmulator();

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-component-result-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ROOT = 'gs://mlp-results/root';
const resultUri = `${ROOT}/dist/train/executor-output/uid-1.json`;

/** ProduceNumbers' ExecutorInput, its output under the gs:// root and its local output file in `tag`. */
function executorInput(tag: string, count: number): { input: string; outputFile: string } {
  const outputFile = path.join(dir, tag, 'executor-output.json');
  const input = { inputs: { parameterValues: { count, seed: 1 } }, outputs: { artifacts: { numbers: { artifacts: [{ uri: `${ROOT}/dist/train/numbers/${tag}` }] } }, outputFile } };
  return { input: JSON.stringify(input), outputFile };
}

test('rank 0 (a cloud step) creates its ExecutorOutput once; the read-back prints and writes the same JSON', async () => {
  const metadata = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
  const first = executorInput('first', 4);
  const cloud = ['--metadata', metadata, '--pipeline', 'dist', '--run-id', 'uid-1', '--node', 'train'];
  const run = await runCli(['component', 'run', 'ProduceNumbers', '--executor-input', first.input, ...cloud, '--executor-output-uri', resultUri]);
  expect(run.stderr).toMatch(/train: executed/);
  expect(run.code).toBe(0);
  const written = fs.readFileSync(first.outputFile, 'utf8');
  expect(JSON.parse(written).artifacts.numbers.artifacts[0].uri).toBe(`${ROOT}/dist/train/numbers/first`);
  // The same JSON the step wrote to its local output file.
  expect((await storageFor(resultUri).readFile(resultUri)).toString('utf8')).toBe(written);

  const out = path.join(dir, 'read-back', 'executor-output.json');
  const back = await runCli(['component', 'result', '--from', resultUri, '--out', out]);
  expect(back.stderr).toBe('');
  expect(back.code).toBe(0);
  expect(JSON.parse(back.stdout)).toEqual(JSON.parse(written));
  expect(fs.readFileSync(out, 'utf8')).toBe(written);

  // A second step writing another ExecutorOutput to the same URI is refused; the first stays.
  const second = executorInput('second', 5);
  const again = await runCli(['component', 'run', 'ProduceNumbers', '--executor-input', second.input, '--executor-output-uri', resultUri]);
  // The component logs what it did; the error is the last line, without a stack trace.
  expect(again.code).toBe(1);
  expect(again.stderr.trim().split('\n').at(-1)).toBe(`mlp: error: cannot publish to ${resultUri}: a different object is already there`);
  expect(again.stderr).not.toMatch(/\n\s+at /);
  expect((await storageFor(resultUri).readFile(resultUri)).toString('utf8')).toBe(written);
}, 120_000);

test('creating the same content again is accepted (a retried request whose first attempt stored it), other content is not', async () => {
  const uri = `${ROOT}/dist/other/executor-output/uid-2.json`;
  const gcs = storageFor(uri);
  await gcs.createFile(uri, '{"a":1}');
  await expect(gcs.createFile(uri, '{"a":1}')).resolves.toBeUndefined();
  await expect(gcs.createFile(uri, '{"a":2}')).rejects.toThrow(`cannot publish to ${uri}: a different object is already there`);
  expect((await gcs.readFile(uri)).toString('utf8')).toBe('{"a":1}');
});

test('a local path is created exclusively as well, with no temp file left', async () => {
  const file = path.join(dir, 'local', 'executor-output', 'uid-3.json');
  const local = storageFor(file);
  await local.createFile(file, '{"b":1}');
  await expect(local.createFile(file, '{"b":2}')).rejects.toThrow(`cannot publish to ${file}: a different file is already there`);
  expect(fs.readFileSync(file, 'utf8')).toBe('{"b":1}');
  expect(fs.readdirSync(path.dirname(file))).toEqual(['uid-3.json']);
});

test('a missing ExecutorOutput is a one-line error naming the URI, exit 1, and no --out file', async () => {
  const missing = `${ROOT}/dist/train/executor-output/never.json`;
  const out = path.join(dir, 'missing', 'executor-output.json');
  const r = await runCli(['component', 'result', '--from', missing, '--out', out]);
  expectOneLineError(r, new RegExp(`^mlp: error: no ExecutorOutput at ${missing.replace(/[.]/g, '\\.')}: `));
  expect(r.code).toBe(1);
  expect(fs.existsSync(out)).toBe(false);
});

test('an --executor-output-uri the storage cannot write is refused before the step publishes anything', async () => {
  const bad = executorInput('bad-uri', 3);
  const r = await runCli(['component', 'run', 'ProduceNumbers', '--executor-input', bad.input, '--executor-output-uri', 's3://b/x.json']);
  expectOneLineError(r, /^mlp: error: unsupported storage URI s3:\/\/b\/x\.json: use a local path, file:\/\/ or gs:\/\/$/);
  expect(fs.existsSync(bad.outputFile)).toBe(false);
  expect(await storageFor(`${ROOT}/dist/train/numbers/bad-uri`).exists(`${ROOT}/dist/train/numbers/bad-uri`)).toBe(false);
});

test('mlp component result --help says what it reads and writes', async () => {
  const r = await runCli(['component', 'result', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('--from <uri>');
  expect(r.stdout).toContain('--out <file>');
});
