// The README's one-screen MlPlatform example is test/fixtures/infra/ml-platform-example.ts verbatim (with the package
// import path): a complete program. This test keeps them identical and runs it as `cdktf synth` does; both stacks
// synthesize only when they pass the policy pack.
import * as fs from 'fs';
import * as path from 'path';
import { all, synthProgram } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const FILE = path.join(ROOT, 'test/fixtures/infra/ml-platform-example.ts');
const EXAMPLE = fs.readFileSync(FILE, 'utf8');

test('README contains the MlPlatform example verbatim, on one screen', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const asPublished = EXAMPLE.replace("from '../../../constructs';", "from '@gcp-ml-platform/constructs';");
  expect(asPublished).not.toBe(EXAMPLE);
  expect(readme).toContain('```ts\n' + asPublished + '```');
  expect(EXAMPLE.trimEnd().split('\n').length).toBeLessThanOrEqual(30);
});

test('the example program synthesizes a platform and a workloads stack with App.synth()', () => {
  const stacks = synthProgram(FILE);
  expect(Object.keys(stacks).sort()).toEqual(['vision-platform', 'vision-workloads']);
  const [p, w] = [stacks['vision-platform'], stacks['vision-workloads']];
  expect(p.provider.google).toEqual([expect.objectContaining({ project: 'acme-vision', region: 'europe-west4' })]);
  expect(all(p, 'google_container_node_pool').map((n) => n.name).sort()).toEqual(['general', 'l4']);
  expect(all(w, 'kubernetes_deployment_v1').map((d) => d.spec.template.spec.container[0].image).sort()).toEqual([
    'europe-west4-docker.pkg.dev/acme-vision/vision/runtime:1.4.2', 'europe-west4-docker.pkg.dev/acme-vision/vision/runtime:1.5.0',
  ]);
  expect(all(w, 'google_cloudbuild_trigger').find((t) => t.name === 'mlp-vision-deploy')!.approval_config).toEqual({ approval_required: true });
  expect(all(w, 'helm_release')).toEqual([]);
  expect(p.terraform.backend.gcs.prefix).toBe('platform/vision/vision-platform');
  expect(w.terraform.backend.gcs.prefix).toBe('platform/vision/vision-workloads');
});
