// An embedding layer computed as one-hot × matrix. tfjs's own Embedding layer trains through a gather whose
// gradient (UnsortedSegmentSum) the wasm backend does not implement; the one-hot product gives the same
// function with kernels every backend has, so one model file trains and serves on node, wasm and cpu.
// Registered for (de)serialization on import: model-files.ts imports it before loading any model.

import * as tf from '@tensorflow/tfjs';

interface OneHotEmbeddingArgs {
  inputDim: number;
  outputDim: number;
  /** Initial values uniform in [-scale, scale]; 0 starts at zero (the wide part's linear weights). */
  initScale?: number;
  seed?: number;
  name?: string;
}

export class OneHotEmbedding extends tf.layers.Layer {
  static className = 'MlpOneHotEmbedding';
  private readonly inputDim: number;
  private readonly outputDim: number;
  private readonly initScale: number;
  private readonly seed?: number;
  private embeddings!: tf.LayerVariable;

  constructor(args: OneHotEmbeddingArgs) {
    super({ name: args.name });
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.initScale = args.initScale ?? 0.05;
    this.seed = args.seed;
  }

  override build(): void {
    const init = this.initScale > 0 ? tf.initializers.randomUniform({ minval: -this.initScale, maxval: this.initScale, seed: this.seed }) : tf.initializers.zeros();
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [(inputShape as tf.Shape)[0], this.outputDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = tf.cast(tf.reshape(Array.isArray(inputs) ? inputs[0] : inputs, [-1]), 'int32');
      return tf.matMul(tf.oneHot(ids, this.inputDim), this.embeddings.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, initScale: this.initScale, seed: this.seed ?? null };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls({ ...config, seed: config.seed ?? undefined });
  }
}

tf.serialization.registerClass(OneHotEmbedding);
