/**
 * The writer thread's measurements, on its own TensorFlow.js engine: the probe set's forward and
 * backward passes, weight norms and held-out evaluation; one graph per step and one read-back.
 * (Per-sample TypeScript loops measured 2–3× slower for the probes than this.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../core/nn/activation.js';
import { activationOf, derivativeOf } from '../activations.js';

export interface Observation {
  /** Per dense layer, [probe × neuron]. */
  probeActivation: Float32Array[];
  probeGradPreActivation: Float32Array[];
  probePredicted: Uint8Array;
  probeLoss: Float32Array;
  /** ‖W‖ per dense layer. */
  weightNorms: Float32Array;
  meanInput: Float32Array;
}

export class TfObserver {
  readonly #activation: Activation;
  readonly #sizes: readonly number[];
  /** [inputSize × probe]. */
  readonly #probeInputsT: tf.Tensor2D | undefined;
  readonly #probeTarget: tf.Tensor2D | undefined;
  /** [inputSize × sample]. */
  readonly #testImagesT: tf.Tensor2D;
  readonly #testLabels: tf.Tensor1D;
  readonly #testTarget: tf.Tensor2D;

  constructor(
    activation: Activation,
    sizes: readonly number[],
    probes: { inputs: Float32Array; labels: Uint8Array },
    test: { images: Float32Array; labels: Uint8Array },
  ) {
    this.#activation = activation;
    this.#sizes = sizes;
    const inputSize = sizes[0]!;
    const classes = sizes[sizes.length - 1]!;
    const probeCount = probes.labels.length;
    if (probeCount > 0) {
      this.#probeInputsT = tf.tidy(() => tf.transpose(tf.tensor2d(probes.inputs, [probeCount, inputSize])));
      this.#probeTarget = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(probes.labels), 'int32'), classes), 'float32') as tf.Tensor2D;
    }
    this.#testImagesT = tf.tidy(() => tf.transpose(tf.tensor2d(test.images, [test.labels.length, inputSize])));
    this.#testLabels = tf.tensor1d(Int32Array.from(test.labels), 'int32');
    this.#testTarget = tf.cast(tf.oneHot(this.#testLabels, classes), 'float32') as tf.Tensor2D;
  }

  #upload(weights: readonly Float32Array[], biases: readonly Float32Array[]): { weight: tf.Tensor2D; bias: tf.Tensor1D }[] {
    return weights.map((weight, layer) => ({
      weight: tf.tensor2d(weight, [this.#sizes[layer]!, this.#sizes[layer + 1]!]),
      bias: tf.tensor1d(biases[layer]!),
    }));
  }

  /**
   * Forward pass in column layout: every activation is [neurons × samples], so the samples are
   * the second matmul operand, which the engine packs once and caches while it is the same tensor
   * (the probe inputs, the test split). In row layout the fresh weights would be the packed
   * operand, re-packed every step: 0.6 ms of a 0.8 ms probe pass.
   */
  #forwardColumns(layers: { weight: tf.Tensor2D; bias: tf.Tensor1D }[], inputs: tf.Tensor2D): { post: tf.Tensor2D[]; logits: tf.Tensor2D } {
    const post: tf.Tensor2D[] = [inputs];
    let logits = inputs;
    layers.forEach(({ weight, bias }, layer) => {
      const z = tf.add(tf.matMul(tf.transpose(weight), post[layer]!), tf.reshape(bias, [-1, 1])) as tf.Tensor2D;
      if (layer === layers.length - 1) logits = tf.transpose(z);
      else post.push(activationOf(this.#activation, z) as tf.Tensor2D);
    });
    return { post, logits };
  }

  /** Everything measured from one step's weights and batch. Probe arrays are [probe × neuron]. */
  observe(weights: readonly Float32Array[], biases: readonly Float32Array[], batchInputs: Float32Array): Observation {
    const layerCount = weights.length;
    const probeCount = this.#probeInputsT?.shape[1] ?? 0;
    const packed = tf.tidy(() => {
      const layers = this.#upload(weights, biases);
      const parts: tf.Tensor[] = [];
      if (this.#probeInputsT && this.#probeTarget) {
        const { post, logits } = this.#forwardColumns(layers, this.#probeInputsT);
        const probabilities = tf.softmax(logits);
        // ∂ℓ/∂z of each probe's own loss, in column layout, from the output down.
        const grads: tf.Tensor[] = new Array(layerCount);
        let grad: tf.Tensor = tf.transpose(tf.sub(probabilities, this.#probeTarget));
        for (let layer = layerCount - 1; layer >= 0; layer--) {
          grads[layer] = grad;
          if (layer > 0) {
            // f'(z) from f(z): its sign is z's for the ReLU family, so z is not needed.
            const activation = post[layer]!;
            grad = tf.mul(tf.matMul(layers[layer]!.weight, grad), derivativeOf(this.#activation, activation, activation));
          }
        }
        const loss = tf.neg(tf.sum(tf.mul(this.#probeTarget, tf.logSoftmax(logits)), 1));
        parts.push(...post.slice(1), tf.transpose(probabilities), ...grads, tf.cast(tf.argMax(logits, 1), 'float32'), loss);
      }
      for (const { weight } of layers) parts.push(tf.sqrt(tf.sum(tf.square(weight))));
      return tf.concat(parts.map((part) => tf.reshape(part, [-1])));
    });
    const values = packed.dataSync() as Float32Array;
    packed.dispose();
    let offset = 0;
    const take = (length: number) => values.subarray(offset, (offset += length));
    const neurons = this.#sizes.slice(1);
    const probeMajor = (size: number) => transposed(take(size * probeCount), size, probeCount);
    const probeActivation = probeCount ? neurons.map(probeMajor) : [];
    const probeGradPreActivation = probeCount ? neurons.map(probeMajor) : [];
    const probePredicted = Uint8Array.from(probeCount ? take(probeCount) : []);
    const probeLoss = probeCount ? take(probeCount) : new Float32Array(0);
    const weightNorms = take(layerCount);
    const meanInput = columnMeans(batchInputs, this.#sizes[0]!);
    return { probeActivation, probeGradPreActivation, probePredicted, probeLoss, weightNorms, meanInput };
  }

  /** Mean cross-entropy and accuracy over the held-out split (one batched pass). */
  evaluate(weights: readonly Float32Array[], biases: readonly Float32Array[]): { loss: number; accuracy: number } {
    const result = tf.tidy(() => {
      const { logits } = this.#forwardColumns(this.#upload(weights, biases), this.#testImagesT);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(this.#testTarget, tf.logSoftmax(logits)), 1)));
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), this.#testLabels), 'float32'));
      return tf.stack([loss, accuracy]);
    });
    const [loss, accuracy] = result.dataSync();
    result.dispose();
    return { loss: loss!, accuracy: accuracy! };
  }
}

/** Mean of each column of a row-major [rows × columns] matrix. (The engine's reduction is 3× slower.) */
function columnMeans(values: Float32Array, columns: number): Float32Array {
  const rows = values.length / columns;
  const sums = new Float64Array(columns);
  for (let row = 0; row < rows; row++) {
    const start = row * columns;
    for (let column = 0; column < columns; column++) sums[column]! += values[start + column]!;
  }
  return Float32Array.from(sums, (sum) => sum / rows);
}

/** [rows × columns] row-major → [columns × rows]. */
function transposed(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row < rows; row++)
    for (let column = 0; column < columns; column++) out[column * rows + row] = values[row * columns + column]!;
  return out;
}
