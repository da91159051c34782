// Which onnxruntime execution providers run ONNX models: `mlp serve --onnx-execution-providers cuda,cpu`, or
// MLP_ONNX_EXECUTION_PROVIDERS (the gpu image sets cuda,cpu), else cpu. The list is onnxruntime's: the graph's
// nodes go to the first provider that implements them, so `cuda,cpu` runs on CUDA what CUDA can and the rest on
// CPU. It is not a fallback: a provider that cannot be loaded (no CUDA provider library, no CUDA 12 / cuDNN 9,
// no GPU) fails the model load, as onnxruntime itself refuses it. No onnxruntime import here: the CLI checks
// the flag before the server's modules load.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../core/errors';

export const ONNX_EXECUTION_PROVIDERS_ENV = 'MLP_ONNX_EXECUTION_PROVIDERS';
/** The providers onnxruntime-node's Linux build can run here: its bundled CPU provider and the CUDA provider. */
export const ONNX_EXECUTION_PROVIDER_NAMES = ['cpu', 'cuda'] as const;
export type OnnxExecutionProvider = (typeof ONNX_EXECUTION_PROVIDER_NAMES)[number];

/**
 * What a provider that cannot be loaded needs, for the error that says so. onnxruntime's own message only says
 * "Failed to load shared library", so whether the provider library is there tells the two cases apart.
 */
function installHint(provider: OnnxExecutionProvider): string {
  if (provider === 'cpu') return 'it is part of the onnxruntime-node package; reinstall it';
  const library = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  const choose = 'or choose cpu (--onnx-execution-providers, MLP_ONNX_EXECUTION_PROVIDERS)';
  if (!fs.existsSync(library)) {
    return `onnxruntime-node's CUDA provider is not installed (no ${library}; install it with \`ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js\`, as the gpu image does), ${choose}`;
  }
  return `${library} is installed, but the CUDA 12 and cuDNN 9 libraries it loads (libcudart.so.12, libcublas.so.12, libcudnn.so.9) or a GPU are missing; ${choose}`;
}

/** A comma-separated provider list (`where` names the flag or variable it came from); unknown or repeated names are refused. */
export function parseOnnxExecutionProviders(text: string, where: string): OnnxExecutionProvider[] {
  const names = text.split(',').map((s) => s.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (!(ONNX_EXECUTION_PROVIDER_NAMES as readonly string[]).includes(name)) {
      throw new UserError(`${where} ${JSON.stringify(text)}: unknown ONNX execution provider ${JSON.stringify(name)}; expected a comma-separated list of ${ONNX_EXECUTION_PROVIDER_NAMES.join(', ')}`);
    }
    if (seen.has(name)) throw new UserError(`${where} ${JSON.stringify(text)}: execution provider ${name} is listed twice`);
    seen.add(name);
  }
  return names as OnnxExecutionProvider[];
}

/** The providers every ONNX model load in this process uses: MLP_ONNX_EXECUTION_PROVIDERS, else cpu. */
export function onnxExecutionProviders(env: NodeJS.ProcessEnv = process.env): OnnxExecutionProvider[] {
  const text = env[ONNX_EXECUTION_PROVIDERS_ENV];
  return text === undefined || text === '' ? ['cpu'] : parseOnnxExecutionProviders(text, ONNX_EXECUTION_PROVIDERS_ENV);
}

/**
 * The provider an onnxruntime session-creation error says could not be loaded
 * ("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library"), as a one-line error naming
 * it and what it needs; undefined when the error is about something else (the model).
 */
export function providerLoadError(message: string, providers: readonly OnnxExecutionProvider[], file: string): UserError | undefined {
  const match = /AppendExecutionProvider_(\w+)/.exec(message);
  const provider = match && providers.find((p) => p === match[1].toLowerCase());
  if (!provider) return undefined;
  return new UserError(`model ${file}: ONNX execution provider ${provider} cannot be loaded (${message.split('\n')[0]}): ${installHint(provider)}`);
}
