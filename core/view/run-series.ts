/**
 * The questions the views ask of a run's loaded steps, answered from its decoded chunks: a step's
 * values, a neuron's or a layer's history, the class means behind the class view. Pure: chunks in,
 * typed arrays out; the viewer's RunData keeps the chunks and asks.
 */
import type { NullableValues } from '../format/decode.js';
import type { StepChunk } from '../format/reader.js';
import type { LayerScalarQuantity, NeuronQuantity } from '../format/quantities.js';
import type { TypedColumns } from '../format/typed-columns.js';
import type { InactiveRule } from '../nn/activation.js';
import { DISTRIBUTION_PERCENTILES, rowPercentiles } from './chart-series.js';

/** Where a step's row is: its chunk and the row in it. */
export function locateStep(chunks: readonly StepChunk[], step: number): { chunk: StepChunk; row: number } | undefined {
  for (const chunk of chunks) {
    if (step >= chunk.firstStep && step < chunk.firstStep + chunk.rows) return { chunk, row: step - chunk.firstStep };
  }
  return undefined;
}

/** The chunks holding any of the steps `first` … `last`, in order. */
export function chunksSpanning(chunks: readonly StepChunk[], first: number, last: number): StepChunk[] {
  return chunks.filter((chunk) => chunk.firstStep <= last && chunk.firstStep + chunk.rows > first);
}

export function loadedStepCount(chunks: readonly StepChunk[]): number {
  return chunks.reduce((total, chunk) => total + chunk.rows, 0);
}

/** A per-neuron quantity of dense layer `layer` (of `size` neurons) at `step`, or undefined while not loaded or not recorded. */
export function neuronValuesAt(
  chunks: readonly StepChunk[],
  step: number,
  layer: number,
  size: number,
  quantity: NeuronQuantity,
): Float32Array | undefined {
  const found = locateStep(chunks, step);
  return found?.chunk.values.get(quantity, layer)?.subarray(found.row * size, (found.row + 1) * size);
}

/** One neuron's values of a per-neuron quantity over every loaded step (NaN where not recorded). */
export function neuronHistory(
  chunks: readonly StepChunk[],
  layer: number,
  size: number,
  neuron: number,
  quantity: NeuronQuantity,
): Float32Array {
  const history = new Float32Array(loadedStepCount(chunks));
  let offset = 0;
  for (const chunk of chunks) {
    const values = chunk.values.get(quantity, layer);
    for (let row = 0; row < chunk.rows; row++) history[offset + row] = values ? values[row * size + neuron]! : Number.NaN;
    offset += chunk.rows;
  }
  return history;
}

/** A per-layer scalar (weight norm, gradient norm, update ratio) over every loaded step. */
export function layerHistory(chunks: readonly StepChunk[], layer: number, quantity: LayerScalarQuantity): Float32Array {
  const history = new Float32Array(loadedStepCount(chunks)).fill(Number.NaN);
  let offset = 0;
  for (const chunk of chunks) {
    const values = chunk.values.get(quantity, layer);
    if (values) history.set(values.subarray(0, chunk.rows), offset);
    offset += chunk.rows;
  }
  return history;
}

/**
 * Fraction of a hidden layer's neurons inactive, per loaded step, by the activation's rule: the
 * recorded `fractionInactive` (schemaVersion 4+); in older runs, for ReLU and leaky ReLU (rule
 * `silent`: fraction active 0) computed from `fractionActive`, else NaN (saturation needs every
 * sample's f(z), which older runs did not keep).
 */
export function inactiveHistory(chunks: readonly StepChunk[], layer: number, size: number, rule: InactiveRule): Float32Array {
  const history = new Float32Array(loadedStepCount(chunks)).fill(Number.NaN);
  let offset = 0;
  for (const chunk of chunks) {
    const recorded = chunk.values.get('fractionInactive', layer);
    const active = chunk.values.get('fractionActive', layer);
    if (recorded) history.set(recorded.subarray(0, chunk.rows), offset);
    else if (active && rule === 'silent') {
      for (let row = 0; row < chunk.rows; row++) {
        let inactive = 0;
        for (let neuron = 0; neuron < size; neuron++) if (active[row * size + neuron] === 0) inactive++;
        history[offset + row] = inactive / size;
      }
    } else if (rule === 'never') history.fill(0, offset, offset + chunk.rows);
    offset += chunk.rows;
  }
  return history;
}

