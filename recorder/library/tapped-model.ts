/**
 * A user's Dense chain run forward with taps, so that one training step of the user's own
 * TensorFlow.js model yields everything the recorder records, without a second pass:
 *
 * - Each Dense layer is one `tf.customGrad` operation, z = h·W + b, whose gradient function sees
 *   ∂L/∂z on its way down and keeps a copy: the per-neuron gradient of the user's own loss.
 * - The probe inputs ride along below the batch rows. The caller's loss sees the batch rows only; at
 *   the output layer the probe rows' ∂/∂z is set to each probe's own cross-entropy gradient (p − y),
 *   which then flows down through the layers. Each layer's ∂L/∂W and ∂L/∂b take the batch rows
 *   only, so the probes never touch the gradients the optimizer applies.
 * - Dropout drops batch rows only (the probes are seen as at inference).
 *
 * Everything read back is row-major [row × neuron] over the batch rows, then the probe rows — the
 * layout of the built-in recorder's RecordingMlp.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerGrads } from '../model.js';
import { activationOf } from '../activations.js';
import { readInto, type BufferPool } from '../readback.js';
import type { RecordedStep } from '../recording-model.js';
import type { StepSource } from '../session.js';
import type { LayerWeights } from '../writer/protocol.js';
import type { ModelSpec } from './model-spec.js';

function sumOfSquares(values: Float32Array): number {
  let sum = 0;
  for (let item = 0; item < values.length; item++) sum += values[item]! * values[item]!;
  return sum;
}

type DenseOp = (h: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

/** What one step keeps on the engine until the next step begins (the session may ask for any of it). */
interface StepTensors {
  x: tf.Tensor2D;
  /** Weights and biases before the step's update (clones share the variables' old values). */
  weights: tf.Tensor[];
  biases: tf.Tensor[];
  pre: tf.Tensor[];
  post: tf.Tensor[];
  /** ∂L/∂z per layer, all rows; filled by the gradient functions. */
  gradPre: (tf.Tensor | undefined)[];
  weightGrads: (tf.Tensor | undefined)[];
  biasGrads: (tf.Tensor | undefined)[];
  /** The probe rows' own ∂ℓ/∂z at the output, set by the forward pass. */
  probeGradOut?: tf.Tensor;
  forwarded: boolean;
}

export class TappedModel implements StepSource {
  readonly #spec: ModelSpec;
  readonly #batchSize: number;
  readonly #probeCount: number;
  readonly #probeX: tf.Tensor2D | undefined;
  readonly #probeTarget: tf.Tensor2D | undefined;
  /** [rows × 1]: 1 for batch rows, 0 for probe rows. */
  readonly #batchMask: tf.Tensor2D | undefined;
  readonly #dense: DenseOp[];
  readonly #dropoutSeed: number;
  /** False when the optimizer's gradients are not seen (model.fit's callbacks): ∂L/∂W, ∂L/∂b and ‖∂L/∂W‖ read as NaN. */
  readonly #gradients: boolean;
  #step: StepTensors | undefined;
  #stepNumber = 0;

