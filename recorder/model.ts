/**
 * The MLP trained with TensorFlow.js, densely, the straightforward way: the plain training loop
 * the benchmarks compare against, and the reference the recorder's faster model
 * (recording-model.ts) is tested against. Forward and backward passes are written out (not
 * taped): the backward pass yields ∂L/∂z of every layer on the way to ∂L/∂W. Loss: mean softmax
 * cross-entropy over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Config, Optimizer } from '../core/config.js';
import type { Activation } from '../core/nn/activation.js';
import type { DenseLayer } from '../core/nn/mlp.js';
import { activationOf, derivativeOf } from './activations.js';
import type { UpdateScalars } from './kernel/first-layer.js';
import { readInto } from './readback.js';

/** What one step read back from the engine, in buffers from the pool (row-major [sample × neuron]). */
export interface StepReadback {
  /** z of every dense layer; the last is the logits. */
  preActivation: Float32Array[];
  /** f(z) of every hidden layer. */
  activation: Float32Array[];
  /** ∂L/∂z of every dense layer, L the batch-mean loss. */
  gradPreActivation: Float32Array[];
  /** ‖∂L/∂W‖ per dense layer. */
  gradNorms: Float32Array;
  /** ‖ΔW‖ per dense layer: the norm of the update this step applied (η‖∂L/∂W‖ for SGD). */
  updateNorms: Float32Array;
  /** Per dense layer, before this step's update. */
  weights: Float32Array[];
  biases: Float32Array[];
}

/** ∂L/∂W and ∂L/∂b of one dense layer. */
export interface LayerGrads {
  weightGrad: Float32Array;
  biasGrad: Float32Array;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-7;

/**
 * ‖t‖₂ over all entries. (tf.norm and transposed matMul flags are 10–15× slower than these
 * compositions on the wasm backend, measured on 784×128 matrices.)
 */
export function frobenius(tensor: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(tensor)));
}

/**
 * The optimizer's update rules on TensorFlow.js variables. The first-layer kernel applies the same
 * rules, with the same operations in the same order (kernel/assembly/first-layer.ts).
 */
export class TfOptimizer {
  readonly #optimizer: Optimizer;
  readonly #learningRate: number;
  readonly #momentum: number;
  readonly #first: tf.Variable[];
  readonly #second: tf.Variable[];
  /** Updates applied so far (Adam's t − 1). */
  updates = 0;

  constructor(config: Pick<Config, 'optimizer' | 'learningRate' | 'momentum'>, parameters: readonly tf.Tensor[]) {
    this.#optimizer = config.optimizer;
    this.#learningRate = config.learningRate;
    this.#momentum = config.momentum;
    const zerosLike = () => parameters.map((variable) => tf.variable(tf.zerosLike(variable)));
    this.#first = this.#optimizer === 'sgd' ? [] : zerosLike();
    this.#second = this.#optimizer === 'adam' ? zerosLike() : [];
  }

  /** The scalars of the next update, for the first-layer kernel. */
  scalars(): UpdateScalars {
    const time = this.updates + 1;
    const adam = this.#optimizer === 'adam';
    return {
      rate: this.#learningRate,
      momentum: this.#momentum,
      beta1: ADAM_BETA1,
      beta2: ADAM_BETA2,
      epsilon: ADAM_EPSILON,
      correction1: adam ? 1 - ADAM_BETA1 ** time : 1,
      correction2: adam ? 1 - ADAM_BETA2 ** time : 1,
    };
  }

