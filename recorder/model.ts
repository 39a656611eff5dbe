/**
 * The MLP trained with TensorFlow.js. Forward and backward passes are written out (not taped):
 * the backward pass yields ∂L/∂z of every layer on the way to ∂L/∂W, which is what the recorder
 * records, and costs nothing extra. Loss: mean softmax cross-entropy over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Config, Optimizer } from '../core/config.js';
import type { Activation } from '../core/nn/activation.js';
import { LEAKY_RELU_SLOPE } from '../core/nn/activation.js';
import type { DenseLayer } from '../core/nn/mlp.js';
import { statsLayout, type StatsLayout } from './step-stats.js';

/** What one step read back from the engine; all arrays are fresh copies the caller may transfer. */
export interface StepReadback {
  /** See `statsLayout`. */
  stats: Float32Array;
  /** Per dense layer, before this step's update. */
  weights: Float32Array[];
  biases: Float32Array[];
  weightGrads: Float32Array[];
  biasGrads: Float32Array[];
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-7;

function activationOf(kind: Activation, preActivation: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(preActivation);
    case 'leaky-relu':
      return tf.leakyRelu(preActivation, LEAKY_RELU_SLOPE);
    case 'sigmoid':
      return tf.sigmoid(preActivation);
    case 'tanh':
      return tf.tanh(preActivation);
    case 'linear':
      return preActivation;
  }
}

/** f'(z) as a tensor, from z and f(z). */
function derivativeOf(kind: Activation, preActivation: tf.Tensor, activation: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.step(preActivation);
    case 'leaky-relu':
      return tf.where(tf.greater(preActivation, 0), tf.onesLike(preActivation), tf.fill(preActivation.shape, LEAKY_RELU_SLOPE));
    case 'sigmoid':
      return tf.mul(activation, tf.sub(1, activation));
    case 'tanh':
      return tf.sub(1, tf.square(activation));
    case 'linear':
      return tf.onesLike(preActivation);
  }
}

/**
 * ‖t‖₂ over all entries. (tf.norm and transposed matMul flags are 10–15× slower than these
 * compositions on the wasm backend, measured on 784×128 matrices.)
 */
function frobenius(tensor: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(tensor)));
}

interface OptimizerState {
  first: tf.Variable[];
  second: tf.Variable[];
}

export class TfMlp {
  readonly layout: StatsLayout;
  readonly #weights: tf.Variable[];
  readonly #biases: tf.Variable[];
  readonly #state: OptimizerState;
  readonly #activation: Activation;
  readonly #optimizer: Optimizer;
  readonly #learningRate: number;
  readonly #momentum: number;
  readonly #inputSize: number;
  readonly #classes: number;
  #updates = 0;

