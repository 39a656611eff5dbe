/**
 * The questions the views ask of a run's loaded steps, answered from its decoded chunks: a step's
 * values, a neuron's or a layer's history, the class means behind the class view. Pure: chunks in,
 * typed arrays out; the viewer's RunData keeps the chunks and asks.
 */
import type { StepChunk } from '../format/reader.js';
import type { LayerScalarQuantity, NeuronQuantity } from '../format/quantities.js';
import type { TypedColumns } from '../format/typed-columns.js';
import type { InactiveRule } from '../nn/activation.js';
import { DISTRIBUTION_PERCENTILES, rowPercentiles } from './chart-series.js';
import type { SummaryOf } from './chunk-summary.js';

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

/**
 * A per-neuron quantity of dense layer `layer` (of `size` neurons) at `step`, from the rows held of its
 * chunk; undefined while not loaded or held, or not recorded.
 */
export function neuronValuesAt(
  chunks: readonly StepChunk[],
  rowsOf: HeldRows,
  at: { step: number; layer: number; size: number; quantity: NeuronQuantity },
): Float32Array | undefined {
  const found = locateStep(chunks, at.step);
  const values = found && rowsOf(found.chunk)?.get(at.quantity, at.layer);
  return values?.subarray(found!.row * at.size, (found!.row + 1) * at.size);
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
 * `silent`: fraction active 0) as the chunk's summary computed it from `fractionActive`, else NaN (saturation needs every
 * sample's f(z), which older runs did not keep).
 */
export function inactiveHistory(chunks: readonly StepChunk[], summaryOf: SummaryOf, layer: number, rule: InactiveRule): Float32Array {
  const history = new Float32Array(loadedStepCount(chunks)).fill(Number.NaN);
  let offset = 0;
  for (const chunk of chunks) {
    const recorded = chunk.values.get('fractionInactive', layer) ?? summaryOf(chunk)?.inactive.get(layer);
    if (recorded) history.set(recorded.subarray(0, chunk.rows), offset);
    else if (rule === 'never') history.fill(0, offset, offset + chunk.rows);
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

/**
 * One neuron's mean activation by class over the run, [block × class] (blocks of the chunk
 * summaries' `classBlockSteps`, in order), from each chunk's class blocks of its layer; undefined
 * when a chunk has none.
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
