// The README's org-repo composition example is test/fixtures/infra/org-repo-example.ts verbatim (with the package import
// path instead of the relative one): a complete program (provider, state backend, App.synth()). This test keeps them
// identical and runs the program as `cdktf synth` does. test/packaging/org-repo.test.ts compiles and runs the same
// text in an org repo that installed the packed constructs package.
import * as fs from 'fs';
import * as path from 'path';
import { synthProgram } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const FILE = path.join(ROOT, 'test/fixtures/infra/org-repo-example.ts');
const EXAMPLE = fs.readFileSync(FILE, 'utf8');

test('README contains the org-repo example verbatim', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const asPublished = EXAMPLE.replace("from '../../../constructs';", "from '@gcp-ml-platform/constructs';");
  expect(asPublished).not.toBe(EXAMPLE);
  expect(readme).toContain('```ts\n' + asPublished + '```');
  expect(EXAMPLE.trimEnd().split('\n').length).toBeLessThanOrEqual(40);
});

test('the example program synthesizes with App.synth(): provider, GCS state backend, policy pack passed', () => {
  const stacks = synthProgram(FILE);
  expect(Object.keys(stacks)).toEqual(['vision-platform']);
  const json = stacks['vision-platform'];
  expect(json.provider.google).toEqual([expect.objectContaining({ project: 'acme-vision', region: 'europe-west4' })]);
  expect(json.terraform.backend.gcs).toEqual({ bucket: 'acme-vision-tfstate', prefix: 'vision-platform' });
  const pools = Object.values(json.resource.google_container_node_pool) as { name: string; node_locations: string[]; placement_policy?: unknown }[];
  expect(pools.map((p) => p.name).sort()).toEqual(['l4', 'v5e']);
  expect(pools.find((p) => p.name === 'v5e')!.placement_policy).toEqual({ type: 'COMPACT', tpu_topology: '2x4' });
  expect(Object.keys(json.resource.google_service_account)).toHaveLength(5);
  expect(Object.keys(json.resource.google_sql_user)).toHaveLength(2);
});
