/**
 * What is recorded about a batch, computed from the engine's per-sample values: the loss and
 * accuracy from the output pre-activations (logits), and each neuron's mean activation, fraction
 * active and summed ∂L/∂z. Arrays are row-major [sample × neuron].
 */
import { isActive } from './activation.js';

/** One row of logits: its arg max (a NaN wins, so that a broken row shows), max and Σ exp(z − max), in float64. */
function rowSoftmax(logits: Float32Array, start: number, classes: number): { max: number; best: number; total: number } {
  let max = -Infinity;
  let best = 0;
  for (let j = 0; j < classes; j++) {
    const value = logits[start + j]!;
    if (value > max || Number.isNaN(value)) {
      max = value;
      best = j;
    }
  }
  let total = 0;
  for (let j = 0; j < classes; j++) total += Math.exp(logits[start + j]! - max);
  return { max, best, total };
}

/** Mean cross-entropy (stable log-sum-exp in float64) and accuracy of a batch from its logits. */
export function batchLossAccuracy(logits: Float32Array, labels: ArrayLike<number>, classes: number): { loss: number; accuracy: number } {
  let totalLoss = 0;
  let correct = 0;
  for (let row = 0; row < labels.length; row++) {
    const start = row * classes;
    const { max, best, total } = rowSoftmax(logits, start, classes);
    totalLoss += Math.log(total) + max - logits[start + labels[row]!]!;
    if (best === labels[row]) correct++;
  }
  return { loss: totalLoss / labels.length, accuracy: correct / labels.length };
}

/** Per row of logits [row × class]: softmax probabilities, cross-entropy with the row's label (float64 log-sum-exp) and the predicted class. */
export function softmaxRows(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): { probabilities: Float32Array; loss: Float32Array; predicted: Uint8Array } {
  const rows = labels.length;
  const probabilities = new Float32Array(rows * classes);
  const loss = new Float32Array(rows);
  const predicted = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) {
    const start = row * classes;
    const { max, best, total } = rowSoftmax(logits, start, classes);
    for (let j = 0; j < classes; j++) probabilities[start + j] = Math.exp(logits[start + j]! - max) / total;
    loss[row] = Math.log(total) + max - logits[start + labels[row]!]!;
    predicted[row] = best;
  }
  return { probabilities, loss, predicted };
}

export interface NeuronStats {
  meanActivation: Float32Array;
  fractionActive: Float32Array;
  gradPreActivation: Float32Array;
}

/** Float64 running sums of `neuronStats` (mean, active count, ∂L/∂z, probabilities), grown as needed. */
let sums = { mean: new Float64Array(0), active: new Float64Array(0), grad: new Float64Array(0), probabilities: new Float64Array(0) };

/**
 * Per-neuron statistics of one layer over a batch, into `out`. Hidden layers: mean of f(z) (the
 * engine's `activation` values), fraction with z > 0. Output layer (`activation` undefined):
 * mean softmax probability, fraction of samples predicted as the class.
 */
export function neuronStats(
  preActivation: Float32Array,
  activation: Float32Array | undefined,
  gradPreActivation: Float32Array,
  batchSize: number,
  out: NeuronStats,
): void {
  const neurons = out.meanActivation.length;
  if (sums.mean.length < neurons) {
    sums = Object.fromEntries(Object.keys(sums).map((key) => [key, new Float64Array(neurons)])) as typeof sums;
  }
  const { mean, active, grad, probabilities } = sums;
  mean.fill(0, 0, neurons);
  active.fill(0, 0, neurons);
  grad.fill(0, 0, neurons);
  for (let row = 0; row < batchSize; row++) {
    const start = row * neurons;
    if (activation) {
      // One pass over the row's three arrays.
      for (let j = 0; j < neurons; j++) {
        mean[j]! += activation[start + j]!;
        if (isActive(preActivation[start + j]!)) active[j]!++;
        grad[j]! += gradPreActivation[start + j]!;
      }
      continue;
    }
    let max = -Infinity;
    let best = 0;
    for (let j = 0; j < neurons; j++) {
      if (preActivation[start + j]! > max) {
        max = preActivation[start + j]!;
        best = j;
      }
    }
    let total = 0;
    for (let j = 0; j < neurons; j++) total += probabilities[j] = Math.exp(preActivation[start + j]! - max);
    for (let j = 0; j < neurons; j++) {
      mean[j]! += probabilities[j]! / total;
      grad[j]! += gradPreActivation[start + j]!;
    }
    active[best]!++;
  }
  for (let j = 0; j < neurons; j++) {
    out.meanActivation[j] = mean[j]! / batchSize;
    out.fractionActive[j] = active[j]! / batchSize;
    out.gradPreActivation[j] = grad[j]!;
  }
}
