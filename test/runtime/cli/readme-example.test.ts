// The pipeline example in README.md is real: it is extracted, its imports of the runtime package's entry points
// pointed at this checkout's files, and run with `mlp run` including a parameter override.

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
    // The runtime package's entry points (runtime/package.json exports) are these files of the checkout.
    const { name, exports } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'runtime', 'package.json'), 'utf8'));
    const local = code!.replace(new RegExp(`'${name}(/[\\w-]+)'`, 'g'), (_m, sub: string) => `'${path.join(REPO_ROOT, exports[`.${sub}`].replace(/^\.\/dist\//, ''))}'`);
    expect(local).not.toContain(name);
    fs.writeFileSync(file, local);
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
