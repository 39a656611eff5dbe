/**
 * The writer thread's measurements, on its own TensorFlow.js engine: the probe set's forward and
 * backward passes, weight norms, the batch-mean input and held-out
 * evaluation. One fused graph per step and one read-back. (Per-sample loops in TypeScript are
 * 2× slower here than on an isolate that never detached an ArrayBuffer; the engine is not.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { LEAKY_RELU_SLOPE, type Activation } from '../../core/nn/activation.js';
import { activationOf, derivativeOf } from '../activations.js';

/** Activations the engine fuses into its matmul kernel. */
const FUSED: Partial<Record<Activation, 'relu' | 'leakyrelu' | 'sigmoid'>> = {
  relu: 'relu',
  'leaky-relu': 'leakyrelu',
  sigmoid: 'sigmoid',
};

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
  readonly #probeInputs: tf.Tensor2D | undefined;
  readonly #probeTarget: tf.Tensor2D | undefined;
  readonly #testImages: tf.Tensor2D;
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
      this.#probeInputs = tf.tensor2d(probes.inputs, [probeCount, inputSize]);
      this.#probeTarget = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(probes.labels), 'int32'), classes), 'float32') as tf.Tensor2D;
    }
    this.#testImages = tf.tensor2d(test.images, [test.labels.length, inputSize]);
    this.#testLabels = tf.tensor1d(Int32Array.from(test.labels), 'int32');
    this.#testTarget = tf.cast(tf.oneHot(this.#testLabels, classes), 'float32') as tf.Tensor2D;
  }

  #upload(weights: readonly Float32Array[], biases: readonly Float32Array[]): { weight: tf.Tensor2D; bias: tf.Tensor1D }[] {
    return weights.map((weight, layer) => ({
      weight: tf.tensor2d(weight, [this.#sizes[layer]!, this.#sizes[layer + 1]!]),
      bias: tf.tensor1d(biases[layer]!),
    }));
  }

  /** Everything measured from one step's weights and batch. */
  observe(weights: readonly Float32Array[], biases: readonly Float32Array[], batchInputs: Float32Array): Observation {
    const layerCount = weights.length;
    const probeCount = this.#probeInputs?.shape[0] ?? 0;
    const packed = tf.tidy(() => {
      const layers = this.#upload(weights, biases);
      const parts: tf.Tensor[] = [];
      if (this.#probeInputs && this.#probeTarget) {
        // Hidden layers: one fused kernel (matmul, bias, activation) where the engine has one.
        // The derivative is taken from f(z), whose sign is z's for the ReLU family.
        const post: tf.Tensor[] = [this.#probeInputs];
        let logits: tf.Tensor | undefined;
        layers.forEach(({ weight, bias }, layer) => {
          const below = post[layer] as tf.Tensor2D;
          if (layer === layerCount - 1) {
            logits = tf.fused.matMul({ a: below, b: weight, bias });
            post.push(tf.softmax(logits));
          } else if (FUSED[this.#activation]) {
            post.push(
              tf.fused.matMul({ a: below, b: weight, bias, activation: FUSED[this.#activation], leakyreluAlpha: LEAKY_RELU_SLOPE }),
            );
          } else {
            post.push(activationOf(this.#activation, tf.fused.matMul({ a: below, b: weight, bias })));
          }
        });
        const grads: tf.Tensor[] = new Array(layerCount);
        let grad = tf.sub(post[layerCount]!, this.#probeTarget);
        for (let layer = layerCount - 1; layer >= 0; layer--) {
          grads[layer] = grad;
          if (layer > 0) {
            const activation = post[layer]!;
            grad = tf.mul(tf.matMul(grad, tf.transpose(layers[layer]!.weight)), derivativeOf(this.#activation, activation, activation));
          }
        }
        const loss = tf.neg(tf.sum(tf.mul(this.#probeTarget, tf.logSoftmax(logits!)), 1));
        parts.push(...post.slice(1), ...grads, tf.cast(tf.argMax(logits!, 1), 'float32'), loss);
      }
      for (const { weight } of layers) parts.push(tf.sqrt(tf.sum(tf.square(weight))));
      // (tf.gather from the whole training split costs 1.5 ms here; the batch comes as its own buffer.)
      parts.push(tf.mean(tf.tensor2d(batchInputs, [batchInputs.length / this.#sizes[0]!, this.#sizes[0]!]), 0));
      return tf.concat(parts.map((part) => tf.reshape(part, [-1])));
    });
    const values = packed.dataSync() as Float32Array;
    packed.dispose();
    let offset = 0;
    const take = (length: number) => values.subarray(offset, (offset += length));
    const neurons = this.#sizes.slice(1);
    const probeActivation = probeCount ? neurons.map((size) => take(probeCount * size)) : [];
    const probeGradPreActivation = probeCount ? neurons.map((size) => take(probeCount * size)) : [];
    const probePredicted = Uint8Array.from(probeCount ? take(probeCount) : []);
    const probeLoss = probeCount ? take(probeCount) : new Float32Array(0);
    const weightNorms = take(layerCount);
    const meanInput = take(this.#sizes[0]!);
    return { probeActivation, probeGradPreActivation, probePredicted, probeLoss, weightNorms, meanInput };
  }

  /** Mean cross-entropy and accuracy over the held-out split (one batched pass). */
  evaluate(weights: readonly Float32Array[], biases: readonly Float32Array[]): { loss: number; accuracy: number } {
    const result = tf.tidy(() => {
      let activation: tf.Tensor = this.#testImages;
      const layers = this.#upload(weights, biases);
      layers.forEach(({ weight, bias }, layer) => {
        const z = tf.add(tf.matMul(activation, weight), bias);
        activation = layer === layers.length - 1 ? z : activationOf(this.#activation, z);
      });
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(this.#testTarget, tf.logSoftmax(activation)), 1)));
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(activation, 1), this.#testLabels), 'float32'));
      return tf.stack([loss, accuracy]);
    });
    const [loss, accuracy] = result.dataSync();
    result.dispose();
    return { loss: loss!, accuracy: accuracy! };
  }
}
