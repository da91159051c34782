// An org repo that installs the infrastructure constructs alone, as the README tells a platform team: both
// workspace packages are packed (`npm pack`), a fresh repo in a temp folder outside the checkout installs the
// constructs tarball with its own cdktf, constructs and providers (a constructs release other than this
// repo's, inside cdktf's range) from the npm cache, compiles the README's two org-repo examples with tsc and
// runs them (App.synth()). The constructs package must pull in none of the runtime's dependencies and leave
// one copy of `constructs` (a second copy breaks `scope.node`).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packWorkspace, REPO, sh, type PackedPackage } from '../support/pack';

const rootPkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const runtimePkg = JSON.parse(fs.readFileSync(path.join(REPO, 'runtime', 'package.json'), 'utf8'));
const README = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
/** The org repo's own constructs release: older than this repository's, still inside cdktf's peer range. */
const ORG_CONSTRUCTS = '10.4.2';

let work: string;
let org: string;
let constructsPkg: PackedPackage;
let runtimeTarball: PackedPackage;

/** The README's ```ts block that contains `marker`. */
function readmeExample(marker: string): string {
  const blocks = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes(marker));
  expect(blocks).toHaveLength(1);
  return blocks[0];
}

beforeAll(async () => {
  work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-org-'));
  constructsPkg = await packWorkspace('constructs', work);
  runtimeTarball = await packWorkspace('runtime', work);
  org = path.join(work, 'acme-infra');
  await fs.promises.mkdir(org);
  const dev = rootPkg.devDependencies as Record<string, string>;
  await fs.promises.writeFile(path.join(org, 'package.json'), JSON.stringify({
    name: 'acme-infra',
    private: true,
    dependencies: {
      [constructsPkg.name]: `file:${constructsPkg.tarball}`,
      cdktf: dev.cdktf,
      constructs: ORG_CONSTRUCTS,
      '@cdktf/provider-google': dev['@cdktf/provider-google'],
      '@cdktf/provider-kubernetes': dev['@cdktf/provider-kubernetes'],
      '@cdktf/provider-helm': dev['@cdktf/provider-helm'],
    },
    devDependencies: { typescript: dev.typescript },
  }, null, 2));
  await fs.promises.writeFile(path.join(org, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, skipLibCheck: true, types: [] },
    include: ['*.ts'],
  }));
  await fs.promises.writeFile(path.join(org, 'main.ts'), readmeExample('class VisionPlatform'));
  await fs.promises.writeFile(path.join(org, 'platform.ts'), readmeExample('new MlPlatform('));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: org });
}, 600_000);

afterAll(async () => {
  if (work) await fs.promises.rm(work, { recursive: true, force: true });
});

test('the constructs tarball holds compiled JavaScript with declarations for every module, no sources or tests', () => {
  const { files } = constructsPkg;
  expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/errors.js', 'dist/errors.d.ts', 'dist/policy/policy-pack.js']));
  const js = files.filter((f) => f.endsWith('.js'));
  expect(js.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts')))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((f) => /test/.test(f))).toEqual([]);
});

test('both packages are publishable: not private, one version, npm publish --dry-run passes', async () => {
  expect(constructsPkg.version).toBe(runtimeTarball.version);
  expect(rootPkg.version).toBe(constructsPkg.version);
  for (const folder of ['constructs', 'runtime']) {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, folder, 'package.json'), 'utf8'));
    expect({ folder, private: pkg.private }).toEqual({ folder, private: undefined });
    const { stdout, stderr } = await sh('npm', ['publish', '--dry-run', '--workspace', folder, '--tag', 'dry-run'], { cwd: REPO });
    expect(stdout).toContain(`+ ${pkg.name}@${pkg.version}`);
    expect(stderr).toContain('with tag dry-run and public access (dry-run)');
    // npm corrects and warns about a bad bin, main or files entry instead of failing; only the missing login may warn here.
    expect(stderr.split('\n').filter((l) => /npm warn/.test(l) && !/requires you to be logged in|EBADENGINE/.test(l))).toEqual([]);
  }
}, 300_000);

test('cdktf, constructs and the providers are peer dependencies; the org repo keeps its one constructs copy', async () => {
  const installed = JSON.parse(fs.readFileSync(path.join(org, 'node_modules', ...constructsPkg.name.split('/'), 'package.json'), 'utf8'));
  expect(installed.dependencies ?? {}).toEqual({});
  expect(Object.keys(installed.peerDependencies).sort()).toEqual(['@cdktf/provider-google', '@cdktf/provider-helm', '@cdktf/provider-kubernetes', 'cdktf', 'constructs']);
  const { stdout } = await sh('find', ['node_modules', '-path', '*/constructs/package.json', '-not', '-path', '*/@gcp-ml-platform/*'], { cwd: org });
  expect(stdout.trim().split('\n')).toEqual(['node_modules/constructs/package.json']);
  expect(JSON.parse(fs.readFileSync(path.join(org, 'node_modules', 'constructs', 'package.json'), 'utf8')).version).toBe(ORG_CONSTRUCTS);
});

test('installing the constructs pulled in none of the runtime dependencies', () => {
  const runtimeDeps = Object.keys({ ...runtimePkg.dependencies, ...runtimePkg.optionalDependencies });
  expect(runtimeDeps.length).toBeGreaterThan(10);
  expect(runtimeDeps.filter((d) => fs.existsSync(path.join(org, 'node_modules', d)))).toEqual([]);
  expect(fs.existsSync(path.join(org, 'node_modules', '@gcp-ml-platform', 'mlp'))).toBe(false);
});

test('the README examples compile with tsc and synthesize with App.synth()', async () => {
  await sh(path.join(org, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: org });
  const synth = async (program: string) => {
    const outdir = path.join(work, `${program}.out`);
    await sh(process.execPath, [program], { cwd: org, env: { CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' } });
    const stacks = fs.readdirSync(path.join(outdir, 'stacks')).sort();
    return Object.fromEntries(stacks.map((s) => [s, JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', s, 'cdk.tf.json'), 'utf8'))]));
  };
  const pools = (stack: { resource: { google_container_node_pool: Record<string, { name: string }> } }) => Object.values(stack.resource.google_container_node_pool).map((p) => p.name).sort();
  const vision = await synth('main.js');
  expect(Object.keys(vision)).toEqual(['vision-platform']);
  expect(vision['vision-platform'].terraform.backend.gcs).toEqual({ bucket: 'acme-vision-tfstate', prefix: 'vision-platform' });
  expect(pools(vision['vision-platform'])).toEqual(['l4', 'v5e']);
  const platform = await synth('platform.js');
  expect(Object.keys(platform)).toEqual(['vision-platform', 'vision-workloads']);
  expect(pools(platform['vision-platform'])).toEqual(['general', 'l4']);
  expect(platform['vision-workloads'].terraform.backend.gcs.prefix).toBe('platform/vision/vision-workloads');
}, 300_000);
