/**
 * What the viewer keeps of a step chunk once its per-neuron rows may be dropped: a long run's
 * per-neuron values (the default network's 2.4 kB a step, 240 MB over 100,000 steps) cannot all stay
 * in a page. Each chunk is summarised once, as it is decoded:
 *   - the percentile bands of each layer's per-neuron quantities, every step, exact (the dashboard's
 *     distributions over time);
 *   - each neuron's values in blocks of `blockSteps` steps, mean, min and max (the inspector's
 *     histories; every step exactly while a run is short enough, see `summaryBlockSteps`);
 *   - each neuron's mean activation by class in blocks (the class × time picture);
 *   - the fraction of a layer inactive where the run's format did not record it.
 * Pure: decoded columns in, typed arrays out.
 */
import type { NullableValues } from '../format/decode.js';
import { NEURON_QUANTITIES, type NeuronQuantity } from '../format/quantities.js';
import type { StepChunk } from '../format/reader.js';
import type { InactiveRule } from '../nn/activation.js';
import { rowPercentiles } from './chart-series.js';

/** Blocks a neuron's history holds at most over a run's planned steps: more than any chart is wide. */
export const HISTORY_BLOCKS = 2048;

/** Steps per block of the class-means summary, at least: one batch holds a handful of each class. */
export const CLASS_BLOCK_STEPS = 16;

/**
 * Steps per summary block: the largest divisor of the chunk size that is at most
 * max(`least`, plannedSteps / `blocks`), so that blocks line up with chunks (every chunk starts at a
 * multiple of the chunk size) and a run holds about `blocks` of them. 1 — every step kept — for the
 * default run (1,563 steps); 48 for a 100,000-step run of the default network (48-step chunks).
 */
export function summaryBlockSteps(plannedSteps: number, chunkSteps: number, blocks = HISTORY_BLOCKS, least = 1): number {
  const target = Math.max(least, Math.ceil(plannedSteps / blocks));
  let best = 1;
  for (let divisor = 1; divisor <= Math.min(target, chunkSteps); divisor++) if (chunkSteps % divisor === 0) best = divisor;
  return best;
}

/** One layer's per-neuron quantity over a chunk, [block × neuron]; with one step a block, the three are the recorded rows. */
export interface BlockSummary {
  mean: Float32Array;
  min: Float32Array;
  max: Float32Array;
}

/** What is kept of one chunk for every step (see the module's comment). Keys: `${layer}:${quantity}`. */
export interface ChunkSummary {
  rows: number;
  blockSteps: number;
  classBlockSteps: number;
  neurons: Map<string, BlockSummary>;
  /** Per dense layer (index 0 = layer 1): class means, [block × neuron × class]; undefined where not recorded. */
  classBlocks: (Float32Array | undefined)[];
  /** Fraction of each hidden layer inactive, by layer, where the chunk has no `fractionInactive` column and the rule can be read from `fractionActive`. */
  inactive: Map<number, Float32Array>;
}

export const summaryKey = (layer: number, quantity: NeuronQuantity) => `${layer}:${quantity}`;

/** What the summary needs to know of the run. */
export interface SummaryShape {
  /** Neurons per layer, the input first. */
  sizes: readonly number[];
  classes: number;
  blockSteps: number;
  classBlockSteps: number;
  inactiveRule: InactiveRule;
}

/**
 * Summarises a chunk; its percentile bands go into the run's `bands` (one array per step for the
 * whole run: the dashboard reads them without a copy).
 */
export function summarizeChunk(chunk: StepChunk, shape: SummaryShape, bands: StepSeries): ChunkSummary {
  const { sizes, classes, blockSteps, classBlockSteps } = shape;
  const summary: ChunkSummary = {
    rows: chunk.rows,
    blockSteps,
    classBlockSteps,
    neurons: new Map(),
    classBlocks: [],
    inactive: new Map(),
  };
  for (let layer = 1; layer < sizes.length; layer++) {
    const size = sizes[layer]!;
    for (const name of NEURON_QUANTITIES) {
      const values = chunk.values.get(name, layer);
      if (!values) continue;
      summary.neurons.set(summaryKey(layer, name), blockSummary(values, chunk.rows, size, blockSteps));
      if (name === 'fractionActive') continue;
      rowPercentiles(values, chunk.rows, size).forEach((band, index) =>
        bands.write(`${summaryKey(layer, name)}:${index}`, chunk.firstStep, band),
      );
    }
    const byClass = chunk.values.get('classActivation', layer);
    summary.classBlocks.push(byClass && classBlockMeans(byClass, chunk.rows, size, classes, classBlockSteps));
    const active = chunk.values.get('fractionActive', layer);
    if (!chunk.values.get('fractionInactive', layer) && active && shape.inactiveRule === 'silent' && layer < sizes.length - 1)
      summary.inactive.set(layer, silentFraction(active, chunk.rows, size));
  }
  return summary;
}

