// What can be checked of the component images without a Docker engine: the Dockerfile's targets, base images,
// non-root user and entry point; that it installs through runtime/images/install.sh (the script the npm pack
// install test runs) at the path the compilers address package files under; that the runtime package has no
// infrastructure dependency and the runtime never imports one; and the .dockerignore and runtime/package.json
// "files" that decide what goes in.

import * as fs from 'fs';
import * as path from 'path';
import { IMAGE_APP_DIR } from '../../../runtime/compilers/common';

const REPO = path.resolve(__dirname, '..', '..', '..');
const dockerfile = fs.readFileSync(path.join(REPO, 'runtime', 'images', 'Dockerfile'), 'utf8');
const install = fs.readFileSync(path.join(REPO, 'runtime', 'images', 'install.sh'), 'utf8');

/** The Dockerfile's stages: name → its instructions (continuation lines joined). */
function stages(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [line];
      out.set(from[2] ?? from[1], current);
    } else {
      current.push(line);
    }
  }
  return out;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('runtime/images/Dockerfile', () => {
  const s = stages();

  test('cpu on the Active LTS Node (26) slim, gpu on the CUDA 11 + cuDNN 8 runtime that libtensorflow 2.9 needs', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:26\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:11\.8\.\d+-cudnn8-runtime-ubuntu22\.04$/m);
    expect(s.get('cpu')![0]).toBe('FROM node AS cpu');
    expect(s.get('gpu')![0]).toBe('FROM gpu-base AS gpu');
    expect(s.get('gpu-base')![0]).toBe('FROM ${CUDA_IMAGE} AS gpu-base');
  });

  test.each(['cpu', 'gpu'])('%s: installed by install.sh into the app dir, native TF backend forced, non-root, mlp as entry point', (target) => {
    const build = s.get(`${target}-build`)!.join('\n');
    expect(build).toContain(`WORKDIR ${IMAGE_APP_DIR}`);
    expect(build).toContain(`RUN sh /usr/local/lib/mlp-install.sh deps ${IMAGE_APP_DIR} ${target}`);
    expect(build).toContain(`RUN sh /usr/local/lib/mlp-install.sh sources /tmp/mlp.tgz ${IMAGE_APP_DIR}`);
    expect(build).toContain('COPY runtime/package.json package-lock.json ./');
    const final = s.get(target)!.join('\n');
    expect(final).toContain(`COPY --from=${target}-build ${IMAGE_APP_DIR} ${IMAGE_APP_DIR}`);
    expect(final).toContain(`ln -s ${IMAGE_APP_DIR}/runtime/cli/mlp.js /usr/local/bin/mlp`);
    expect(final).toMatch(/^USER 10001:10001$/m);
    expect(final).toContain('ENTRYPOINT ["mlp"]');
    expect(final).toContain(`MLP_TF_BACKEND=${target === 'cpu' ? 'node' : 'node-gpu'}`);
    // Worker processes load sucrase by name from the working directory (see pack-install.test.ts).
    expect(final).toContain(`NODE_PATH=${IMAGE_APP_DIR}/node_modules`);
    // No compiler toolchain in the runtime image.
    expect(final).not.toMatch(/g\+\+|build-essential/);
  });

  test('the tarball comes from npm pack of the runtime workspace, as the pack install test makes it', () => {
    expect(s.get('pack')!.join('\n')).toContain('RUN mkdir /pack && npm pack --workspace runtime --pack-destination /pack');
  });
});

describe('runtime/images/install.sh', () => {
  const infra = ['cdktf', 'constructs', '@cdktf/provider-google', '@cdktf/provider-kubernetes', '@cdktf/provider-helm'];

  test('the runtime package depends on no infrastructure binding, and the runtime and bundled pipelines never import one', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'runtime', 'package.json'), 'utf8'));
    expect(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }).filter((d) => infra.includes(d))).toEqual([]);
    const sources = [...walk(path.join(REPO, 'runtime')), ...walk(path.join(REPO, 'pipelines'))].filter((f) => /\.(ts|js)$/.test(f) && !f.includes(`${path.sep}dist${path.sep}`));
    const offenders = sources.filter((f) => {
      const text = fs.readFileSync(f, 'utf8');
      return infra.some((dep) => new RegExp(`(from|require\\(|import\\()\\s*['"]${dep.replace('/', '\\/')}(/[^'"]*)?['"]`).test(text));
    });
    expect(offenders.map((f) => path.relative(REPO, f))).toEqual([]);
  });

  test('keeps the native TensorFlow package of the target only, and fails when it did not really install', () => {
    expect(install).toContain("cpu) npm pkg delete 'optionalDependencies[@tensorflow/tfjs-node-gpu]'");
    expect(install).toContain("gpu) npm pkg delete 'optionalDependencies[@tensorflow/tfjs-node]'");
    expect(install).toMatch(/cpu\) has_native_tf @tensorflow\/tfjs-node \|\| \{/);
    expect(install).toContain('npm install --omit=dev');
  });
});

describe('what goes into the image', () => {
  test('the runtime package ships cli/mlp.js and dist/ (runtime/ and pipelines/); .dockerignore keeps the context to them', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'runtime', 'package.json'), 'utf8'));
    expect(pkg.files).toEqual(['cli/mlp.js', 'dist/']);
    expect(pkg.bin.mlp).toBe('cli/mlp.js');
    // TypeScript runs through sucrase in an install, so it must be a production dependency.
    expect(pkg.dependencies.sucrase).toBeDefined();
    const ignore = fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    expect(ignore).toEqual(expect.arrayContaining(['!package.json', '!package-lock.json', '!runtime/', '!pipelines/', '**/node_modules']));
  });
});
