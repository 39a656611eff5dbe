/**
 * The dense layers above the first, trained in the first-layer kernel's module and memory
 * (assembly/dense.ts) instead of TensorFlow.js, for hidden activations whose f and f′ are piecewise
 * linear (ReLU, leaky ReLU, linear). A step is a dozen calls into the module where the engine
 * dispatched some thirty operations, each costing more to dispatch than its small product.
 *
 * Rows are the batch's, then the probes' (see ../recording-model.ts): every row goes forward and
 * back with the gradient of its own loss, and only the batch rows enter the weight gradients.
 * Parameters are double-buffered like the first layer's: the weights a step started from stay
 * readable until the next step.
 */
import type { Optimizer } from '../../core/config.js';
import { LEAKY_RELU_SLOPE, type Activation } from '../../core/nn/activation.js';
import type { DenseLayer } from '../../core/nn/mlp.js';
import type { FirstLayerKernel, UpdateScalars, UpdateSums } from './first-layer.js';

/** The most bytes of upper-layer arrays given to the kernel's memory. */
const MAX_KERNEL_BYTES = 1024 ** 3;

/** The module's activation codes (assembly/dense.ts). */
const KINDS = { relu: 0, 'leaky-relu': 1, linear: 2 } as const;
type KernelActivation = keyof typeof KINDS;

/** Whether the kernel trains hidden layers of this activation; the others train in TensorFlow.js. */
export function kernelTrains(activation: Activation): activation is KernelActivation {
  return activation in KINDS;
}

/** One upper layer's arrays in the module's memory, as pointers. */
interface LayerArrays {
  fanIn: number;
  fanOut: number;
  /** Two copies of W and b; `current` says which one the next step starts from. */
  weights: [number, number];
  biases: [number, number];
  weightGrad: number;
  biasGrad: number;
  /** Scratch for Wᵀ, read by the backward product. */
  transposed: number;
  /** The optimizer's state for W and b (0 where it keeps none). */
  state: { weight: { first: number; second: number }; bias: { first: number; second: number } };
  pre: number;
  /** f(z) of the rows: hidden layers only. */
  post: number;
  grad: number;
}

export class UpperLayersKernel {
  readonly #kernel: FirstLayerKernel;
  readonly #sizes: readonly number[];
  readonly #rows: number;
  readonly #kind: number;
  readonly #layers: LayerArrays[];
  /** f(z) of the first layer's rows. */
  readonly #firstPost: number;
  #current: 0 | 1 = 0;

  /** Names and lengths of the scratch arrays these layers need in the kernel (FirstLayerKernelOptions.scratch). */
  static scratch(sizes: readonly number[], rows: number, optimizer: Optimizer): Record<string, number> {
    const needs: Record<string, number> = { 'post 1': rows * sizes[1]! };
    for (let layer = 2; layer < sizes.length; layer++) {
      const weights = sizes[layer - 1]! * sizes[layer]!;
      const neurons = sizes[layer]!;
      Object.assign(needs, {
        [`weight ${layer} a`]: weights,
        [`weight ${layer} b`]: weights,
        [`bias ${layer} a`]: neurons,
        [`bias ${layer} b`]: neurons,
        [`weight grad ${layer}`]: weights,
        [`weight transposed ${layer}`]: weights,
        [`bias grad ${layer}`]: neurons,
        [`pre ${layer}`]: rows * neurons,
        [`grad ${layer}`]: rows * neurons,
      });
      if (layer < sizes.length - 1) needs[`post ${layer}`] = rows * neurons;
      for (const [state, kept] of [
        ['first', optimizer !== 'sgd'],
        ['second', optimizer === 'adam'],
      ] as const) {
        if (!kept) continue;
        needs[`weight ${layer} ${state}`] = weights;
        needs[`bias ${layer} ${state}`] = neurons;
      }
    }
    return needs;
  }