/** Mean, min and max of each neuron over each block of `blockSteps` rows of a [rows × size] matrix. */
export function blockSummary(values: Float32Array, rows: number, size: number, blockSteps: number): BlockSummary {
  if (blockSteps === 1) {
    const own = values.subarray(0, rows * size);
    return { mean: own, min: own, max: own };
  }
  const blocks = Math.ceil(rows / blockSteps);
  const mean = new Float32Array(blocks * size);
  const min = new Float32Array(blocks * size).fill(Number.POSITIVE_INFINITY);
  const max = new Float32Array(blocks * size).fill(Number.NEGATIVE_INFINITY);
  for (let block = 0; block < blocks; block++) {
    const first = block * blockSteps;
    const last = Math.min(rows, first + blockSteps);
    for (let neuron = 0; neuron < size; neuron++) {
      let sum = 0;
      let low = Number.POSITIVE_INFINITY;
      let high = Number.NEGATIVE_INFINITY;
      for (let row = first; row < last; row++) {
        const value = values[row * size + neuron]!;
        sum += value;
        if (value < low) low = value;
        if (value > high) high = value;
      }
      mean[block * size + neuron] = sum / (last - first);
      min[block * size + neuron] = low;
      max[block * size + neuron] = high;
    }
  }
  return { mean, min, max };
}

/**
 * A chunk's mean activation by class of one layer, summarised per block of `blockSteps` steps:
 * [block × neuron × class], each the mean over the block's steps whose batch held the class, NaN
 * where none did.
 */
export function classBlockMeans(
  recorded: NullableValues,
  rows: number,
  size: number,
  classes: number,
  blockSteps = CLASS_BLOCK_STEPS,
): Float32Array {
  const width = size * classes;
  const blocks = Math.ceil(rows / blockSteps);
  const out = new Float32Array(blocks * width);
  const sums = new Float64Array(width);
  const counts = new Int32Array(width);
  for (let block = 0; block < blocks; block++) {
    sums.fill(0);
    counts.fill(0);
    for (let row = block * blockSteps; row < Math.min(rows, (block + 1) * blockSteps); row++) {
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

/** Fraction of each row's neurons active on no sample of the batch (ReLU's rule, from `fractionActive`). */
function silentFraction(active: Float32Array, rows: number, size: number): Float32Array {
  const out = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let inactive = 0;
    for (let neuron = 0; neuron < size; neuron++) if (active[row * size + neuron] === 0) inactive++;
    out[row] = inactive / size;
  }
  return out;
}

/** One neuron's history, one value per loaded step: each step's block mean, min and max (the same array thrice with one step a block). */
export interface NeuronHistory {
  blockSteps: number;
  mean: Float32Array;
  min: Float32Array;
  max: Float32Array;
}

/** The summary the viewer keeps of a chunk, if it has one. */
export type SummaryOf = (chunk: StepChunk) => ChunkSummary | undefined;

/**
 * One neuron's history of a per-neuron quantity over every loaded step, from the chunks' summaries
 * (NaN where a chunk has none: not recorded, or not summarised yet).
 */
export function neuronHistory(
  chunks: readonly StepChunk[],
  summaryOf: SummaryOf,
  at: { layer: number; size: number; neuron: number; quantity: NeuronQuantity },
): NeuronHistory {
  const { layer, size, neuron, quantity } = at;
  const steps = chunks.reduce((total, chunk) => total + chunk.rows, 0);
  const blockSteps = chunks.map(summaryOf).find((summary) => summary)?.blockSteps ?? 1;
  const mean = new Float32Array(steps).fill(Number.NaN);
  const min = blockSteps === 1 ? mean : new Float32Array(steps).fill(Number.NaN);
  const max = blockSteps === 1 ? mean : new Float32Array(steps).fill(Number.NaN);
  let offset = 0;
  for (const chunk of chunks) {
    const summary = summaryOf(chunk);
    const own = summary?.neurons.get(summaryKey(layer, quantity));
    for (let row = 0; own && row < Math.min(chunk.rows, summary!.rows); row++) {
      const index = Math.floor(row / summary!.blockSteps) * size + neuron;
      mean[offset + row] = own.mean[index]!;
      if (blockSteps !== 1) {
        min[offset + row] = own.min[index]!;
        max[offset + row] = own.max[index]!;
      }
    }
    offset += chunk.rows;
  }
  return { blockSteps, mean, min, max };
}

/**
 * Float32 series over a run's steps, by key, growing as chunks arrive (NaN where none arrived): the
 * views read them as they are, without a copy. A chunk read again writes its steps again.
 */
export class StepSeries {
  readonly #arrays = new Map<string, Float32Array>();

  write(key: string, firstStep: number, values: Float32Array): void {
    let array = this.#arrays.get(key);
    const end = firstStep + values.length;
    if (!array || array.length < end) {
      const grown = new Float32Array(Math.max(end, 2 * (array?.length ?? 0), 1024)).fill(Number.NaN);
      if (array) grown.set(array);
      this.#arrays.set(key, (array = grown));
    }
    array.set(values, firstStep);
  }

  /** Steps 0 … steps − 1 of a series (NaN where nothing was written), or undefined when none was. */
  read(key: string, steps: number): Float32Array | undefined {
    const array = this.#arrays.get(key);
    if (!array) return undefined;
    if (array.length >= steps) return array.subarray(0, steps);
    const longer = new Float32Array(steps).fill(Number.NaN);
    longer.set(array);
    return longer;
  }
}

/** Percentile bands over the neurons of a layer, every one of `steps` steps (NaN where none was summarised). */
export function distributionHistory(
  bands: StepSeries,
  steps: number,
  layer: number,
  quantity: NeuronQuantity,
  percentiles: number,
): Float32Array[] {
  return Array.from(
    { length: percentiles },
    (_, index) => bands.read(`${summaryKey(layer, quantity)}:${index}`, steps) ?? new Float32Array(steps).fill(Number.NaN),
  );
}
