/**
 * The MLP the recorder trains: the same network, loss and optimizer as the dense reference
 * (model.ts), arranged so that one pass computes everything a step records.
 *
 * - The first layer runs in the first-layer kernel on the samples' non-zero pixels (kernel/).
 * - The layers above it train in the same kernel (kernel/upper-layers.ts) when their activation is
 *   piecewise linear (ReLU, leaky ReLU, linear), else in TensorFlow.js.
 * - The probe set rides along with the batch: its rows go through the same forward and backward
 *   pass, each with the gradient of its own loss, and are left out of the weight gradients. The
 *   probes cost a few more rows of small products instead of a pass of their own.
 *
 * Everything read back is row-major [row × neuron] over the batch rows, then the probe rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../core/config.js';
import type { DenseLayer } from '../core/nn/mlp.js';
import { activationOf, derivativeOf } from './activations.js';
import { FirstLayerKernel, type CompressedSamples, type UpdateScalars, type UpdateSums } from './kernel/first-layer.js';
import { kernelTrains, UpperLayersKernel } from './kernel/upper-layers.js';
import { frobenius, TfOptimizer, type LayerGrads } from './model.js';
import { readInto, type BufferPool } from './readback.js';
import type { LayerWeights } from './writer/protocol.js';

/** What one step read back, in buffers from the pool. Per-row arrays hold batch rows, then probe rows. */
export interface RecordedStep {
  /** z of every dense layer; the last is the logits. */
  preActivation: Float32Array[];
  /** f(z) of every hidden layer. */
  activation: Float32Array[];
  /** ∂L/∂z of every dense layer: batch rows of L, the batch-mean loss; probe rows of each probe's own loss. */
  gradPreActivation: Float32Array[];
  /** ‖W‖ per dense layer, before this step's update. */
  weightNorms: Float32Array;
  /** ‖∂L/∂W‖ per dense layer. */
  gradNorms: Float32Array;
  /** ‖ΔW‖ per dense layer: the norm of the update this step applied. */
  updateNorms: Float32Array;
  /** The batch's mean input, [inputSize]. */
  meanInput: Float32Array;
}

/** Milliseconds spent per phase of `step`, summed over calls (for benchmarks). */
export interface StepPhases {
  /** Selecting the batch, its mean input, the first layer's forward pass over batch and probe rows. */
  kernelForward: number;
  /** The layers above the first (in TensorFlow.js or the kernel): forward, backward, update, read-back. */
  engine: number;
  /** First-layer weight gradient and optimizer update, norms. */
  kernelBackward: number;
}

export interface RecordingMlpOptions {
  config: Pick<Config, 'activation' | 'optimizer' | 'learningRate' | 'momentum' | 'batchSize'>;
  initial: readonly DenseLayer[];
  /** The training samples, compressed; batches name them by index. */
  train: CompressedSamples;
  /** The probe inputs, compressed, and their labels. */
  probes: { samples: CompressedSamples; labels: ArrayLike<number> };
  /** Where the layers above the first train: the kernel where it can (the default), or TensorFlow.js. */
  upperLayers?: 'kernel' | 'engine';
}

/** A copy of `values` in a buffer from the pool. */
function pooledCopy(values: Float32Array, pool: BufferPool): Float32Array {
  const target = pool.take(values.length);
  target.set(values);
  return target;
}

export class RecordingMlp {
  readonly #kernel: FirstLayerKernel;
  /** The layers above the first, when the kernel trains them; else they are the tensors below. */
  readonly #upper: UpperLayersKernel | undefined;
  /** [rows]: each row's loss weight, 1/batch for batch rows and 1 for probe rows (#rowScale as an array, for the kernel's upper layers). */
  readonly #rowWeights: Float32Array;
  /**
   * Weights then biases of layers 2 … n; a step makes new ones, and the ones before its update
   * stay until the next step (`previousWeights`), as the kernel keeps the first layer's.
   */
  #parameters: tf.Tensor[];
  #previous: tf.Tensor[];
  readonly #optimizer: TfOptimizer;
  readonly #config: RecordingMlpOptions['config'];
  readonly #sizes: number[];
  readonly #probeCount: number;
  /** Row-major [rows × classes], the one-hot targets; probe rows fixed, batch rows set per step. */
  readonly #targets: Float32Array;
  /** [rows × 1]: 1 / batch for batch rows (the batch-mean loss), 1 for probe rows (each probe's own loss). */
  readonly #rowScale: tf.Tensor2D;
  /** [rows × 1]: 1 for batch rows, 0 for probe rows; keeps the probes out of the weight gradients. (A multiply costs a third of slicing the rows out.) */
  readonly #batchMask: tf.Tensor2D | undefined;
  /** Copies of layers 2 … n's weights (before the latest update) and weight gradients, read back every step into the kernel's memory for their norms. */
  readonly #upperWeights: Float32Array[];
  readonly #upperGrads: Float32Array[];
  /** Lengths of the kernel path's read-back arrays, taken together from the pool (see #kernelStep). */
  readonly #readBackLengths: number[];
  /** ∂L/∂b of layers 2 … n of the latest step (their ∂L/∂W are in `#upperGrads`); empty before the first step. */
  #heldBiasGrads: tf.Tensor[] = [];

