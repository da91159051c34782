// The README's org-repo composition example is test/fixtures/infra/org-repo-example.ts verbatim (with the package import
// path instead of the relative one); this test keeps them identical and synthesizes the example.
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { VisionPlatform } from '../fixtures/infra/org-repo-example';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE = fs.readFileSync(path.join(ROOT, 'test/fixtures/infra/org-repo-example.ts'), 'utf8');

test('README contains the org-repo example verbatim', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const asPublished = EXAMPLE.replace("from '../../../constructs';", "from 'gcp-ml-platform';");
  expect(asPublished).not.toBe(EXAMPLE);
  expect(readme).toContain('```ts\n' + asPublished + '```');
  const lines = EXAMPLE.trimEnd().split('\n').length;
  expect(lines).toBeGreaterThanOrEqual(20);
  expect(lines).toBeLessThanOrEqual(30);
});

test('the example synthesizes and passes the policy pack', () => {
  const stack = new VisionPlatform(Testing.app(), 'vision-platform');
  const json = JSON.parse(Testing.synth(stack));
  const pools = Object.values(json.resource.google_container_node_pool) as { name: string; node_locations: string[]; placement_policy?: unknown }[];
  expect(pools.map((p) => p.name).sort()).toEqual(['l4', 'v5e']);
  expect(pools.find((p) => p.name === 'v5e')!.placement_policy).toEqual({ type: 'COMPACT', tpu_topology: '2x4' });
  expect(Object.keys(json.resource.google_service_account)).toHaveLength(5);
  expect(Object.keys(json.resource.google_sql_user)).toHaveLength(2);
});
