/**
 * A plain-TypeScript multilayer perceptron: forward and backward passes for one sample at a time,
 * summed in float64. The recorder computes nothing with it: the probe rows ride along in the
 * training pass on the training thread (recorder/recording-model.ts), and the held-out evaluation
 * runs batched on the writer thread (recorder/writer/evaluator.ts). It is the reference the tests
 * check those numbers against (tests/reference-observer.ts); `DenseLayer` is the weights' layout.
 */
import { ACTIVATION_FUNCTIONS, type Activation } from './activation.js';

/** One dense layer. `weight[i * fanOut + j]` connects input i to neuron j. */
export interface DenseLayer {
  fanIn: number;
  fanOut: number;
  weight: Float32Array;
  bias: Float32Array;
}

/** Per-sample values of one pass, one array per dense layer (index 0 = first hidden layer). */
export interface SampleTrace {
  /** z = W·a + b per layer. */
  preActivation: Float32Array[];
  /** f(z) per hidden layer; softmax probabilities for the output layer. */
  activation: Float32Array[];
  /** Float64 accumulators, reused between samples. */
  sums: Float64Array[];
}

export function createTrace(layers: readonly Pick<DenseLayer, 'fanOut'>[]): SampleTrace {
  return {
    preActivation: layers.map((layer) => new Float32Array(layer.fanOut)),
    activation: layers.map((layer) => new Float32Array(layer.fanOut)),
    sums: layers.map((layer) => new Float64Array(layer.fanOut)),
  };
}

/** Indices of the non-zero entries of an input (most MNIST pixels are exactly zero). */
export function nonZeroIndices(input: Float32Array): Int32Array {
  const indices: number[] = [];
  for (let i = 0; i < input.length; i++) if (input[i] !== 0) indices.push(i);
  return Int32Array.from(indices);
}

/** sums += scale × weight[rowStart … rowStart + sums.length). The hot loop of every pass. */
function accumulateRow(sums: Float64Array, weight: Float32Array, rowStart: number, scale: number): void {
  const length = sums.length;
  for (let j = 0; j < length; j++) sums[j] = sums[j]! + scale * weight[rowStart + j]!;
}

/** Forward pass of one sample, filling `trace`. `inputNonZero` lists the input's non-zero indices. */
export function forwardSample(
  layers: readonly DenseLayer[],
  hiddenActivation: Activation,
  input: Float32Array,
  inputNonZero: Int32Array,
  trace: SampleTrace,
): void {
  const last = layers.length - 1;
  for (let layerIndex = 0; layerIndex <= last; layerIndex++) {
    const { fanOut, weight, bias } = layers[layerIndex]!;
    const pre = trace.preActivation[layerIndex]!;
    const out = trace.activation[layerIndex]!;
    const sums = trace.sums[layerIndex]!;
    sums.set(bias);
    if (layerIndex === 0) {
      for (let k = 0; k < inputNonZero.length; k++) {
        const i = inputNonZero[k]!;
        accumulateRow(sums, weight, i * fanOut, input[i]!);
      }
    } else {
      const below = trace.activation[layerIndex - 1]!;
      for (let i = 0; i < below.length; i++) {
        const value = below[i]!;
        if (value !== 0) accumulateRow(sums, weight, i * fanOut, value);
      }
    }
    pre.set(sums);
    if (layerIndex === last) softmaxInto(sums, out);
    else for (let j = 0; j < fanOut; j++) out[j] = ACTIVATION_FUNCTIONS[hiddenActivation].forward(pre[j]!);
  }
}

function softmaxInto(logits: Float64Array, out: Float32Array): void {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) if (logits[j]! > max) max = logits[j]!;
  let total = 0;
  for (let j = 0; j < logits.length; j++) total += Math.exp(logits[j]! - max);
  for (let j = 0; j < logits.length; j++) out[j] = Math.exp(logits[j]! - max) / total;
}

/** Cross-entropy of one sample from its softmax output: −log p[label]. */
export function sampleLoss(trace: SampleTrace, label: number): number {
  const probabilities = trace.activation[trace.activation.length - 1]!;
  return -Math.log(probabilities[label]!);
}

/** Arg max of the output layer. */
export function predictedClass(trace: SampleTrace): number {
  const probabilities = trace.activation[trace.activation.length - 1]!;
  let best = 0;
  for (let j = 1; j < probabilities.length; j++) if (probabilities[j]! > probabilities[best]!) best = j;
  return best;
}

/**
 * Backward pass of one sample's own loss: fills `gradPreActivation[l][j]` = ∂ℓ/∂z_j of layer l,
 * for ℓ = −log softmax(z_out)[label]. Needs the trace of `forwardSample` on the same sample.
 */
export function backwardSample(
  layers: readonly DenseLayer[],
  hiddenActivation: Activation,
  trace: SampleTrace,
  label: number,
  gradPreActivation: Float32Array[],
): void {
  const last = layers.length - 1;
  const outGrad = gradPreActivation[last]!;
  outGrad.set(trace.activation[last]!);
  outGrad[label]! -= 1;
  for (let layerIndex = last; layerIndex > 0; layerIndex--) {
    const { fanIn, fanOut, weight } = layers[layerIndex]!;
    const above = gradPreActivation[layerIndex]!;
    const below = gradPreActivation[layerIndex - 1]!;
    const belowPre = trace.preActivation[layerIndex - 1]!;
    const belowPost = trace.activation[layerIndex - 1]!;
    for (let i = 0; i < fanIn; i++) {
      let total = 0;
      const rowStart = i * fanOut;
      for (let j = 0; j < fanOut; j++) total += weight[rowStart + j]! * above[j]!;
      below[i] = total * ACTIVATION_FUNCTIONS[hiddenActivation].derivative(belowPre[i]!, belowPost[i]!);
    }
  }
}
