// Backend selection: the first backend of node-gpu → node → wasm → cpu that loads is chosen (here the native
// packages cannot be installed offline, so it is wasm), MLP_TF_BACKEND forces one, and an unusable or unknown
// choice is a one-line error. Each chosen backend really computes.

import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../runtime/ml/backend';

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

async function computes(): Promise<number[]> {
  return Array.from(await tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).data());
}

test('the first loadable backend in order is chosen, with the reasons for skipping the others', async () => {
  const chosen = await selectBackend('');
  const expected = installed('@tensorflow/tfjs-node-gpu') ? 'node-gpu' : installed('@tensorflow/tfjs-node') ? 'node' : 'wasm';
  expect(chosen.name).toBe(expected);
  if (expected === 'wasm') {
    expect(chosen.skipped).toEqual([
      { name: 'node-gpu', reason: '@tensorflow/tfjs-node-gpu is not installed' },
      { name: 'node', reason: '@tensorflow/tfjs-node is not installed' },
    ]);
  }
  expect(tf.getBackend()).toBe(expected === 'wasm' ? 'wasm' : 'tensorflow');
  expect(await computes()).toEqual([4, 6]);
});

test('MLP_TF_BACKEND forces a backend', async () => {
  expect(await selectBackend('cpu')).toEqual({ name: 'cpu', skipped: [] });
  expect(tf.getBackend()).toBe('cpu');
  expect(await computes()).toEqual([4, 6]);
});

test('a forced backend that is missing, or an unknown name, is a clear error', async () => {
  if (!installed('@tensorflow/tfjs-node')) {
    await expect(selectBackend('node')).rejects.toThrow('MLP_TF_BACKEND=node cannot be used: @tensorflow/tfjs-node is not installed');
  } else {
    expect((await selectBackend('node')).name).toBe('node');
  }
  await expect(selectBackend('gpu')).rejects.toThrow('MLP_TF_BACKEND=gpu: expected one of node-gpu, node, wasm, cpu');
});
