// What can be checked of the component images without a Docker engine: the Dockerfile's targets, base images,
// non-root user and entry point; that it installs through runtime/images/install.sh (the script the npm pack
// install test runs) at the path the compilers address package files under; that the runtime package has no
// infrastructure dependency and the runtime never imports one; that only the gpu flavor fetches onnxruntime-node's
// CUDA provider (with the variable the pinned onnxruntime-node reads) beside pinned CUDA 12 / cuDNN 9 libraries and
// asks for the cuda provider; and the .dockerignore and runtime/package.json "files" that decide what goes in.
// There is no Docker engine or GPU here: the image build itself (apt, the NuGet download, the loader checks) is
// not exercised, only what the Dockerfile and install.sh say.

import { execFileSync } from 'child_process';
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

  test('gpu-base adds the CUDA 12 + cuDNN 9 runtime libraries of the ONNX CUDA provider, pinned, and checks both majors resolve', () => {
    const base = s.get('gpu-base')!.join('\n');
    const install = /apt-get install -y --no-install-recommends\s+((?:\S+=\S+\s+)+)&&/.exec(base);
    expect(install).not.toBeNull();
    const packages = install![1].trim().split(/\s+/);
    expect(packages.map((p) => p.split('=')[0])).toEqual(['cuda-cudart-12-6', 'libcublas-12-6', 'libcufft-12-6', 'libcurand-12-6', 'libcudnn9-cuda-12']);
    for (const p of packages) expect(p).toMatch(/^[\w.-]+=\d[\w.]*-\d+$/);
    const checked = /for lib in ([^;]+); do/.exec(base)![1].trim().split(/\s+/);
    expect(checked).toEqual(expect.arrayContaining(['libcudart.so.11.0', 'libcudnn.so.8', 'libcudart.so.12', 'libcublas.so.12', 'libcudnn.so.9']));
  });

  test('the gpu image asks for the cuda ONNX execution provider, the cpu image leaves the default (cpu)', () => {
    expect(s.get('gpu')!.join('\n')).toContain('MLP_ONNX_EXECUTION_PROVIDERS=cuda,cpu');
    expect(s.get('cpu')!.join('\n')).not.toContain('MLP_ONNX_EXECUTION_PROVIDERS');
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

  test('only gpu fetches onnxruntime-node\'s CUDA provider (the install itself skips it for every target) and checks it is there', () => {
    expect(install).toMatch(/^\s*ONNXRUNTIME_NODE_INSTALL=skip npm install --omit=dev/m);
    // The checks after the install, per target.
    const after = install.slice(install.indexOf('npm install --omit=dev'));
    const arms = after.slice(after.indexOf('case $accel in'), after.indexOf('esac'));
    const arm = (target: string) => new RegExp(`^\\s*${target}\\)([\\s\\S]*?);;`, 'm').exec(arms)![1];
    expect(arm('gpu')).toMatch(/^\s*install_onnx_cuda$/m);
    expect(arm('cpu')).not.toContain('install_onnx_cuda');
    expect(install.match(/^\s*install_onnx_cuda$/gm)).toHaveLength(1);
    const fn = /^install_onnx_cuda\(\) \{\n([\s\S]*?)\n\}/m.exec(install)![1];
    expect(fn).toContain('env -u ONNXRUNTIME_NODE_INSTALL ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js');
    expect(fn).toContain('-name libonnxruntime_providers_cuda.so');
    expect(fn).toMatch(/ldd "\$provider" \| grep 'not found'/);
  });

  test('the pinned onnxruntime-node reads those variables as install.sh means them: v12 forces the CUDA 12 provider, skip skips', () => {
    const flag = (env: NodeJS.ProcessEnv) => {
      const clean = { ...process.env };
      delete clean.ONNXRUNTIME_NODE_INSTALL;
      delete clean.ONNXRUNTIME_NODE_INSTALL_CUDA;
      return execFileSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('onnxruntime-node/script/install-utils.js').parseInstallFlag()) ?? 'undefined')"], { cwd: REPO, env: { ...clean, ...env }, encoding: 'utf8' });
    };
    expect(flag({ ONNXRUNTIME_NODE_INSTALL_CUDA: 'v12' })).toBe('"cuda12"');
    expect(flag({ ONNXRUNTIME_NODE_INSTALL: 'skip' })).toBe('false');
    // The cuda12 manifest installs the file install.sh looks for.
    const manifest = require(path.join(REPO, 'node_modules', 'onnxruntime-node', 'script', 'install-metadata.js')).manifests['linux/x64:cuda12'];
    expect(Object.keys(manifest)).toEqual(expect.arrayContaining(['./libonnxruntime_providers_cuda.so', './libonnxruntime_providers_shared.so']));
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