  /**
   * @param options.batchSize rows of every batch; 0 when only the probes are run (`probePass`)
   * @param options.gradients false when the optimizer's gradients are not seen
   */
  constructor(
    spec: ModelSpec,
    options: { batchSize: number; probes: { inputs: Float32Array; labels: Uint8Array }; dropoutSeed: number; gradients?: boolean },
  ) {
    this.#spec = spec;
    this.#gradients = options.gradients ?? true;
    this.#batchSize = options.batchSize;
    this.#dropoutSeed = options.dropoutSeed;
    const probeCount = options.probes.labels.length;
    this.#probeCount = probeCount;
    if (probeCount > 0) {
      this.#probeX = tf.tensor2d(options.probes.inputs, [probeCount, spec.inputSize]);
      this.#probeTarget = tf.cast(
        tf.oneHot(tf.tensor1d(Int32Array.from(options.probes.labels), 'int32'), spec.classCount),
        'float32',
      ) as tf.Tensor2D;
      const rows = options.batchSize + probeCount;
      this.#batchMask = tf.tensor2d(
        Float32Array.from({ length: rows }, (_, row) => (row < options.batchSize ? 1 : 0)),
        [rows, 1],
      );
    }
    this.#dense = spec.layers.map((_, index) => this.#denseOp(index));
  }

  /** z = h·W + b as one operation whose gradient keeps ∂L/∂z and takes ∂L/∂W, ∂L/∂b from the batch rows only. */
  #denseOp(index: number): DenseOp {
    const last = index === this.#spec.layers.length - 1;
    // customGrad passes the inputs, then the save function, as one rest list.
    return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [h, weight, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
      save([h, weight]);
      return {
        value: tf.add(tf.matMul(h, weight), bias),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [input, kernel] = saved as [tf.Tensor2D, tf.Tensor2D];
          const step = this.#step!;
          let grad = dy as tf.Tensor2D;
          // The caller's loss saw the batch rows only: the probe rows take their own loss's gradient here.
          if (last && step.probeGradOut)
            grad = tf.concat([tf.slice(grad, [0, 0], [this.#batchSize, -1]), step.probeGradOut as tf.Tensor2D], 0);
          step.gradPre[index] = tf.keep(tf.clone(grad));
          let weightGrad: tf.Tensor;
          let biasGrad: tf.Tensor;
          if (this.#gradients) {
            const batchGrad = this.#batchMask ? tf.mul(grad, this.#batchMask) : grad;
            weightGrad = tf.matMul(tf.transpose(input), batchGrad);
            biasGrad = tf.sum(batchGrad, 0);
            step.weightGrads[index] = tf.keep(tf.clone(weightGrad));
            step.biasGrads[index] = tf.keep(tf.clone(biasGrad));
          } else {
            // The probes' own pass (callbacks): nothing is applied, no ∂L/∂W is needed.
            weightGrad = tf.zerosLike(kernel);
            biasGrad = tf.zeros([kernel.shape[1]]);
          }
          // The first layer's input needs no gradient.
          const inputGrad = index === 0 ? tf.zerosLike(input) : tf.matMul(grad, tf.transpose(kernel));
          return [inputGrad, weightGrad, biasGrad];
        },
      };
    }) as DenseOp;
  }

  /** Starts a step on a batch (batchSize samples of the model's input shape): keeps the weights it starts from. */
  begin(x: tf.Tensor): void {
    this.#disposeStep();
    const layers = this.#spec.layers;
    this.#step = {
      // A reshape shares the caller's values; disposing it later leaves the caller's tensor alone.
      x: tf.keep(tf.reshape(x, [this.#batchSize, this.#spec.inputSize])),
      weights: layers.map((layer) => tf.keep(tf.clone(layer.kernel.read()))),
      biases: layers.map((layer) => tf.keep(tf.clone(layer.bias.read()))),
      pre: [],
      post: [],
      gradPre: [],
      weightGrads: [],
      biasGrads: [],
      forwarded: false,
    };
  }

  /**
   * The model's output (softmax probabilities) for the batch rows, computed through the taps; call it
   * once per step, inside `optimizer.computeGradients`.
   */
  predict(): tf.Tensor2D {
    const step = this.#step;
    if (!step) throw new Error('predict: no step has begun');
    if (step.forwarded) throw new Error('predict: called twice in one step; call it once, inside optimizer.computeGradients');
    step.forwarded = true;
    const batch = this.#batchSize;
    const layers = this.#spec.layers;
    let h: tf.Tensor = this.#probeX ? tf.concat([step.x, this.#probeX], 0) : step.x;
    let output: tf.Tensor2D | undefined;
    layers.forEach((layer, index) => {
      const z = this.#dense[index]!(h, layer.kernel.read(), layer.bias.read());
      step.pre.push(tf.keep(z));
      if (layer.activation === 'softmax') {
        const probabilities = tf.softmax(z) as tf.Tensor2D;
        if (this.#probeTarget) {
          const probeRows = tf.slice(probabilities, [batch, 0], [this.#probeCount, -1]);
          step.probeGradOut = tf.keep(tf.sub(probeRows, this.#probeTarget));
          output = tf.slice(probabilities, [0, 0], [batch, -1]);
        } else output = probabilities;
        return;
      }
      const activation = activationOf(layer.activation, z);
      step.post.push(tf.keep(activation));
      h = layer.dropout > 0 ? tf.mul(activation, this.#dropoutMask(layer.units, layer.dropout, index)) : activation;
    });
    return output!;
  }

  /**
   * With no batch (model.fit's callbacks, `batchSize` 0): starts a step and runs the probes forward and
   * back, each with its own loss, on the weights before the step's update.
   */
  probePass(): void {
    const variables = this.#spec.layers.flatMap((layer) => [layer.kernel.read(), layer.bias.read()]) as tf.Variable[];
    const empty = tf.zeros([0, this.#spec.inputSize]);
    this.begin(empty);
    empty.dispose();
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(this.predict()) as tf.Scalar, variables);
      tf.dispose([value, ...Object.values(grads)]);
    });
  }

  /** Inverted dropout on the batch rows (kept units scaled by 1 / (1 − rate)); the probe rows pass unchanged. */
  #dropoutMask(units: number, rate: number, layer: number): tf.Tensor {
    const seed = this.#dropoutSeed + this.#stepNumber * 1009 + layer * 7919;
    const kept = tf.div(
      tf.cast(tf.greaterEqual(tf.randomUniform([this.#batchSize, units], 0, 1, 'float32', seed), rate), 'float32'),
      1 - rate,
    );
    return this.#probeCount > 0 ? tf.concat([kept, tf.ones([this.#probeCount, units])], 0) : kept;
  }

  /**
   * After the optimizer's update: reads the step back. `grads` (the gradients the optimizer applied,
   * by variable name) replace the tapped ∂L/∂W and ∂L/∂b where given, e.g. after clipping.
   */
  read(pool: BufferPool, grads?: tf.NamedTensorMap): RecordedStep {
    const step = this.#step;
    if (!step?.forwarded)
      throw new Error('the step was not run forward: call step.predict() or step.loss() inside optimizer.computeGradients');
    const layers = this.#spec.layers;
    if (step.gradPre.length < layers.length || step.gradPre.some((grad) => grad === undefined))
      throw new Error(
        'no gradient flowed back through step.predict(): compute the loss from step.predict() (or use step.loss()) inside optimizer.computeGradients',
      );
    if (grads) {
      layers.forEach((layer, index) => {
        const handed = [grads[layer.kernel.name], grads[layer.bias.name]];
        if (handed[0]) {
          step.weightGrads[index]!.dispose();
          step.weightGrads[index] = tf.keep(tf.clone(handed[0]));
        }
        if (handed[1]) {
          step.biasGrads[index]!.dispose();
          step.biasGrads[index] = tf.keep(tf.clone(handed[1]));
        }
      });
    }
    const read = (tensor: tf.Tensor) => readInto(tensor, pool.take(tensor.size));
    const count = layers.length;
    // The norms in JavaScript over copies of the weights: a copy costs microseconds on the wasm
    // backend, each engine operation tens of them.
    const weightNorms = new Float32Array(count);
    const gradNorms = new Float32Array(count).fill(Number.NaN);
    const updateNorms = new Float32Array(count);
    layers.forEach((layer, index) => {
      const before = readInto(step.weights[index]!, this.#scratch(0, index));
      const after = readInto(layer.kernel.read(), this.#scratch(1, index));
      let squares = 0;
      let deltaSquares = 0;
      for (let item = 0; item < before.length; item++) {
        const value = before[item]!;
        const delta = after[item]! - value;
        squares += value * value;
        deltaSquares += delta * delta;
      }
      weightNorms[index] = Math.sqrt(squares);
      updateNorms[index] = Math.sqrt(deltaSquares);
      if (this.#gradients) gradNorms[index] = Math.sqrt(sumOfSquares(readInto(step.weightGrads[index]!, this.#scratch(0, index))));
    });
    const meanInput = tf.tidy(() => tf.mean(step.x, 0));
    const result: RecordedStep = {
      preActivation: step.pre.map(read),
      activation: step.post.map(read),
      gradPreActivation: step.gradPre.map((grad) => read(grad!)),
      weightNorms,
      gradNorms,
      updateNorms,
      // No batch (callbacks): no mean input.
      meanInput: this.#batchSize > 0 ? read(meanInput) : pool.take(this.#spec.inputSize).fill(Number.NaN),
    };
    meanInput.dispose();
    this.#stepNumber++;
    return result;
  }

  /** Two scratch copies per layer of its weight matrix's size. */
  readonly #scratches: Float32Array[][] = [[], []];

  #scratch(which: 0 | 1, layer: number): Float32Array {
    const spec = this.#spec.layers[layer]!;
    return (this.#scratches[which]![layer] ??= new Float32Array(spec.fanIn * spec.units));
  }

  readGrads(layer: number, pool: BufferPool): LayerGrads {
    if (!this.#gradients)
      return { weightGrad: this.readWeightGrad(layer, pool), biasGrad: pool.take(this.#spec.layers[layer - 1]!.units).fill(Number.NaN) };
    const step = this.#held(layer);
    return {
      weightGrad: readInto(step.weightGrads[layer - 1]!, pool.take(step.weightGrads[layer - 1]!.size)),
      biasGrad: readInto(step.biasGrads[layer - 1]!, pool.take(step.biasGrads[layer - 1]!.size)),
    };
  }

  /** ∂L/∂W of the latest step (NaN where the gradients are not seen). */
  readWeightGrad(layer: number, pool: BufferPool): Float32Array {
    const spec = this.#spec.layers[layer - 1]!;
    if (!this.#gradients) return pool.take(spec.fanIn * spec.units).fill(Number.NaN);
    const grad = this.#held(layer).weightGrads[layer - 1]!;
    return readInto(grad, pool.take(grad.size));
  }

  previousWeights(pool: BufferPool, only?: ReadonlySet<number>): LayerWeights {
    const step = this.#step!;
    const wanted = (index: number) => !only || only.has(index + 1);
    const read = (tensor: tf.Tensor, index: number) => (wanted(index) ? readInto(tensor, pool.take(tensor.size)) : undefined);
    return { weights: step.weights.map(read), biases: step.biases.map(read) };
  }

  /** The model's weights now (after the latest update). */
  currentWeights(): { weights: Float32Array[]; biases: Float32Array[] } {
    return {
      weights: this.#spec.layers.map((layer) => Float32Array.from(layer.kernel.read().dataSync())),
      biases: this.#spec.layers.map((layer) => Float32Array.from(layer.bias.read().dataSync())),
    };
  }

  #held(layer: number): StepTensors {
    const step = this.#step;
    if (!step?.weightGrads[layer - 1]) throw new Error(`no gradients held for layer ${layer}`);
    return step;
  }

  #disposeStep(): void {
    const step = this.#step;
    if (!step) return;
    const tensors = [
      step.x,
      ...step.weights,
      ...step.biases,
      ...step.pre,
      ...step.post,
      ...step.gradPre,
      ...step.weightGrads,
      ...step.biasGrads,
    ];
    if (step.probeGradOut) tensors.push(step.probeGradOut);
    tf.dispose(tensors.filter((tensor): tensor is tf.Tensor => tensor !== undefined));
    this.#step = undefined;
  }

  dispose(): void {
    this.#disposeStep();
    tf.dispose([this.#probeX, this.#probeTarget, this.#batchMask].filter((tensor): tensor is tf.Tensor2D => tensor !== undefined));
  }
}