  /** ΔW per parameter (in the constructor's order), to subtract; advances the optimizer state. Call inside tf.tidy. */
  deltas(grads: tf.Tensor[]): tf.Tensor[] {
    const rate = this.#learningRate;
    switch (this.#optimizer) {
      case 'sgd':
        return grads.map((grad) => tf.mul(grad, rate));
      case 'momentum':
        return grads.map((grad, index) => {
          const velocity = tf.add(tf.mul(this.#first[index]!, this.#momentum), grad);
          this.#first[index]!.assign(velocity);
          return tf.mul(velocity, rate);
        });
      case 'adam': {
        const { correction1, correction2 } = this.scalars();
        return grads.map((grad, index) => {
          const first = tf.add(tf.mul(this.#first[index]!, ADAM_BETA1), tf.mul(grad, 1 - ADAM_BETA1));
          const second = tf.add(tf.mul(this.#second[index]!, ADAM_BETA2), tf.mul(tf.square(grad), 1 - ADAM_BETA2));
          this.#first[index]!.assign(first);
          this.#second[index]!.assign(second);
          return tf.div(tf.mul(first, rate / correction1), tf.add(tf.sqrt(tf.div(second, correction2)), ADAM_EPSILON));
        });
      }
    }
  }

  /** parameter − Δ for each parameter, and counts the update. Call once per step, after `deltas`, inside tf.tidy. */
  subtract(parameters: readonly tf.Tensor[], deltas: readonly tf.Tensor[]): tf.Tensor[] {
    this.updates++;
    return parameters.map((parameter, index) => tf.sub(parameter, deltas[index]!));
  }

  /** parameter ← parameter − Δ. */
  apply(parameters: readonly tf.Variable[], deltas: readonly tf.Tensor[]): void {
    this.subtract(parameters, deltas).forEach((value, index) => parameters[index]!.assign(value));
  }

  dispose(): void {
    tf.dispose([...this.#first, ...this.#second]);
  }
}

export class TfMlp {
  readonly #weights: tf.Variable[];
  readonly #biases: tf.Variable[];
  readonly #optimizer: TfOptimizer;
  readonly #activation: Activation;
  readonly #inputSize: number;
  readonly #classes: number;
  /** ∂L/∂W, ∂L/∂b per layer (interleaved) of the latest step. */
  #heldGrads: tf.Tensor[] = [];

  constructor(config: Pick<Config, 'activation' | 'optimizer' | 'learningRate' | 'momentum'>, initial: readonly DenseLayer[]) {
    this.#activation = config.activation;
    this.#inputSize = initial[0]!.fanIn;
    this.#classes = initial[initial.length - 1]!.fanOut;
    this.#weights = initial.map((layer) => tf.variable(tf.tensor2d(layer.weight, [layer.fanIn, layer.fanOut])));
    this.#biases = initial.map((layer) => tf.variable(tf.tensor1d(layer.bias)));
    this.#optimizer = new TfOptimizer(config, this.#parameters);
  }

  get #parameters(): tf.Variable[] {
    return [...this.#weights, ...this.#biases];
  }

  /**
   * One training step on a batch: forward, backward, read back the batch measurements and the
   * weights before the update, then apply the optimizer's update. The step's weight gradients
   * stay on the engine until the next step; `readGrads` copies them out.
   * @param inputs batch × inputSize pixels, row-major
   * @param labels batch class indices
   */
  step(inputs: Float32Array, labels: Int32Array): StepReadback {
    const read = (tensor: tf.Tensor) => readInto(tensor, new Float32Array(tensor.size));
    const weights = this.#weights.map(read);
    const biases = this.#biases.map(read);
    tf.dispose(this.#heldGrads);
    let readback: Omit<StepReadback, 'weights' | 'biases'> | undefined;
    this.#heldGrads = tf.tidy(() => {
      const { pre, post, gradients } = this.#forwardBackward(inputs, labels);
      const layerCount = gradients.length;
      const deltas = this.#optimizer.deltas(this.#gradientList(gradients));
      readback = {
        preActivation: pre.map(read),
        activation: post.slice(1, -1).map(read),
        gradPreActivation: gradients.map((gradient) => read(gradient.pre)),
        gradNorms: read(tf.stack(gradients.map((gradient) => frobenius(gradient.weight)))),
        updateNorms: read(tf.stack(deltas.slice(0, layerCount).map(frobenius))),
      };
      this.#optimizer.apply(this.#parameters, deltas);
      return gradients.flatMap((gradient) => [gradient.weight, gradient.bias]);
    });
    return { ...readback!, weights, biases };
  }

  /** The weight gradients of the latest step, for dense layer `layer` (from 1). */
  readGrads(layer: number): LayerGrads {
    const weight = this.#heldGrads[2 * (layer - 1)];
    const bias = this.#heldGrads[2 * (layer - 1) + 1];
    if (!weight || !bias) throw new Error(`TfMlp.readGrads: no gradients held for layer ${layer}`);
    return { weightGrad: readInto(weight, new Float32Array(weight.size)), biasGrad: readInto(bias, new Float32Array(bias.size)) };
  }

  /** The same step with nothing read back: the plain training loop benchmarks compare against. */
  trainStep(inputs: Float32Array, labels: Int32Array): void {
    tf.tidy(() => {
      const { gradients } = this.#forwardBackward(inputs, labels);
      this.#optimizer.apply(this.#parameters, this.#optimizer.deltas(this.#gradientList(gradients)));
    });
  }

  /** Weight gradients then bias gradients: the order of `#parameters`. */
  #gradientList(gradients: { weight: tf.Tensor; bias: tf.Tensor }[]): tf.Tensor[] {
    return [...gradients.map((gradient) => gradient.weight), ...gradients.map((gradient) => gradient.bias)];
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
    const gradients: { weight: tf.Tensor; bias: tf.Tensor; pre: tf.Tensor }[] = new Array(last + 1);
    let gradPre = tf.div(tf.sub(post[last + 1]!, target), batchSize);
    for (let layer = last; layer >= 0; layer--) {
      gradients[layer] = { weight: tf.matMul(tf.transpose(post[layer]!), gradPre), bias: tf.sum(gradPre, 0), pre: gradPre };
      if (layer > 0) {
        const gradPost = tf.matMul(gradPre, tf.transpose(this.#weights[layer]!));
        gradPre = tf.mul(gradPost, derivativeOf(this.#activation, pre[layer - 1]!, post[layer]!));
      }
    }
    return { pre, post, gradients };
  }

  /** Current weights, after the last update. */
  snapshot(): { weights: Float32Array[]; biases: Float32Array[] } {
    return {
      weights: this.#weights.map((variable) => readInto(variable, new Float32Array(variable.size))),
      biases: this.#biases.map((variable) => readInto(variable, new Float32Array(variable.size))),
    };
  }

  dispose(): void {
    tf.dispose([...this.#parameters, ...this.#heldGrads]);
    this.#optimizer.dispose();
  }
}
