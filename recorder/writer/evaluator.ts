/**
 * The held-out evaluation, on the writer thread: one batched forward pass over the test split
 * with the weights of a step. The first layer runs in the first-layer kernel over the test
 * images compressed once (most of their pixels are zero, and that layer is most of the
 * arithmetic); the layers above it in the thread's own TensorFlow.js engine.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../core/nn/activation.js';
import { activationOf } from '../activations.js';
import { compressSamples, FirstLayerKernel } from '../kernel/first-layer.js';

export class TfEvaluator {
  /** Each hidden layer's activation (index 0 = layer 1). */
  readonly #activations: readonly Activation[];
  readonly #sizes: readonly number[];
  readonly #count: number;
  /** Holds the test split, its rows selected once; its weights are set at each evaluation. */
  readonly #firstLayer: FirstLayerKernel;
  readonly #testLabels: tf.Tensor1D;
  readonly #testTarget: tf.Tensor2D;

  constructor(activations: readonly Activation[], sizes: readonly number[], test: { images: Float32Array; labels: Uint8Array }) {
    this.#activations = activations;
    this.#sizes = sizes;
    const [inputSize, width] = sizes as [number, number];
    const classes = sizes[sizes.length - 1]!;
    this.#count = test.labels.length;
    this.#firstLayer = new FirstLayerKernel({
      inputSize,
      width,
      optimizer: 'sgd',
      weight: new Float32Array(inputSize * width),
      bias: new Float32Array(width),
      sets: { test: compressSamples(test.images, inputSize) },
      groups: { test: this.#count },
    });
    this.#firstLayer.select(
      'test',
      'test',
      Int32Array.from({ length: this.#count }, (_, index) => index),
    );
    this.#testLabels = tf.tensor1d(Int32Array.from(test.labels), 'int32');
    this.#testTarget = tf.cast(tf.oneHot(this.#testLabels, classes), 'float32') as tf.Tensor2D;
  }

  /** Mean cross-entropy and accuracy over the held-out split (one batched pass). */
  evaluate(weights: readonly Float32Array[], biases: readonly Float32Array[]): { loss: number; accuracy: number } {
    const firstLayer = this.#firstLayer;
    firstLayer.weight.set(weights[0]!);
    firstLayer.bias.set(biases[0]!);
    firstLayer.forward('test');
    const result = tf.tidy(() => {
      let logits = tf.tensor2d(firstLayer.output, [this.#count, this.#sizes[1]!]);
      for (let layer = 1; layer < weights.length; layer++) {
        const below = activationOf(this.#activations[layer - 1]!, logits);
        const weight = tf.tensor2d(weights[layer]!, [this.#sizes[layer]!, this.#sizes[layer + 1]!]);
        logits = tf.add(tf.matMul(below, weight), tf.tensor1d(biases[layer]!));
      }
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(this.#testTarget, tf.logSoftmax(logits)), 1)));
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), this.#testLabels), 'float32'));
      return tf.stack([loss, accuracy]);
    });
    const [loss, accuracy] = result.dataSync();
    result.dispose();
    return { loss: loss!, accuracy: accuracy! };
  }
}