  constructor(config: Pick<Config, 'activation' | 'optimizer' | 'learningRate' | 'momentum'>, initial: readonly DenseLayer[]) {
    this.#activation = config.activation;
    this.#optimizer = config.optimizer;
    this.#learningRate = config.learningRate;
    this.#momentum = config.momentum;
    this.#inputSize = initial[0]!.fanIn;
    this.#classes = initial[initial.length - 1]!.fanOut;
    this.layout = statsLayout(
      this.#inputSize,
      initial.map((layer) => layer.fanOut),
    );
    this.#weights = initial.map((layer) => tf.variable(tf.tensor2d(layer.weight, [layer.fanIn, layer.fanOut])));
    this.#biases = initial.map((layer) => tf.variable(tf.tensor1d(layer.bias)));
    const zerosLike = (variables: tf.Variable[]) => variables.map((variable) => tf.variable(tf.zerosLike(variable)));
    this.#state = {
      first: this.#optimizer === 'sgd' ? [] : zerosLike([...this.#weights, ...this.#biases]),
      second: this.#optimizer === 'adam' ? zerosLike([...this.#weights, ...this.#biases]) : [],
    };
  }

  /**
   * One training step on a batch: forward, backward, read back every recorded quantity (weights
   * before the update), then apply the optimizer's update.
   * @param inputs batch × inputSize pixels, row-major
   * @param labels batch class indices
   */
  step(inputs: Float32Array, labels: Int32Array): StepReadback {
    const weights = this.#weights.map((variable) => (variable.dataSync() as Float32Array).slice());
    const biases = this.#biases.map((variable) => (variable.dataSync() as Float32Array).slice());
    const { stats, weightGrads, biasGrads } = tf.tidy(() => {
      const pass = this.#forwardBackward(inputs, labels);
      const { pre, post, gradients } = pass;
      const last = this.#weights.length - 1;
      const logProbabilities = tf.logSoftmax(pre[last]!);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(pass.target, logProbabilities), 1)));
      const predicted = tf.argMax(pre[last]!, 1);
      const accuracy = tf.mean(tf.cast(tf.equal(predicted, pass.labels), 'float32'));
      const deltas = this.#deltas(gradients);
      const parts: tf.Tensor[] = [tf.reshape(loss, [1]), tf.reshape(accuracy, [1]), tf.mean(post[0]!, 0)];
      this.#weights.forEach((weight, layer) => {
        const active = layer === last ? tf.cast(tf.oneHot(predicted, this.#classes), 'float32') : tf.step(pre[layer]!);
        parts.push(
          tf.mean(post[layer + 1]!, 0),
          tf.mean(active, 0),
          gradients[layer]!.bias,
          tf.reshape(frobenius(weight), [1]),
          tf.reshape(frobenius(gradients[layer]!.weight), [1]),
          tf.reshape(frobenius(deltas[layer]!), [1]),
        );
      });
      this.#apply(deltas);
      return {
        stats: tf.concat(parts) as tf.Tensor1D,
        weightGrads: gradients.map((gradient) => tf.keep(gradient.weight)),
        biasGrads: gradients.map((gradient) => tf.keep(gradient.bias)),
      };
    });
    const readback: StepReadback = {
      stats: stats.dataSync() as Float32Array,
      weights,
      biases,
      weightGrads: weightGrads.map((tensor) => tensor.dataSync() as Float32Array),
      biasGrads: biasGrads.map((tensor) => tensor.dataSync() as Float32Array),
    };
    tf.dispose([stats, ...weightGrads, ...biasGrads]);
    return readback;
  }

  /** The same step with nothing read back: the plain training loop benchmarks compare against. */
  trainStep(inputs: Float32Array, labels: Int32Array): void {
    tf.tidy(() => this.#apply(this.#deltas(this.#forwardBackward(inputs, labels).gradients)));
  }

  /** Forward and backward pass; call inside tf.tidy. `post[0]` is the input, `post[l + 1]` layer l's output. */
  #forwardBackward(inputs: Float32Array, labels: Int32Array) {
    const batchSize = labels.length;
    const x = tf.tensor2d(inputs, [batchSize, this.#inputSize]);
    const labelTensor = tf.tensor1d(labels, 'int32');
    const target = tf.cast(tf.oneHot(labelTensor, this.#classes), 'float32');
    const pre: tf.Tensor[] = [];
    const post: tf.Tensor[] = [x];
    const last = this.#weights.length - 1;
    this.#weights.forEach((weight, layer) => {
      const z = tf.add(tf.matMul(post[layer]!, weight), this.#biases[layer]!);
      pre.push(z);
      post.push(layer === last ? tf.softmax(z) : activationOf(this.#activation, z));
    });
    // ∂L/∂z of the output for L = mean cross-entropy of softmax: (p − onehot) / batch.
    const gradients: { weight: tf.Tensor; bias: tf.Tensor }[] = new Array(last + 1);
    let gradPre = tf.div(tf.sub(post[last + 1]!, target), batchSize);
    for (let layer = last; layer >= 0; layer--) {
      gradients[layer] = { weight: tf.matMul(tf.transpose(post[layer]!), gradPre), bias: tf.sum(gradPre, 0) };
      if (layer > 0) {
        const gradPost = tf.matMul(gradPre, tf.transpose(this.#weights[layer]!));
        gradPre = tf.mul(gradPost, derivativeOf(this.#activation, pre[layer - 1]!, post[layer]!));
      }
    }
    return { pre, post, gradients, target, labels: labelTensor };
  }

  /** ΔW and Δb per layer (weights first, then biases), to subtract; advances the optimizer state. */
  #deltas(gradients: { weight: tf.Tensor; bias: tf.Tensor }[]): tf.Tensor[] {
    const grads = [...gradients.map((gradient) => gradient.weight), ...gradients.map((gradient) => gradient.bias)];
    const rate = this.#learningRate;
    switch (this.#optimizer) {
      case 'sgd':
        return grads.map((grad) => tf.mul(grad, rate));
      case 'momentum':
        return grads.map((grad, index) => {
          const velocity = tf.add(tf.mul(this.#state.first[index]!, this.#momentum), grad);
          this.#state.first[index]!.assign(velocity);
          return tf.mul(velocity, rate);
        });
      case 'adam': {
        const time = this.#updates + 1;
        const correction1 = 1 - ADAM_BETA1 ** time;
        const correction2 = 1 - ADAM_BETA2 ** time;
        return grads.map((grad, index) => {
          const first = tf.add(tf.mul(this.#state.first[index]!, ADAM_BETA1), tf.mul(grad, 1 - ADAM_BETA1));
          const second = tf.add(tf.mul(this.#state.second[index]!, ADAM_BETA2), tf.mul(tf.square(grad), 1 - ADAM_BETA2));
          this.#state.first[index]!.assign(first);
          this.#state.second[index]!.assign(second);
          return tf.div(tf.mul(first, rate / correction1), tf.add(tf.sqrt(tf.div(second, correction2)), ADAM_EPSILON));
        });
      }
    }
  }

  #apply(deltas: tf.Tensor[]): void {
    const layers = this.#weights.length;
    this.#weights.forEach((weight, layer) => weight.assign(tf.sub(weight, deltas[layer]!)));
    this.#biases.forEach((bias, layer) => bias.assign(tf.sub(bias, deltas[layers + layer]!)));
    this.#updates++;
  }

  /** Current weights, after the last update. */
  snapshot(): { weights: Float32Array[]; biases: Float32Array[] } {
    return {
      weights: this.#weights.map((variable) => (variable.dataSync() as Float32Array).slice()),
      biases: this.#biases.map((variable) => (variable.dataSync() as Float32Array).slice()),
    };
  }

  dispose(): void {
    tf.dispose([...this.#weights, ...this.#biases, ...this.#state.first, ...this.#state.second]);
  }
}
