/**
 * The held-out evaluation, on the writer thread's own TensorFlow.js engine: one batched forward
 * pass over the test split with the weights of a step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../core/nn/activation.js';
import { activationOf } from '../activations.js';

export class TfEvaluator {
  readonly #activation: Activation;
  readonly #sizes: readonly number[];
  /** [inputSize × sample]. */
  readonly #testImagesT: tf.Tensor2D;
  readonly #testLabels: tf.Tensor1D;
  readonly #testTarget: tf.Tensor2D;

  constructor(activation: Activation, sizes: readonly number[], test: { images: Float32Array; labels: Uint8Array }) {
    this.#activation = activation;
    this.#sizes = sizes;
    const inputSize = sizes[0]!;
    const classes = sizes[sizes.length - 1]!;
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
   * (the test split). In row layout the fresh weights would be the packed operand, re-packed at
   * every evaluation.
   */
  #forwardColumns(layers: { weight: tf.Tensor2D; bias: tf.Tensor1D }[], inputs: tf.Tensor2D): tf.Tensor2D {
    let below = inputs;
    let logits = inputs;
    layers.forEach(({ weight, bias }, layer) => {
      const z = tf.add(tf.matMul(tf.transpose(weight), below), tf.reshape(bias, [-1, 1])) as tf.Tensor2D;
      if (layer === layers.length - 1) logits = tf.transpose(z);
      else below = activationOf(this.#activation, z) as tf.Tensor2D;
    });
    return logits;
  }

  /** Mean cross-entropy and accuracy over the held-out split (one batched pass). */
  evaluate(weights: readonly Float32Array[], biases: readonly Float32Array[]): { loss: number; accuracy: number } {
    const result = tf.tidy(() => {
      const logits = this.#forwardColumns(this.#upload(weights, biases), this.#testImagesT);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(this.#testTarget, tf.logSoftmax(logits)), 1)));
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), this.#testLabels), 'float32'));
      return tf.stack([loss, accuracy]);
    });
    const [loss, accuracy] = result.dataSync();
    result.dispose();
    return { loss: loss!, accuracy: accuracy! };
  }
}
