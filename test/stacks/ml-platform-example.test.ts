// The README's one-screen MlPlatform example is test/fixtures/infra/ml-platform-example.ts verbatim (with the package
// import path); this test keeps them identical and synthesizes both stacks through the policy pack.
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { visionPlatform } from '../fixtures/infra/ml-platform-example';
import { all } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE = fs.readFileSync(path.join(ROOT, 'test/fixtures/infra/ml-platform-example.ts'), 'utf8');

test('README contains the MlPlatform example verbatim, on one screen', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const asPublished = EXAMPLE.replace("from '../../../constructs';", "from 'gcp-ml-platform';");
  expect(asPublished).not.toBe(EXAMPLE);
  expect(readme).toContain('```ts\n' + asPublished + '```');
  expect(EXAMPLE.trimEnd().split('\n').length).toBeLessThanOrEqual(30);
});

test('the example synthesizes a platform and a workloads stack that pass the policy pack', () => {
  const platform = visionPlatform(Testing.app());
  for (const stack of platform.stacks) stack.prepareStack();
  const [p, w] = platform.stacks.map((s) => JSON.parse(Testing.synth(s)));
  expect(platform.stacks.map((s) => s.node.id)).toEqual(['vision-platform', 'vision-workloads']);
  for (const s of [platform.platform, platform.workloads!]) expect(s.policy.reports.get(s.node.id)!.violations).toEqual([]);
  expect(all(p, 'google_container_node_pool').map((n) => n.name).sort()).toEqual(['general', 'l4']);
  expect(all(w, 'kubernetes_deployment_v1').map((d) => d.spec.template.spec.container[0].image).sort()).toEqual([
    'europe-west4-docker.pkg.dev/acme-vision/vision/runtime:1.4.2', 'europe-west4-docker.pkg.dev/acme-vision/vision/runtime:1.5.0',
  ]);
  expect(all(w, 'google_cloudbuild_trigger').find((t) => t.name === 'mlp-vision-deploy')!.approval_config).toEqual({ approval_required: true });
  expect(all(w, 'helm_release')).toEqual([]);
  expect(w.terraform.backend.gcs.prefix).toBe('platform/vision/vision-workloads');
});