  /**
   * Whether these layers' arrays fit in the kernel module's memory beside the first layer's, with room
   * to spare (a WebAssembly memory holds at most 4 GiB): eight hidden layers of 4,096 neurons do not,
   * and train in TensorFlow.js instead.
   */
  static fits(sizes: readonly number[], rows: number, optimizer: Optimizer): boolean {
    const floats = Object.values(UpperLayersKernel.scratch(sizes, rows, optimizer)).reduce((sum, length) => sum + length, 0);
    return floats * 4 <= MAX_KERNEL_BYTES;
  }

  /** `kernel` was made with `UpperLayersKernel.scratch(sizes, rows, optimizer)` among its scratch arrays. */
  constructor(
    kernel: FirstLayerKernel,
    sizes: readonly number[],
    rows: number,
    activation: KernelActivation,
    initial: readonly DenseLayer[],
  ) {
    this.#kernel = kernel;
    this.#sizes = sizes;
    this.#rows = rows;
    this.#kind = KINDS[activation];
    const at = (name: string) => kernel.scratchAt(name);
    const optional = (name: string) => (kernel.hasScratch(name) ? at(name) : 0);
    this.#firstPost = at('post 1');
    this.#layers = initial.slice(1).map((layer, index) => {
      const number = index + 2;
      const arrays: LayerArrays = {
        fanIn: layer.fanIn,
        fanOut: layer.fanOut,
        weights: [at(`weight ${number} a`), at(`weight ${number} b`)],
        biases: [at(`bias ${number} a`), at(`bias ${number} b`)],
        weightGrad: at(`weight grad ${number}`),
        transposed: at(`weight transposed ${number}`),
        biasGrad: at(`bias grad ${number}`),
        state: {
          weight: { first: optional(`weight ${number} first`), second: optional(`weight ${number} second`) },
          bias: { first: optional(`bias ${number} first`), second: optional(`bias ${number} second`) },
        },
        pre: at(`pre ${number}`),
        post: number < sizes.length - 1 ? at(`post ${number}`) : 0,
        grad: at(`grad ${number}`),
      };
      kernel.scratch(`weight ${number} a`).set(layer.weight);
      kernel.scratch(`bias ${number} a`).set(layer.bias);
      return arrays;
    });
  }

  /**
   * Forward from the first layer's z (the kernel's `output`, all rows), back to its ∂L/∂z (into the
   * kernel's `gradOutput`), and the update of every upper layer. `targets` [rows × classes] are the
   * rows' one-hot labels, `rowScale` each row's loss weight (1/batch for batch rows, 1 for probe
   * rows); the first `batch` rows enter the weight gradients. Returns the update's sums of each
   * upper layer's weights.
   */
  step(targets: Float32Array, rowScale: Float32Array, batch: number, scalars: UpdateScalars): UpdateSums[] {
    const kernel = this.#kernel;
    const dense = kernel.dense;
    const rows = this.#rows;
    const slope = LEAKY_RELU_SLOPE;
    const current = this.#current;
    dense.activate(this.#kind, slope, kernel.outputAt, this.#firstPost, rows * this.#sizes[1]!);
    const layers = this.#layers;
    const inputOf = (index: number) => (index === 0 ? this.#firstPost : layers[index - 1]!.post);
    layers.forEach((layer, index) => {
      dense.denseForward(inputOf(index), rows, layer.fanIn, layer.weights[current], layer.biases[current], layer.fanOut, layer.pre);
      if (layer.post) dense.activate(this.#kind, slope, layer.pre, layer.post, rows * layer.fanOut);
    });
    const output = layers.at(-1)!;
    this.#softmaxGradient(
      kernel.scratchView(output.pre, rows * output.fanOut),
      targets,
      rowScale,
      kernel.scratchView(output.grad, rows * output.fanOut),
      output.fanOut,
    );
    for (let index = layers.length - 1; index >= 0; index--) {
      const layer = layers[index]!;
      dense.denseWeightGradient(inputOf(index), layer.grad, batch, layer.fanIn, layer.fanOut, layer.weightGrad, layer.biasGrad);
      const [pre, grad] = index === 0 ? [kernel.outputAt, kernel.gradOutputAt] : [layers[index - 1]!.pre, layers[index - 1]!.grad];
      dense.denseGradInput(
        layer.grad,
        rows,
        layer.fanOut,
        layer.weights[current],
        layer.fanIn,
        pre,
        this.#kind,
        slope,
        layer.transposed,
        grad,
      );
    }
    const next = current === 0 ? 1 : 0;
    const sums = layers.map((layer) => {
      const { weight, bias } = layer.state;
      const length = layer.fanIn * layer.fanOut;
      const weightSums = kernel.updateAt(
        layer.weights[current],
        layer.weights[next],
        layer.weightGrad,
        weight.first,
        weight.second,
        length,
        scalars,
      );
      kernel.updateAt(layer.biases[current], layer.biases[next], layer.biasGrad, bias.first, bias.second, layer.fanOut, scalars);
      return weightSums;
    });
    this.#current = next;
    return sums;
  }

  /** ∂/∂z of each row's softmax cross-entropy, (p − onehot)·rowScale, with p = softmax(z) in float64. */
  #softmaxGradient(logits: Float32Array, targets: Float32Array, rowScale: Float32Array, grad: Float32Array, classes: number): void {
    for (let row = 0; row < rowScale.length; row++) {
      const start = row * classes;
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, logits[start + j]!);
      let total = 0;
      for (let j = 0; j < classes; j++) total += grad[start + j] = Math.exp(logits[start + j]! - max);
      for (let j = 0; j < classes; j++) grad[start + j] = (grad[start + j]! / total - targets[start + j]!) * rowScale[row]!;
    }
  }

  /** z of dense layer `layer` (from 2) over every row, as of the latest step. */
  preActivation(layer: number): Float32Array {
    const arrays = this.#layer(layer);
    return this.#kernel.scratchView(arrays.pre, this.#rows * arrays.fanOut);
  }

  /** f(z) of hidden layer `layer` (from 1) over every row, as of the latest step. */
  activation(layer: number): Float32Array {
    if (layer === 1) return this.#kernel.scratchView(this.#firstPost, this.#rows * this.#sizes[1]!);
    const arrays = this.#layer(layer);
    return this.#kernel.scratchView(arrays.post, this.#rows * arrays.fanOut);
  }

  /** ∂L/∂z of dense layer `layer` (from 2) over every row, as of the latest step. */
  gradPreActivation(layer: number): Float32Array {
    const arrays = this.#layer(layer);
    return this.#kernel.scratchView(arrays.grad, this.#rows * arrays.fanOut);
  }

  /** W and b of layer `layer` (from 2): the ones the latest step started from (`previous`), or the current ones. */
  parameters(layer: number, which: 'previous' | 'current'): { weight: Float32Array; bias: Float32Array } {
    const arrays = this.#layer(layer);
    const copy = which === 'current' ? this.#current : this.#current === 0 ? 1 : 0;
    return {
      weight: this.#kernel.scratchView(arrays.weights[copy], arrays.fanIn * arrays.fanOut),
      bias: this.#kernel.scratchView(arrays.biases[copy], arrays.fanOut),
    };
  }

  /** ∂L/∂W and ∂L/∂b of layer `layer` (from 2) of the latest step. */
  grads(layer: number): { weightGrad: Float32Array; biasGrad: Float32Array } {
    const arrays = this.#layer(layer);
    return {
      weightGrad: this.#kernel.scratchView(arrays.weightGrad, arrays.fanIn * arrays.fanOut),
      biasGrad: this.#kernel.scratchView(arrays.biasGrad, arrays.fanOut),
    };
  }

  #layer(layer: number): LayerArrays {
    const arrays = this.#layers[layer - 2];
    if (!arrays) throw new RangeError(`UpperLayersKernel: no dense layer ${layer} above the first`);
    return arrays;
  }
}
