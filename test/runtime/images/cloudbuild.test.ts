// The Cloud Build configs (cloudbuild/*.yaml) parsed as YAML: images builds and pushes both Dockerfile targets
// tagged with the commit and cached from the previous build; deploy installs, compiles, synthesizes and runs
// terraform init/plan/apply for the platform then the workloads stack of the environment given as _ENV;
// pipeline compiles and submits a run. Every user substitution used is declared, and shell variables are
// escaped ($$) so Cloud Build does not take them for substitutions.

import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DIR = path.resolve(__dirname, '..', '..', '..', 'cloudbuild');
const load = (name: string): Json => parse(fs.readFileSync(path.join(DIR, name), 'utf8'));
const BUILT_IN = new Set(['PROJECT_ID', 'COMMIT_SHA', 'SHORT_SHA', 'BRANCH_NAME', 'TAG_NAME', 'REVISION_ID', 'BUILD_ID', 'LOCATION', 'PROJECT_NUMBER', 'REPO_NAME']);
const step = (config: Json, id: string): Json => config.steps.find((s: Json) => s.id === id);

describe.each(['images.yaml', 'deploy.yaml', 'pipeline.yaml'])('%s', (name) => {
  const text = fs.readFileSync(path.join(DIR, name), 'utf8');
  const config = load(name);

  test('every substitution it uses is declared or built in, and shell variables are escaped', () => {
    const used = [...text.replace(/\$\$/g, '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
    const undeclared = used.filter((v) => !BUILT_IN.has(v) && !(v in (config.substitutions ?? {})));
    expect([...new Set(undeclared)]).toEqual([]);
    expect(Object.keys(config.substitutions ?? {}).every((k) => k.startsWith('_'))).toBe(true);
  });

  test('steps have unique ids, images and known waitFor ids', () => {
    const ids = config.steps.map((s: Json) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of config.steps) {
      expect(typeof s.name).toBe('string');
      for (const w of s.waitFor ?? []) expect(ids.slice(0, ids.indexOf(s.id))).toContain(w);
    }
  });
});

test('images: both targets built in parallel, tagged with the commit only (immutable tags), cached in the -cache repository, pushed', () => {
  const config = load('images.yaml');
  for (const target of ['cpu', 'gpu']) {
    const s = step(config, target);
    const image = target === 'cpu' ? '${_CPU_IMAGE}' : '${_GPU_IMAGE}';
    const cache = target === 'cpu' ? '${_CPU_CACHE}' : '${_GPU_CACHE}';
    expect(s.waitFor).toEqual(['builder']);
    expect(s.args).toEqual(expect.arrayContaining([
      'buildx', 'build', '--file=runtime/images/Dockerfile', `--target=${target}`,
      `--tag=${image}:\${COMMIT_SHA}`,
      `--cache-from=type=registry,ref=${cache}`,
      `--cache-to=type=registry,ref=${cache},mode=max`,
      '.',
    ]));
    expect(s.args.filter((a: string) => a.startsWith('--tag='))).toEqual([`--tag=${image}:\${COMMIT_SHA}`]);
  }
  expect(config.images).toEqual(['${_CPU_IMAGE}:${COMMIT_SHA}', '${_GPU_IMAGE}:${COMMIT_SHA}']);
  expect(config.substitutions._CACHE_REPOSITORY).toBe('${_REPOSITORY}-cache');
  expect(config.substitutions._CPU_CACHE).toBe('${_REGION}-docker.pkg.dev/${PROJECT_ID}/${_CACHE_REPOSITORY}/${_IMAGE}:buildcache');
  expect(config.substitutions._GPU_IMAGE).toContain('${_IMAGE}-gpu');
  expect(config.options.dynamicSubstitutions).toBe(true);
});

test('deploy: npm ci, compile, synth, then init/plan/apply of <_ENV>-platform before <_ENV>-workloads', () => {
  const config = load('deploy.yaml');
  expect(config.substitutions._ENV).toBe('dev');
  expect(config.steps.map((s: Json) => s.id)).toEqual([
    'npm-ci', 'compile', 'synth',
    'platform-init', 'platform-plan', 'platform-apply',
    'workloads-init', 'workloads-plan', 'workloads-apply',
  ]);
  expect(step(config, 'npm-ci').args).toEqual(['ci', '--no-audit', '--no-fund']);
  expect(step(config, 'synth')).toMatchObject({ entrypoint: 'npm', args: ['run', 'synth'], env: ['MLP_COMPILED_PIPELINES=compiled'] });
  expect(step(config, 'compile').args[1]).toContain('--out "compiled/argo/$$p.json"');
  for (const stack of ['platform', 'workloads']) {
    const dir = `cdktf.out/stacks/\${_ENV}-${stack}`;
    expect(step(config, `${stack}-init`)).toMatchObject({ dir, args: ['init', '-input=false'] });
    expect(step(config, `${stack}-plan`)).toMatchObject({ dir, args: ['plan', '-input=false', '-out=tfplan'] });
    expect(step(config, `${stack}-apply`)).toMatchObject({ dir, args: ['apply', '-input=false', 'tfplan'] });
    expect(step(config, `${stack}-apply`).name).toMatch(/^\$\{_TERRAFORM_IMAGE\}$/);
  }
  expect(config.substitutions._TERRAFORM_IMAGE).toMatch(/^hashicorp\/terraform:\d+\.\d+\.\d+$/);
});

test('pipeline: compiles and submits with mlp (vertex) or applies the template and creates a Workflow (argo)', () => {
  const config = load('pipeline.yaml');
  // No `latest` exists in an immutable-tag registry: the image defaults to the build's commit.
  expect(config.substitutions).toMatchObject({ _PIPELINE: 'flights', _TARGET: 'vertex', _IMAGE_TAG: '${COMMIT_SHA}' });
  const script = step(config, 'compile-and-submit').args[1] as string;
  expect(script).toContain('node runtime/cli/mlp.js submit "$$PIPELINE" --target vertex --project "$$PROJECT" --region "$$REGION"');
  expect(script).toContain('node runtime/cli/mlp.js compile "$$PIPELINE" --target argo');
  expect(script).not.toContain('--dry-run');
  const argo = step(config, 'argo-run').args[1] as string;
  expect(argo).toContain('kubectl apply -n "$$NAMESPACE" -f compiled-template.json');
  expect(argo).toContain('"workflowTemplateRef":{"name":"%s"}');
});