  constructor(options: RecordingMlpOptions) {
    const { config, initial } = options;
    const batch = config.batchSize;
    const probeCount = options.probes.labels.length;
    const rows = batch + probeCount;
    this.#config = config;
    this.#sizes = [initial[0]!.fanIn, ...initial.map((layer) => layer.fanOut)];
    const activation = config.activation;
    const inKernel =
      options.upperLayers !== 'engine' &&
      initial.length > 1 &&
      kernelTrains(activation) &&
      UpperLayersKernel.fits(this.#sizes, rows, config.optimizer);
    this.#kernel = new FirstLayerKernel({
      inputSize: initial[0]!.fanIn,
      width: initial[0]!.fanOut,
      optimizer: config.optimizer,
      weight: initial[0]!.weight,
      bias: initial[0]!.bias,
      sets: { train: options.train, probes: options.probes.samples },
      groups: { batch, probes: probeCount },
      scratch: inKernel
        ? UpperLayersKernel.scratch(this.#sizes, rows, config.optimizer)
        : // Read-back copies of the upper layers' weights and weight gradients, for their norms.
          Object.fromEntries(
            initial.slice(1).flatMap((layer, index) => [
              [`weight ${index + 2}`, layer.weight.length],
              [`grad ${index + 2}`, layer.weight.length],
            ]),
          ),
    });
    this.#upper =
      inKernel && kernelTrains(activation) ? new UpperLayersKernel(this.#kernel, this.#sizes, rows, activation, initial) : undefined;
    const perRow = this.#sizes.slice(1).map((neurons) => rows * neurons);
    this.#readBackLengths = [this.#sizes[0]!, ...perRow, ...perRow.slice(0, -1), ...perRow];
    this.#rowWeights = Float32Array.from({ length: rows }, (_, row) => (row < batch ? 1 / batch : 1));
    const upper = this.#upper ? [] : initial.slice(1);
    this.#upperWeights = upper.map((_, index) => this.#kernel.scratch(`weight ${index + 2}`));
    this.#upperGrads = upper.map((_, index) => this.#kernel.scratch(`grad ${index + 2}`));
    this.#parameters = [
      ...upper.map((layer) => tf.tensor2d(layer.weight, [layer.fanIn, layer.fanOut])),
      ...upper.map((layer) => tf.tensor1d(layer.bias)),
    ];
    this.#previous = this.#parameters.map((parameter) => tf.clone(parameter));
    this.#optimizer = new TfOptimizer(config, this.#parameters);
    this.#probeCount = probeCount;
    // The probes are the same rows at every step.
    this.#kernel.select(
      'probes',
      'probes',
      Int32Array.from({ length: probeCount }, (_, index) => index),
    );
    const classes = this.#sizes.at(-1)!;
    this.#targets = new Float32Array(rows * classes);
    for (let probe = 0; probe < probeCount; probe++) this.#targets[(batch + probe) * classes + options.probes.labels[probe]!] = 1;
    this.#batchMask =
      probeCount > 0
        ? tf.tensor2d(
            Float32Array.from({ length: rows }, (_, row) => (row < batch ? 1 : 0)),
            [rows, 1],
          )
        : undefined;
    this.#rowScale = tf.tensor2d(this.#rowWeights, [rows, 1]);
  }

  /** Where the layers above the first train. */
  get upperLayers(): 'kernel' | 'engine' {
    return this.#upper ? 'kernel' : 'engine';
  }

  /**
   * One training step on the batch `samples` (indices into the training set) with `labels`:
   * forward and backward over the batch and probe rows, read back, then the optimizer's update.
   * The step's weight gradients are kept until the next step; `readGrads` copies them out.
   */
  step(samples: Int32Array, labels: Int32Array, pool: BufferPool, phases?: StepPhases): RecordedStep {
    let mark = phases ? performance.now() : 0;
    const lap = (phase: keyof StepPhases) => {
      if (!phases) return;
      const now = performance.now();
      phases[phase] += now - mark;
      mark = now;
    };
    const kernel = this.#kernel;
    // Before the updates below advance the optimizer's step count.
    const scalars = this.#optimizer.scalars();
    const batch = samples.length;
    if (batch !== this.#config.batchSize)
      throw new RangeError(`RecordingMlp.step: ${batch} samples, the model is built for batches of ${this.#config.batchSize}`);
    const probeCount = this.#probeCount;
    const rows = batch + probeCount;
    const sizes = this.#sizes;
    const layerCount = sizes.length - 1;
    const upperCount = layerCount - 1;
    const classes = sizes[layerCount]!;
    const activation = this.#config.activation;
    const read = (tensor: tf.Tensor) => readInto(tensor, pool.take(tensor.size));
    kernel.select('batch', 'train', samples);
    // The kernel path's read-back in one buffer (see #kernelStep); the engine's, array by array.
    const together = this.#upper ? pool.takeTogether(this.#readBackLengths) : undefined;
    const meanInput = together ? together[0]! : pool.take(sizes[0]!);
    meanInput.set(kernel.columnMeans('batch'));
    kernel.forward('batch');
    if (probeCount > 0) kernel.forward('probes', batch);
    const targets = this.#targets;
    targets.fill(0, 0, batch * classes);
    for (let row = 0; row < batch; row++) targets[row * classes + labels[row]!] = 1;
    lap('kernelForward');
    if (this.#upper) return this.#kernelStep(this.#upper, scalars, batch, together!, lap);

    let readback: Pick<RecordedStep, 'preActivation' | 'activation' | 'gradPreActivation'> | undefined;
    let upperDeltaNorms: Float32Array | undefined;
    const batchMask = this.#batchMask;
    const parameters = this.#parameters;
    const weights = parameters.slice(0, upperCount);
    const biases = parameters.slice(upperCount);
    const kept = tf.tidy(() => {
      const z1 = tf.tensor2d(kernel.output.subarray(0, rows * sizes[1]!), [rows, sizes[1]!]);
      const pre: tf.Tensor[] = [z1];
      // f(z) of the hidden layers: none when the first layer is the output layer.
      const post: tf.Tensor[] = layerCount > 1 ? [activationOf(activation, z1)] : [];
      weights.forEach((weight, index) => {
        const z = tf.add(tf.matMul(post[index]!, weight), biases[index]!);
        pre.push(z);
        if (index < upperCount - 1) post.push(activationOf(activation, z));
      });
      // ∂/∂z of softmax cross-entropy: (p − onehot), over the batch for batch rows.
      const probabilities = tf.softmax(pre[layerCount - 1]!);
      const grads: tf.Tensor[] = new Array(layerCount);
      grads[layerCount - 1] = tf.mul(tf.sub(probabilities, tf.tensor2d(targets, [rows, classes])), this.#rowScale);
      const upper: { weight: tf.Tensor; bias: tf.Tensor }[] = [];
      for (let layer = layerCount - 1; layer >= 1; layer--) {
        const grad = grads[layer]!;
        const batchGrad = batchMask ? tf.mul(grad, batchMask) : grad;
        upper[layer - 1] = { weight: tf.matMul(tf.transpose(post[layer - 1]!), batchGrad), bias: tf.sum(batchGrad, 0) };
        const weight = weights[layer - 1]!;
        const [fanIn, fanOut] = weight.shape as [number, number];
        // g·Wᵀ packs a fresh Wᵀ every step; (W·gᵀ)ᵀ packs the smaller gᵀ instead, for large layers.
        const gradPost =
          fanIn * fanOut > rows * (fanIn + fanOut)
            ? tf.transpose(tf.matMul(weight, tf.transpose(grad)))
            : tf.matMul(grad, tf.transpose(weight));
        grads[layer - 1] = tf.mul(gradPost, derivativeOf(activation, pre[layer - 1]!, post[layer - 1]!));
      }
      const upperGrads = [...upper.map((gradient) => gradient.weight), ...upper.map((gradient) => gradient.bias)];
      const deltas = this.#optimizer.deltas(upperGrads);
      readback = {
        preActivation: pre.map(read),
        activation: post.map(read),
        gradPreActivation: grads.map(read),
      };
      // ‖W‖ and ‖∂L/∂W‖ from copies in the kernel's memory (SIMD sums): cheaper than three engine
      // operations per norm. ‖ΔW‖ = η‖∂L/∂W‖ for SGD; other optimizers' ΔW differ in direction.
      upper.forEach((gradient, index) => {
        readInto(weights[index]!, this.#upperWeights[index]!);
        readInto(gradient.weight, this.#upperGrads[index]!);
      });
      upperDeltaNorms =
        this.#config.optimizer === 'sgd' || upperCount === 0
          ? undefined
          : readInto(tf.stack(deltas.slice(0, upperCount).map(frobenius)), new Float32Array(upperCount));
      readInto(grads[0]!, kernel.gradOutput.subarray(0, rows * sizes[1]!));
      return { biasGrads: upper.map((gradient) => gradient.bias), updated: this.#optimizer.subtract(parameters, deltas) };
    });
    tf.dispose([...this.#heldBiasGrads, ...this.#previous]);
    this.#heldBiasGrads = kept.biasGrads;
    this.#previous = parameters;
    this.#parameters = kept.updated;
    lap('engine');

    const sums = kernel.weightGradientAndUpdate('batch', scalars).weight;
    const weightNorms = Float32Array.from({ length: layerCount }, (_, index) =>
      Math.sqrt(index === 0 ? sums.paramSquares : kernel.sumOfSquares(`weight ${index + 1}`)),
    );
    const gradNorms = Float32Array.from({ length: layerCount }, (_, index) =>
      Math.sqrt(index === 0 ? sums.gradSquares : kernel.sumOfSquares(`grad ${index + 1}`)),
    );
    const updateNorms = Float32Array.from({ length: layerCount }, (_, index) =>
      index === 0
        ? Math.sqrt(sums.deltaSquares)
        : (upperDeltaNorms?.[index - 1] ?? Math.fround(this.#config.learningRate * gradNorms[index]!)),
    );
    lap('kernelBackward');
    return { ...readback!, weightNorms, gradNorms, updateNorms, meanInput };
  }

  /**
   * The rest of `step` when the kernel trains the upper layers too. `together` holds the read-back,
   * one array after another (`#readBackLengths`): the mean input (already set), z of every layer,
   * f(z) of the hidden ones, ∂L/∂z of every layer.
   */
  #kernelStep(
    upper: UpperLayersKernel,
    scalars: UpdateScalars,
    batch: number,
    together: Float32Array[],
    lap: (phase: keyof StepPhases) => void,
  ): RecordedStep {
    const kernel = this.#kernel;
    const sizes = this.#sizes;
    const layerCount = sizes.length - 1;
    const rows = batch + this.#probeCount;
    const [meanInput, ...arrays] = together as [Float32Array, ...Float32Array[]];
    const preActivation = arrays.slice(0, layerCount);
    const activation = arrays.slice(layerCount, 2 * layerCount - 1);
    const gradPreActivation = arrays.slice(2 * layerCount - 1);
    const upperSums = upper.step(this.#targets, this.#rowWeights, batch, scalars);
    this.#optimizer.updates++;
    preActivation[0]!.set(kernel.output.subarray(0, rows * sizes[1]!));
    activation[0]!.set(upper.activation(1));
    for (let layer = 2; layer <= layerCount; layer++) {
      preActivation[layer - 1]!.set(upper.preActivation(layer));
      if (layer < layerCount) activation[layer - 1]!.set(upper.activation(layer));
    }
    lap('engine');
    const sums = [kernel.weightGradientAndUpdate('batch', scalars).weight, ...upperSums];
    gradPreActivation[0]!.set(kernel.gradOutput.subarray(0, rows * sizes[1]!));
    for (let layer = 2; layer <= layerCount; layer++) gradPreActivation[layer - 1]!.set(upper.gradPreActivation(layer));
    const norms = (key: keyof UpdateSums) => Float32Array.from(sums, (sum) => Math.sqrt(sum[key]));
    lap('kernelBackward');
    return {
      preActivation,
      activation,
      gradPreActivation,
      weightNorms: norms('paramSquares'),
      gradNorms: norms('gradSquares'),
      updateNorms: norms('deltaSquares'),
      meanInput,
    };
  }

  /**
   * The weights and biases the latest step started from (before its update), in buffers from the
   * pool: of every dense layer, or only of the layers (from 1) in `only`.
   */
  previousWeights(pool: BufferPool, only?: ReadonlySet<number>): LayerWeights {
    const copy = (values: Float32Array) => pooledCopy(values, pool);
    const read = (tensor: tf.Tensor) => readInto(tensor, pool.take(tensor.size));
    const upperCount = this.#sizes.length - 2;
    const wanted = (layer: number) => !only || only.has(layer);
    const { weight, bias } = this.#kernel.previous;
    const upper = this.#upper;
    if (upper) {
      const layers = Array.from({ length: upperCount }, (_, index) => index + 2);
      return {
        weights: [
          wanted(1) ? copy(weight) : undefined,
          ...layers.map((layer) => (wanted(layer) ? copy(upper.parameters(layer, 'previous').weight) : undefined)),
        ],
        biases: [
          wanted(1) ? copy(bias) : undefined,
          ...layers.map((layer) => (wanted(layer) ? copy(upper.parameters(layer, 'previous').bias) : undefined)),
        ],
      };
    }
    return {
      weights: [
        wanted(1) ? copy(weight) : undefined,
        ...this.#previous.slice(0, upperCount).map((tensor, index) => (wanted(index + 2) ? read(tensor) : undefined)),
      ],
      biases: [
        wanted(1) ? copy(bias) : undefined,
        ...this.#previous.slice(upperCount).map((tensor, index) => (wanted(index + 2) ? read(tensor) : undefined)),
      ],
    };
  }

  /** The weight gradients of the latest step for dense layer `layer` (from 1), in buffers from the pool. */
  readGrads(layer: number, pool: BufferPool): LayerGrads {
    const weightGrad = this.readWeightGrad(layer, pool);
    if (layer === 1) {
      return { weightGrad, biasGrad: pooledCopy(this.#kernel.biasGrad, pool) };
    }
    if (this.#upper) {
      return { weightGrad, biasGrad: pooledCopy(this.#upper.grads(layer).biasGrad, pool) };
    }
    const bias = this.#heldBiasGrads[layer - 2];
    if (!bias) throw new Error(`RecordingMlp.readGrads: no gradients held for layer ${layer}`);
    return { weightGrad, biasGrad: readInto(bias, pool.take(bias.size)) };
  }

  /** ∂L/∂W of the latest step for dense layer `layer` (from 1), in a buffer from the pool (a link frame needs no ∂L/∂b). */
  readWeightGrad(layer: number, pool: BufferPool): Float32Array {
    if (layer === 1) {
      // The step's fused update does not keep the gradient; it is computed again from the step's ∂L/∂z
      // (this also leaves the kernel's ∂L/∂b of the step in place for readGrads).
      this.#kernel.weightGradient('batch');
      return pooledCopy(this.#kernel.weightGrad, pool);
    }
    const weight = this.#upper ? this.#upper.grads(layer).weightGrad : this.#upperGrads[layer - 2];
    if (!weight) throw new Error(`RecordingMlp.readWeightGrad: no gradients held for layer ${layer}`);
    return pooledCopy(weight, pool);
  }

  /** Current weights, after the last update. */
  snapshot(): { weights: Float32Array[]; biases: Float32Array[] } {
    const upperCount = this.#sizes.length - 2;
    const read = (tensor: tf.Tensor) => readInto(tensor, new Float32Array(tensor.size));
    const upper = this.#upper;
    if (upper) {
      const layers = Array.from({ length: upperCount }, (_, index) => index + 2);
      return {
        weights: [
          Float32Array.from(this.#kernel.weight),
          ...layers.map((layer) => Float32Array.from(upper.parameters(layer, 'current').weight)),
        ],
        biases: [
          Float32Array.from(this.#kernel.bias),
          ...layers.map((layer) => Float32Array.from(upper.parameters(layer, 'current').bias)),
        ],
      };
    }
    return {
      weights: [Float32Array.from(this.#kernel.weight), ...this.#parameters.slice(0, upperCount).map(read)],
      biases: [Float32Array.from(this.#kernel.bias), ...this.#parameters.slice(upperCount).map(read)],
    };
  }

  dispose(): void {
    tf.dispose([
      ...this.#parameters,
      ...this.#previous,
      ...this.#heldBiasGrads,
      this.#rowScale,
      ...(this.#batchMask ? [this.#batchMask] : []),
    ]);
    this.#optimizer.dispose();
  }
}
