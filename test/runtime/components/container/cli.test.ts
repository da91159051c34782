// `mlp run --local-exec` as a user runs it: a mode that does not exist, or docker without an engine, is one
// line and a non-zero exit before anything is written (no metadata store, no outputs).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectOneLineError, runCli } from '../../../support/cli';

const PIPELINE = path.join(__dirname, '../../../fixtures/container/penguins-sklearn-pipeline.ts');
const NO_ENGINE = path.join(__dirname, '../../../fixtures/container/no-engine');

jest.setTimeout(120_000);

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-local-exec-cli-'));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

test('--local-exec docker without an engine: one line naming docker and podman, nothing written', async () => {
  // PATH holds only a Docker client whose engine does not answer (as on this machine), and no podman.
  const r = await runCli(['run', PIPELINE, '--root', dir, '--local-exec', 'docker'], { env: { PATH: NO_ENGINE } });
  expectOneLineError(r, /--local-exec docker: no container engine for container component PenguinsSklearnTrainer: docker cannot reach its engine \(Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\. Is the docker daemon running\?\); podman is not installed \(not on PATH\)/);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('--local-exec with an unknown mode is refused', async () => {
  const r = await runCli(['run', PIPELINE, '--root', dir, '--local-exec', 'kubernetes']);
  expectOneLineError(r, /--local-exec: "kubernetes" is not a local execution mode \(subprocess, docker\)/);
  expect(fs.readdirSync(dir)).toEqual([]);
});
