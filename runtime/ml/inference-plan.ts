// A small LayersModel compiled for inference on the CPU: its layer graph is walked once, the weights copied
// out, and each layer becomes a loop over Float32Arrays. Why: a tfjs kernel call costs ~10 µs of
// bookkeeping whatever its size, and the bundled wide & deep model runs ~20 of them per batch, so on the
// small batches a model server forms, predicting cost 10–25 µs per row while the arithmetic is a few
// thousand multiply-adds. The plan computes the same function (tested against model.predict) for the
// layers the bundled models use: InputLayer, Dense, Dropout (identity at inference), Concatenate, Add,
// Activation and MlpOneHotEmbedding. A model with any other layer, shared layers, several outputs, or more
// arithmetic per row than MAX_MACS_PER_ROW (where tfjs's vectorised kernels win) gets no plan and is
// predicted by tfjs as before.

import type * as tf from '@tensorflow/tfjs';
import type { PackedInput } from './model-inputs';

/** Above this many multiply-adds per row, tfjs's kernels (SIMD, native, GPU) beat plain loops. */
export const MAX_MACS_PER_ROW = 100_000;

type Activation = (v: Float32Array, n: number, width: number) => void;

const ACTIVATIONS: Record<string, Activation> = {
  linear: () => undefined,
  relu: (v) => {
    for (let i = 0; i < v.length; i++) if (v[i] < 0) v[i] = 0;
  },
  sigmoid: (v) => {
    for (let i = 0; i < v.length; i++) v[i] = 1 / (1 + Math.exp(-v[i]));
  },
  tanh: (v) => {
    for (let i = 0; i < v.length; i++) v[i] = Math.tanh(v[i]);
  },
  softmax: (v, n, width) => {
    for (let r = 0; r < n; r++) {
      const o = r * width;
      let max = -Infinity;
      for (let j = 0; j < width; j++) if (v[o + j] > max) max = v[o + j];
      let sum = 0;
      for (let j = 0; j < width; j++) sum += v[o + j] = Math.exp(v[o + j] - max);
      for (let j = 0; j < width; j++) v[o + j] /= sum;
    }
  },
};

/** A layer's output for a batch: row-major [n, width] values. */
interface Value {
  data: PackedInput;
  width: number;
}

type Step = { inputs: number[]; output: number; run(inputs: Value[], n: number): Value };

export interface InferencePlan {
  /** Model outputs [n, units] for packed inputs (as toTensors would get them), like model.predict. */
  run(inputs: PackedInput[], n: number): Float32Array;
  macsPerRow: number;
}

/** The symbolic tensors a layer's single call consumed and produced (the node tfjs records per call). */
interface InboundNode {
  inputTensors: { id: number }[];
  outputTensors: { id: number }[];
}

interface LayerInternals {
  inboundNodes: InboundNode[];
}

function configOf(layer: tf.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function activationOf(layer: tf.layers.Layer): Activation | undefined {
  const name = configOf(layer).activation;
  return typeof name === 'string' ? ACTIVATIONS[name] : undefined;
}

function weightsOf(layer: tf.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => w.dataSync() as Float32Array);
}