/** Training loss of every loaded step, and held-out loss where it was evaluated. */
export function lossSeries(chunks: readonly StepChunk[]): { loss: Float32Array; evalLoss: { step: number; loss: number }[] } {
  const loss = new Float32Array(loadedStepCount(chunks));
  const evalLoss: { step: number; loss: number }[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    const values = chunk.values.get('loss');
    if (values) loss.set(values.subarray(0, chunk.rows), offset);
    const evaluated = chunk.values.get('evalLoss');
    for (let row = 0; evaluated && row < chunk.rows; row++)
      if (evaluated.valid[row]) evalLoss.push({ step: chunk.firstStep + row, loss: evaluated.values[row]! });
    offset += chunk.rows;
  }
  return { loss, evalLoss };
}

/** The columns of a chunk that a view may hold apart from it (the viewer's RowCache), or undefined while not held. */
export type HeldRows = (chunk: StepChunk) => TypedColumns<'steps'> | undefined;

/**
 * Mean activation per class of dense layer `layer`, [neuron × class], over the `window` steps up to
 * and including `step`: for each class the mean of its per-step means over the steps whose batch held
 * it (one batch holds a handful of samples of each class; a window steadies the picture). `valid[c]`
 * is 0 for a class no batch of the window held. Undefined while a chunk's rows are not held, or when
 * the run does not record class means (`recorded` false).
 */
export function classMeansOver(
  chunks: readonly StepChunk[],
  rowsOf: HeldRows,
  at: { step: number; layer: number; size: number; classes: number; window: number },
): { means: Float32Array; valid: Uint8Array; steps: number } | undefined {
  const { step, layer, size, classes, window } = at;
  const width = size * classes;
  const sums = new Float64Array(width);
  const counts = new Int32Array(width);
  let steps = 0;
  for (let back = 0; back < window && step - back >= 0; back++) {
    const found = locateStep(chunks, step - back);
    if (!found) continue;
    const recorded = rowsOf(found.chunk)?.get('classActivation', layer);
    if (!recorded) return undefined;
    steps++;
    const start = found.row * width;
    for (let item = 0; item < width; item++) {
      if (!recorded.valid[start + item]) continue;
      sums[item]! += recorded.values[start + item]!;
      counts[item]!++;
    }
  }
  if (steps === 0) return undefined;
  const means = new Float32Array(width);
  const valid = new Uint8Array(classes);
  for (let item = 0; item < width; item++) {
    if (counts[item]! === 0) continue;
    means[item] = sums[item]! / counts[item]!;
    valid[item % classes] = 1;
  }
  return { means, valid, steps };
}

/** Steps per block of the class-means summary the viewer keeps of every chunk (a record batch's 16). */
export const CLASS_BLOCK_STEPS = 16;

/**
 * A chunk's mean activation by class of one layer, summarised per block of CLASS_BLOCK_STEPS steps:
 * [block × neuron × class], each the mean over the block's steps whose batch held the class, NaN
 * where none did. A sixteenth of the rows, kept for every chunk for the class × time picture.
 */
export function classBlockMeans(recorded: NullableValues, rows: number, size: number, classes: number): Float32Array {
  const width = size * classes;
  const blocks = Math.ceil(rows / CLASS_BLOCK_STEPS);
  const out = new Float32Array(blocks * width);
  const sums = new Float64Array(width);
  const counts = new Int32Array(width);
  for (let block = 0; block < blocks; block++) {
    sums.fill(0);
    counts.fill(0);
    for (let row = block * CLASS_BLOCK_STEPS; row < Math.min(rows, (block + 1) * CLASS_BLOCK_STEPS); row++) {
      for (let item = 0; item < width; item++) {
        if (!recorded.valid[row * width + item]) continue;
        sums[item]! += recorded.values[row * width + item]!;
        counts[item]!++;
      }
    }
    for (let item = 0; item < width; item++) out[block * width + item] = counts[item]! > 0 ? sums[item]! / counts[item]! : Number.NaN;
  }
  return out;
}

