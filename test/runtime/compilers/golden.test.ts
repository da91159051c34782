// Golden files: the bundled spine-demo compiled for each target must match what is committed under golden/,
// so any change to the emitted output is seen in review. After an intended change, regenerate them with
// `MLP_UPDATE_GOLDEN=1 npx jest test/runtime/compilers/golden.test.ts` and read the diff.

import * as fs from 'fs';
import * as path from 'path';
import { compileCli } from './fixtures';

const GOLDEN = path.join(__dirname, 'golden');
const COMMON = ['--image', 'us-docker.pkg.dev/my-project/mlp/runtime:abc123', '--pipeline-root', 'gs://my-project-pipelines/root'];

test.each<[string, string[]]>([
  ['spine-demo.argo.json', ['--target', 'argo', '--service-account', 'mlp-runner', '--deadline', '7200', '--cloudsql-instance', 'my-project:us-central1:mlmd', '--metadata-user', 'mlp-runner@my-project.iam']],
  ['spine-demo.kfp.json', ['--target', 'kfp']],
  ['spine-demo.vertex-job.json', ['--target', 'kfp', '--vertex-job', '--param', 'count=500']],
  ['spine-demo.airflow.py', ['--target', 'airflow', '--schedule', '0 3 * * *']],
])('%s', async (file, args) => {
  const { stdout, error } = await compileCli('spine-demo', ...COMMON, ...args);
  expect(error).toBeUndefined();
  const golden = path.join(GOLDEN, file);
  if (process.env.MLP_UPDATE_GOLDEN === '1') fs.writeFileSync(golden, stdout);
  expect(stdout).toBe(fs.readFileSync(golden, 'utf8'));
});
