/**
 * Each hidden neuron's batch statistics (core/nn/batch-stats.ts) for the writer thread, with the
 * sums added up in the kernel module (assembly/stats.ts), two neurons at a time in float64 and in
 * the same order as `neuronStats`: the same bits, in a third of the time.
 */
import { finishNeuronStats, type ClassStats, type NeuronStats } from '../../core/nn/batch-stats.js';
import { kernelModule } from './first-layer.js';

interface StatsExports {
  memory: WebAssembly.Memory;
  hiddenSums(pre: number, post: number, grad: number, labels: number, rows: number, neurons: number, classes: number, sums: number): void;
}

export class HiddenStatsKernel {
  readonly #exports: StatsExports;
  readonly #at: { pre: number; post: number; grad: number; labels: number; sums: number };
  readonly #maxRows: number;
  readonly #maxNeurons: number;
  readonly #classes: number;
  readonly #classCounts: Int32Array;

  /** For layers of up to `maxNeurons` neurons over batches of up to `maxRows` rows with `classes` classes. */
  constructor(maxRows: number, maxNeurons: number, classes: number) {
    this.#maxRows = maxRows;
    this.#maxNeurons = maxNeurons;
    this.#classes = classes;
    const floats = maxRows * maxNeurons * 4;
    // 16-byte aligned regions from 16 (0 stays unused).
    const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
    const pre = 16;
    const post = pre + align(floats);
    const grad = post + align(floats);
    const labels = grad + align(floats);
    const sums = labels + align(maxRows * 4);
    const end = sums + (3 + classes) * maxNeurons * 8;
    this.#exports = new WebAssembly.Instance(kernelModule(), {}).exports as unknown as StatsExports;
    const memory = this.#exports.memory;
    const needed = Math.ceil(end / 65536) - memory.buffer.byteLength / 65536;
    if (needed > 0) memory.grow(needed);
    this.#at = { pre, post, grad, labels, sums };
    this.#classCounts = new Int32Array(classes);
  }

  /**
   * `neuronStats(pre, post, grad, rows, out, { labels, out: byClass })` for a hidden layer: `pre` and
   * `grad` hold at least `rows` rows of the layer, `post` exactly its batch rows.
   */
  stats(
    pre: Float32Array,
    post: Float32Array,
    grad: Float32Array,
    rows: number,
    labels: ArrayLike<number>,
    out: NeuronStats,
    byClass: ClassStats,
  ): void {
    const neurons = out.meanActivation.length;
    const classes = this.#classes;
    if (rows > this.#maxRows || neurons > this.#maxNeurons || byClass.classValid.length !== classes)
      throw new RangeError(
        `HiddenStatsKernel: ${rows} rows of ${neurons} neurons and ${byClass.classValid.length} classes, made for ${this.#maxRows}, ${this.#maxNeurons}, ${classes}`,
      );
    const { buffer } = this.#exports.memory;
    const at = this.#at;
    const count = rows * neurons;
    new Float32Array(buffer, at.pre, count).set(pre.subarray(0, count));
    new Float32Array(buffer, at.post, count).set(post.subarray(0, count));
    new Float32Array(buffer, at.grad, count).set(grad.subarray(0, count));
    const rowLabels = new Int32Array(buffer, at.labels, rows);
    const classCounts = this.#classCounts;
    classCounts.fill(0);
    for (let row = 0; row < rows; row++) {
      const label = labels[row]!;
      if (!(label >= 0 && label < classes))
        throw new RangeError(`HiddenStatsKernel: row ${row} has label ${label}, expected 0 … ${classes - 1}`);
      classCounts[(rowLabels[row] = label)]!++;
    }
    this.#exports.hiddenSums(at.pre, at.post, at.grad, at.labels, rows, neurons, classes, at.sums);
    const sums = (index: number, length: number) => new Float64Array(buffer, at.sums + index * neurons * 8, length);
    finishNeuronStats(
      { mean: sums(0, neurons), active: sums(1, neurons), grad: sums(2, neurons), classSums: sums(3, classes * neurons), classCounts },
      rows,
      out,
      byClass,
    );
  }
}
