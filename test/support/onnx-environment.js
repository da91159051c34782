// The jest environment of tests that run ONNX models in-process. onnxruntime-node's native addon hands back
// typed arrays made in Node's main realm, and onnxruntime-common (loaded inside jest's sandbox) checks them
// with `instanceof Float32Array` of the sandbox, which fails ("A float32 tensor's data must be type of
// Float32Array"). The sandbox gets the main realm's typed array constructors, as a plain `node` process has.
// Use it with a `@jest-environment ./test/support/onnx-environment.js` docblock.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'ArrayBuffer', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxEnvironment;
