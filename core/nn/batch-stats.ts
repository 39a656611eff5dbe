/**
 * What is recorded about a batch, computed from the engine's per-sample values: the loss and
 * accuracy from the output pre-activations (logits), and each neuron's mean activation, fraction
 * active, summed ∂L/∂z and mean activation per class. Arrays are row-major [sample × neuron].
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

/** Mean activation per class, [neuron × class], and which classes the batch held (1) or not (0). */
export interface ClassStats {
  classActivation: Float32Array;
  classValid: Uint8Array;
}

/** Float64 running sums of `neuronStats` (mean, active count, ∂L/∂z, probabilities), grown as needed. */
let sums = { mean: new Float64Array(0), active: new Float64Array(0), grad: new Float64Array(0), probabilities: new Float64Array(0) };
/** Float64 sums of f(z) per class, [class × neuron] (each sample adds to one contiguous row), and samples per class. */
let classSums = new Float64Array(0);
let classCounts = new Int32Array(0);

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
  byClass?: { labels: ArrayLike<number>; out: ClassStats },
): void {
  const neurons = out.meanActivation.length;
  if (sums.mean.length < neurons) {
    sums = Object.fromEntries(Object.keys(sums).map((key) => [key, new Float64Array(neurons)])) as typeof sums;
  }
  const { mean, active, grad, probabilities } = sums;
  mean.fill(0, 0, neurons);
  active.fill(0, 0, neurons);
  grad.fill(0, 0, neurons);
  const classes = byClass ? byClass.out.classValid.length : 0;
  if (classSums.length < classes * neurons) classSums = new Float64Array(classes * neurons);
  if (classCounts.length < classes) classCounts = new Int32Array(classes);
  classSums.fill(0, 0, classes * neurons);
  classCounts.fill(0, 0, classes);
  for (let row = 0; row < batchSize; row++) {
    const start = row * neurons;
    // This sample's row of per-class sums, when asked for.
    const classRow = byClass ? byClass.labels[row]! * neurons : -1;
    if (byClass) classCounts[byClass.labels[row]!]!++;
    if (activation && classRow >= 0) {
      // One pass over the row's three arrays, adding f(z) to the sample's class row as well.
      for (let j = 0; j < neurons; j++) {
        const value = activation[start + j]!;
        mean[j]! += value;
        classSums[classRow + j]! += value;
        if (isActive(preActivation[start + j]!)) active[j]!++;
        grad[j]! += gradPreActivation[start + j]!;
      }
      continue;
    }
    if (activation) {
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
      const probability = probabilities[j]! / total;
      mean[j]! += probability;
      grad[j]! += gradPreActivation[start + j]!;
      if (classRow >= 0) classSums[classRow + j]! += probability;
    }
    active[best]!++;
  }
  finishNeuronStats({ mean, active, grad, classSums, classCounts }, batchSize, out, byClass?.out);
}

/**
 * What `neuronStats` adds up over a batch, in float64: per neuron Σ of the mean's values, the count
 * of active samples, Σ ∂L/∂z; per class and neuron Σ f(z) ([class × neuron]); samples per class.
 */
export interface NeuronSums {
  mean: Float64Array;
  active: Float64Array;
  grad: Float64Array;
  classSums: Float64Array;
  classCounts: Int32Array;
}

/** The statistics from a batch's sums (neuronStats, or the writer's kernel that adds them up in the same order). */
export function finishNeuronStats(sums: NeuronSums, batchSize: number, out: NeuronStats, byClass?: ClassStats): void {
  const { mean, active, grad, classSums, classCounts } = sums;
  const neurons = out.meanActivation.length;
  for (let j = 0; j < neurons; j++) {
    out.meanActivation[j] = mean[j]! / batchSize;
    out.fractionActive[j] = active[j]! / batchSize;
    out.gradPreActivation[j] = grad[j]!;
  }
  if (!byClass) return;
  const { classActivation, classValid } = byClass;
  const classes = classValid.length;
  for (let c = 0; c < classes; c++) {
    const count = classCounts[c]!;
    classValid[c] = count > 0 ? 1 : 0;
    for (let j = 0; j < neurons; j++) classActivation[j * classes + c] = count > 0 ? classSums[c * neurons + j]! / count : 0;
  }
}
