// The pipeline example in README.md is real: it is extracted, its package imports pointed at this checkout,
// and run with `mlp run` including a parameter override.

import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, runCli } from '../../support/cli';

test('the README pipeline example runs', async () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Writing a pipeline'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toContain("new Pipeline({ name: 'my-pipeline'");
  // Inside the checkout (git-ignored) so the example's own imports, like zod, resolve as in a user's repo.
  await fs.promises.mkdir(path.join(REPO_ROOT, 'test-output'), { recursive: true });
  const dir = await fs.promises.mkdtemp(path.join(REPO_ROOT, 'test-output', 'readme-'));
  try {
    const file = path.join(dir, 'my-pipeline.ts');
    fs.writeFileSync(file, code!.replace(/'gcp-ml-platform\//g, `'${REPO_ROOT}/`));
    const r = await runCli(['run', file, '--root', path.join(dir, 'root'), '--param', 'factor=3', '--json']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.parameters).toEqual({ factor: 3 });
    expect(summary.nodes.map((n: { state: string }) => n.state)).toEqual(['executed', 'executed']);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
});
