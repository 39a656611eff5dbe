/**
 * Held-out evaluation on the writer thread with its own TensorFlow.js engine: a batched forward
 * pass over the whole test split is about 6× faster than per-sample TypeScript (8 ms against
 * 45 ms for 997 digits through 784-128-64-10 on the wasm backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../core/nn/activation.js';
import { activationOf } from '../activations.js';

export class Evaluator {
  readonly #images: tf.Tensor2D;
  readonly #labels: tf.Tensor1D;
  readonly #target: tf.Tensor2D;
  readonly #activation: Activation;
  readonly #sizes: readonly number[];

  constructor(activation: Activation, sizes: readonly number[], test: { images: Float32Array; labels: Uint8Array }) {
    this.#activation = activation;
    this.#sizes = sizes;
    const count = test.labels.length;
    this.#images = tf.tensor2d(test.images, [count, sizes[0]!]);
    this.#labels = tf.tensor1d(Int32Array.from(test.labels), 'int32');
    this.#target = tf.cast(tf.oneHot(this.#labels, sizes[sizes.length - 1]!), 'float32') as tf.Tensor2D;
  }

  /** Mean cross-entropy and accuracy over the split with the given weights. */
  evaluate(weights: readonly Float32Array[], biases: readonly Float32Array[]): { loss: number; accuracy: number } {
    const result = tf.tidy(() => {
      const last = weights.length - 1;
      let activation: tf.Tensor = this.#images;
      weights.forEach((weight, layer) => {
        const z = tf.add(
          tf.matMul(activation, tf.tensor2d(weight, [this.#sizes[layer]!, this.#sizes[layer + 1]!])),
          tf.tensor1d(biases[layer]!),
        );
        activation = layer === last ? z : activationOf(this.#activation, z);
      });
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(this.#target, tf.logSoftmax(activation)), 1)));
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(activation, 1), this.#labels), 'float32'));
      return tf.stack([loss, accuracy]);
    });
    const [loss, accuracy] = result.dataSync();
    result.dispose();
    return { loss: loss!, accuracy: accuracy! };
  }
}