/** The compute step of one layer, or undefined when the plan does not know it. */
function stepOf(layer: tf.layers.Layer, inputWidths: number[]): { run: Step['run']; macs: number; width: number } | undefined {
  const kind = layer.getClassName();
  if (kind === 'Dropout') return { run: ([x]) => x, macs: 0, width: inputWidths[0] };
  if (kind === 'Activation') {
    const act = activationOf(layer);
    if (!act) return undefined;
    return {
      run: ([x], n) => {
        const out = new Float32Array(x.data);
        act(out, n, x.width);
        return { data: out, width: x.width };
      },
      macs: 0,
      width: inputWidths[0],
    };
  }
  if (kind === 'Dense') {
    const act = activationOf(layer);
    const config = configOf(layer);
    if (!act || inputWidths.length !== 1) return undefined;
    const [kernel, bias] = weightsOf(layer);
    const inWidth = inputWidths[0];
    const units = Number(config.units);
    if (kernel.length !== inWidth * units) return undefined;
    // Transposed, so each output is a dot product over contiguous memory, summed in a double and rounded
    // once, as tfjs's CPU matMul does before it adds the bias.
    const kernelT = new Float32Array(kernel.length);
    for (let i = 0; i < inWidth; i++) for (let j = 0; j < units; j++) kernelT[j * inWidth + i] = kernel[i * units + j];
    return {
      run: ([x], n) => {
        const out = new Float32Array(n * units);
        const xs = x.data;
        for (let r = 0; r < n; r++) {
          const xo = r * inWidth;
          const o = r * units;
          for (let j = 0; j < units; j++) {
            const ko = j * inWidth;
            let sum = 0;
            for (let i = 0; i < inWidth; i++) sum += xs[xo + i] * kernelT[ko + i];
            out[o + j] = bias ? Math.fround(sum) + bias[j] : sum;
          }
        }
        act(out, n, units);
        return { data: out, width: units };
      },
      macs: inWidth * units,
      width: units,
    };
  }
  if (kind === 'MlpOneHotEmbedding') {
    const [table] = weightsOf(layer);
    const config = configOf(layer);
    const inputDim = Number(config.inputDim);
    const outputDim = Number(config.outputDim);
    if (inputWidths[0] !== 1 || table.length !== inputDim * outputDim) return undefined;
    return {
      // one-hot × matrix is a row lookup; an id outside [0, inputDim) has an all-zero one-hot row.
      run: ([ids], n) => {
        const out = new Float32Array(n * outputDim);
        for (let r = 0; r < n; r++) {
          const id = Math.trunc(ids.data[r]);
          if (!(id >= 0 && id < inputDim)) continue;
          // A copy loop: a subarray view per row would cost more than the copy.
          const t = id * outputDim;
          const o = r * outputDim;
          for (let j = 0; j < outputDim; j++) out[o + j] = table[t + j];
        }
        return { data: out, width: outputDim };
      },
      macs: outputDim,
      width: outputDim,
    };
  }
  if (kind === 'Concatenate') {
    const axis = Number(configOf(layer).axis);
    if (axis !== -1 && axis !== 1) return undefined;
    const width = inputWidths.reduce((a, b) => a + b, 0);
    return {
      run: (xs, n) => {
        const out = new Float32Array(n * width);
        for (let r = 0; r < n; r++) {
          let o = r * width;
          for (const x of xs) {
            for (let j = 0; j < x.width; j++) out[o + j] = x.data[r * x.width + j];
            o += x.width;
          }
        }
        return { data: out, width };
      },
      macs: 0,
      width,
    };
  }
  if (kind === 'Add') {
    if (inputWidths.some((w) => w !== inputWidths[0])) return undefined;
    return {
      run: (xs) => {
        const out = new Float32Array(xs[0].data);
        for (const x of xs.slice(1)) for (let i = 0; i < out.length; i++) out[i] += x.data[i];
        return { data: out, width: xs[0].width };
      },
      macs: 0,
      width: inputWidths[0],
    };
  }
  return undefined;
}

/** The plan for a model, or undefined when it has a layer or shape the plan does not cover, or is too big. */
export function compileInferencePlan(model: tf.LayersModel): InferencePlan | undefined {
  if (model.outputs.length !== 1) return undefined;
  const widths = new Map<number, number>();
  const inputIds = model.inputs.map((t) => {
    if (t.shape.length !== 2 || t.shape[1] === null) return -1;
    widths.set(t.id, t.shape[1]);
    return t.id;
  });
  if (inputIds.includes(-1)) return undefined;
  const steps: Step[] = [];
  let macsPerRow = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const nodes = (layer as unknown as LayerInternals).inboundNodes;
    if (nodes.length !== 1 || nodes[0].outputTensors.length !== 1) return undefined;
    const inputs = nodes[0].inputTensors.map((t) => t.id);
    const inputWidths = inputs.map((id) => widths.get(id));
    if (inputWidths.some((w) => w === undefined)) return undefined;
    const step = stepOf(layer, inputWidths as number[]);
    if (!step) return undefined;
    const output = nodes[0].outputTensors[0].id;
    widths.set(output, step.width);
    steps.push({ inputs, output, run: step.run });
    macsPerRow += step.macs;
  }
  const outputId = model.outputs[0].id;
  if (!widths.has(outputId) || macsPerRow > MAX_MACS_PER_ROW) return undefined;
  return {
    macsPerRow,
    run(packed, n) {
      const env = new Map<number, Value>();
      inputIds.forEach((id, i) => env.set(id, { data: packed[i], width: widths.get(id)! }));
      for (const step of steps) env.set(step.output, step.run(step.inputs.map((id) => env.get(id)!), n));
      const out = env.get(outputId)!.data;
      return out instanceof Float32Array ? out : Float32Array.from(out);
    },
  };
}