/**
 * One neuron's mean activation by class over the run, [block × class] (blocks of CLASS_BLOCK_STEPS
 * steps, in order), from each chunk's block summary of its layer; undefined when a chunk has none.
 */
export function classHistory(
  blocksByChunk: readonly (Float32Array | undefined)[],
  size: number,
  classes: number,
  neuron: number,
): Float32Array | undefined {
  const width = size * classes;
  if (blocksByChunk.some((blocks) => !blocks)) return undefined;
  const blocks = blocksByChunk.reduce((total, chunk) => total + chunk!.length / width, 0);
  const history = new Float32Array(blocks * classes);
  let block = 0;
  for (const chunk of blocksByChunk) {
    for (let local = 0; local < chunk!.length / width; local++, block++)
      history.set(chunk!.subarray(local * width + neuron * classes, local * width + (neuron + 1) * classes), block * classes);
  }
  return history;
}

/** A per-step scalar of the run (training loss, batch accuracy) over every loaded step. */
export function scalarHistory(chunks: readonly StepChunk[], quantity: 'loss' | 'accuracy'): Float32Array {
  const history = new Float32Array(loadedStepCount(chunks)).fill(Number.NaN);
  let offset = 0;
  for (const chunk of chunks) {
    const values = chunk.values.get(quantity);
    if (values) history.set(values.subarray(0, chunk.rows), offset);
    offset += chunk.rows;
  }
  return history;
}

/** A held-out quantity over every loaded step: its value where the run evaluated, NaN between. */
export function evalHistory(chunks: readonly StepChunk[], quantity: 'evalLoss' | 'evalAccuracy'): Float32Array {
  const history = new Float32Array(loadedStepCount(chunks)).fill(Number.NaN);
  let offset = 0;
  for (const chunk of chunks) {
    const evaluated = chunk.values.get(quantity);
    for (let row = 0; evaluated && row < chunk.rows; row++) if (evaluated.valid[row]) history[offset + row] = evaluated.values[row]!;
    offset += chunk.rows;
  }
  return history;
}

/** Each chunk's percentile bands, per layer and quantity: computed once per decoded chunk. */
const chunkBands = new WeakMap<object, Map<string, Float32Array[]>>();

/**
 * The distribution over the neurons of dense layer `layer` of a per-neuron quantity, every loaded
 * step: exact percentiles (DISTRIBUTION_PERCENTILES), one array per percentile over the steps.
 */
export function distributionHistory(chunks: readonly StepChunk[], layer: number, size: number, quantity: NeuronQuantity): Float32Array[] {
  const bands = DISTRIBUTION_PERCENTILES.map(() => new Float32Array(loadedStepCount(chunks)).fill(Number.NaN));
  let offset = 0;
  for (const chunk of chunks) {
    let cached = chunkBands.get(chunk.values);
    if (!cached) chunkBands.set(chunk.values, (cached = new Map()));
    const key = `${layer}:${quantity}:${chunk.rows}`;
    let own = cached.get(key);
    const values = chunk.values.get(quantity, layer);
    if (!own && values) cached.set(key, (own = rowPercentiles(values, chunk.rows, size)));
    own?.forEach((band, index) => bands[index]!.set(band, offset));
    offset += chunk.rows;
  }
  return bands;
}

/** Each kept snapshot's weight percentiles, computed once. */
const snapshotBands = new WeakMap<Float32Array, Float32Array[]>();

/**
 * The distribution of a layer's weights at each of its kept snapshots (exact float32 matrices, not
 * the int8 link frames): the snapshots' steps, and one array per percentile over them.
 */
export function weightDistribution(snapshots: readonly { step: number; weight: Float32Array }[]): {
  steps: Float64Array;
  bands: Float32Array[];
} {
  const bands = DISTRIBUTION_PERCENTILES.map(() => new Float32Array(snapshots.length));
  snapshots.forEach(({ weight }, index) => {
    let own = snapshotBands.get(weight);
    if (!own) snapshotBands.set(weight, (own = rowPercentiles(weight, 1, weight.length)));
    own.forEach((band, percentile) => (bands[percentile]![index] = band[0]!));
  });
  return { steps: Float64Array.from(snapshots, (snapshot) => snapshot.step), bands };
}
