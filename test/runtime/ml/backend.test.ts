// Backend selection: the first backend of node-gpu → node → wasm → cpu that loads is chosen, MLP_TF_BACKEND
// forces one, and an unusable or unknown choice is a one-line error. The native packages cannot be installed
// on this offline machine, so the loader used here reports them missing on every machine (as npm does when
// their libtensorflow download fails); wasm and cpu are the real backends, and each chosen one computes.

import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../runtime/ml/backend';

const NATIVE = new Set(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);

function withoutNative(pkg: string): unknown {
  if (NATIVE.has(pkg)) throw Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });
  return require(pkg);
}

async function computes(): Promise<number[]> {
  return Array.from(await tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).data());
}

test('without the native packages, wasm is chosen, with the reasons for skipping the others', async () => {
  const chosen = await selectBackend('', withoutNative);
  expect(chosen).toEqual({
    name: 'wasm',
    skipped: [
      { name: 'node-gpu', reason: '@tensorflow/tfjs-node-gpu is not installed' },
      { name: 'node', reason: '@tensorflow/tfjs-node is not installed' },
    ],
  });
  expect(tf.getBackend()).toBe('wasm');
  expect(await computes()).toEqual([4, 6]);
});

test('MLP_TF_BACKEND forces a backend', async () => {
  expect(await selectBackend('cpu', withoutNative)).toEqual({ name: 'cpu', skipped: [] });
  expect(tf.getBackend()).toBe('cpu');
  expect(await computes()).toEqual([4, 6]);
});

test('a forced backend that is missing, or an unknown name, is a clear error', async () => {
  await expect(selectBackend('node', withoutNative)).rejects.toThrow('MLP_TF_BACKEND=node cannot be used: @tensorflow/tfjs-node is not installed');
  await expect(selectBackend('gpu', withoutNative)).rejects.toThrow('MLP_TF_BACKEND=gpu: expected one of node-gpu, node, wasm, cpu');
});
