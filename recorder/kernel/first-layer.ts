/**
 * The first-layer kernel: the MLP's first dense layer on compressed sparse input, its weight
 * gradient and its optimizer update, in WebAssembly SIMD (source: assembly/first-layer.ts).
 *
 * On MNIST 81% of the input pixels are exactly zero, and the first layer is most of a step's
 * arithmetic (784×128 of the default network's 109k weights). A dense engine multiplies every
 * zero; this kernel visits only the non-zero pixels of each sample. The rest of the network
 * trains in TensorFlow.js (recorder/recording-model.ts).
 *
 * The instance owns its module's memory: the compressed sample sets, uploaded once, the layer's
 * parameters, gradients and optimizer state, and the rows of the current step. The memory never
 * grows after construction, so the typed-array views below stay valid.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Optimizer } from '../../core/config.js';

/** Samples with only their non-zero pixels: sample i's are pixel[start[i] … start[i + 1]) with values value[…]. */
export interface CompressedSamples {
  count: number;
  inputSize: number;
  start: Int32Array;
  pixel: Int32Array;
  value: Float32Array;
}

/** Compresses `count` row-major samples of `inputSize` pixels, keeping the non-zero ones. */
export function compressSamples(images: Float32Array, inputSize: number): CompressedSamples {
  const count = images.length / inputSize;
  if (!Number.isInteger(count))
    throw new RangeError(`compressSamples: ${images.length} values is not a whole number of ${inputSize}-pixel samples`);
  let nonZero = 0;
  for (const value of images) if (value !== 0) nonZero++;
  const start = new Int32Array(count + 1);
  const pixel = new Int32Array(nonZero);
  const value = new Float32Array(nonZero);
  let at = 0;
  for (let sample = 0; sample < count; sample++) {
    start[sample] = at;
    const offset = sample * inputSize;
    for (let index = 0; index < inputSize; index++) {
      const x = images[offset + index]!;
      if (x !== 0) {
        pixel[at] = index;
        value[at++] = x;
      }
    }
  }
  start[count] = at;
  return { count, inputSize, start, pixel, value };
}

interface KernelExports {
  memory: WebAssembly.Memory;
  /** Bytes past a matrix's end that the dense products may read (assembly/dense.ts). */
  READ_SLACK: WebAssembly.Global;
  compressColumns(
    start: number,
    entries: number,
    rows: number,
    rowCount: number,
    inputSize: number,
    width: number,
    capacity: number,
    colCount: number,
    colEntries: number,
    colSum: number,
  ): void;
  columnForward(
    capacity: number,
    colCount: number,
    colEntries: number,
    inputSize: number,
    rowCount: number,
    weight: number,
    bias: number,
    width: number,
    out: number,
  ): void;
  columnWeightGradient(
    capacity: number,
    colCount: number,
    colEntries: number,
    inputSize: number,
    rowCount: number,
    grad: number,
    width: number,
    weightGrad: number,
    biasGrad: number,
  ): void;
  columnSums(colSum: number, inputSize: number, scale: number, out: number): void;
  sumOfSquares(values: number, length: number): number;
  setUpdate(
    kind: number,
    rate: number,
    momentum: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    rateOverCorrection1: number,
    correction2: number,
    epsilon: number,
  ): void;
  update(param: number, updated: number, grad: number, first: number, second: number, length: number, result: number): void;
  denseForward(x: number, rows: number, fanIn: number, weight: number, bias: number, fanOut: number, z: number): void;
  activate(kind: number, slope: number, z: number, out: number, count: number): void;
  denseGradInput(
    grad: number,
    rows: number,
    fanOut: number,
    weight: number,
    fanIn: number,
    pre: number,
    kind: number,
    slope: number,
    transposed: number,
    out: number,
  ): void;
  denseWeightGradient(
    activation: number,
    grad: number,
    rows: number,
    fanIn: number,
    fanOut: number,
    weightGrad: number,
    biasGrad: number,
  ): void;
  columnWeightGradientUpdate(
    capacity: number,
    colCount: number,
    colEntries: number,
    inputSize: number,
    rowCount: number,
    grad: number,
    width: number,
    rowGrad: number,
    biasGrad: number,
    param: number,
    updated: number,
    first: number,
    second: number,
    result: number,
  ): void;
}

let binary: Buffer | undefined;
let compiled: WebAssembly.Module | undefined;

/** The kernel module, compiled once per thread (recorder/kernel/first-layer.wasm). */
export function kernelModule(): WebAssembly.Module {
  binary ??= readFileSync(new URL('./first-layer.wasm', import.meta.url));
  compiled ??= new WebAssembly.Module(new Uint8Array(binary));
  return compiled;
}

/** Which kernel build ran, for the run's metadata: "wasm-simd sha256:<first 12 hex digits of the binary's hash>". */
export function kernelVersion(): string {
  binary ??= readFileSync(new URL('./first-layer.wasm', import.meta.url));
  return `wasm-simd sha256:${createHash('sha256').update(binary).digest('hex').slice(0, 12)}`;
}

/** Byte offsets handed out in 16-byte steps (SIMD alignment), from 16 so that no region starts at 0. */
class Layout {
  bytes = 16;
  take(bytes: number): number {
    const offset = this.bytes;
    this.bytes += Math.ceil(bytes / 16) * 16;
    return offset;
  }
}

interface SampleRegion {
  count: number;
  start: number;
  /** (pixel, value) pairs, sample after sample: one stream to read a sample from. */
  entries: number;
}

/** A selection of rows compressed by pixel (see compressColumns): what the products work on. */
interface RowGroup {
  maxRows: number;
  rowCount: number;
  /** Scratch for the selected sample numbers. */
  rows: Int32Array;
  rowsAt: number;
  /** [inputSize]: entries per pixel column. */
  colCount: number;
  /** Column p's entries from p × maxRows on: (row offset, value) pairs. */
  colEntries: number;
  /** [inputSize]: the sum of each column's values. */
  colSum: number;
}

const OPTIMIZER_KIND: Record<Optimizer, number> = { sgd: 0, momentum: 1, adam: 2 };

/** The scalars of one update (see `update` in assembly/first-layer.ts); the module rounds them to float32. */
export interface UpdateScalars {
  rate: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Adam's bias corrections 1 − β1ᵗ and 1 − β2ᵗ; 1 for the others. */
  correction1: number;
  correction2: number;
}

/** Σ of squares over one parameter array (before the update), its gradient and the update applied. */
export interface UpdateSums {
  paramSquares: number;
  gradSquares: number;
  deltaSquares: number;
}

export interface FirstLayerKernelOptions {
  inputSize: number;
  width: number;
  optimizer: Optimizer;
  weight: Float32Array;
  bias: Float32Array;
  /** The sample sets rows are selected from, by name. */
  sets: Record<string, CompressedSamples>;
  /** The row groups (e.g. the batch, the probes) and the most rows each holds. */
  groups: Record<string, number>;
  /** Named float arrays in the module's memory, by length, for `sumOfSquares`. */
  scratch?: Record<string, number>;
}

export class FirstLayerKernel {
  readonly inputSize: number;
  readonly width: number;
  /** ∂L/∂W and ∂L/∂b of the latest `weightGradient` (∂L/∂b also of `weightGradientAndUpdate`). */
  readonly weightGrad: Float32Array;
  readonly biasGrad: Float32Array;
  /** [Σ group rows × width]: z of the rows of the latest `forward` calls. */
  readonly output: Float32Array;
  /** [Σ group rows × width]: ∂L/∂z of rows, written by the caller before `weightGradient`. */
  readonly gradOutput: Float32Array;
  /** [inputSize]: the latest `columnMeans`. */
  readonly columnMean: Float32Array;

  readonly #exports: KernelExports;
  readonly #kind: number;
  readonly #sets = new Map<string, SampleRegion>();
  readonly #groups = new Map<string, RowGroup>();
  readonly #scratch = new Map<string, { at: number; view: Float32Array }>();
  readonly #result: Float64Array;
  readonly #at: Record<'weightGrad' | 'rowGrad' | 'biasGrad' | 'output' | 'gradOutput' | 'columnMean' | 'result', number> & {
    state: { first: number; second: number }[];
    /** Two copies of the parameters: the update writes the other one, so the ones before it stay readable. */
    parameters: { weight: number; bias: number }[];
  };
  readonly #parameters: { weight: Float32Array; bias: Float32Array }[];
  /** Which of the two parameter copies is current. */
  #current = 0;

  constructor(options: FirstLayerKernelOptions) {
    const { inputSize, width } = options;
    if (options.weight.length !== inputSize * width || options.bias.length !== width) {
      throw new RangeError(`FirstLayerKernel: expected ${inputSize}×${width} weights and ${width} biases`);
    }
    this.inputSize = inputSize;
    this.width = width;
    this.#kind = OPTIMIZER_KIND[options.optimizer];
    const layout = new Layout();
    const floats = (count: number) => layout.take(count * 4);
    const totalRows = Object.values(options.groups).reduce((sum, rows) => sum + rows, 0);
    const stateCount = options.optimizer === 'sgd' ? 0 : options.optimizer === 'momentum' ? 1 : 2;
    const at = {
      parameters: [0, 1].map(() => ({ weight: floats(inputSize * width), bias: floats(width) })),
      weightGrad: floats(inputSize * width),
      rowGrad: floats(width),
      biasGrad: floats(width),
      output: floats(totalRows * width),
      gradOutput: floats(totalRows * width),
      columnMean: floats(inputSize),
      result: layout.take(3 * 8),
      // Per parameter array (weight, bias): the optimizer's state; address 0 where it keeps none (never touched).
      state: [inputSize * width, width].map((length) => ({
        first: stateCount >= 1 ? floats(length) : 0,
        second: stateCount >= 2 ? floats(length) : 0,
      })),
    };
    const sets = Object.entries(options.sets).map(([name, samples]) => {
      if (samples.inputSize !== inputSize) {
        throw new RangeError(`FirstLayerKernel: sample set "${name}" has ${samples.inputSize} pixels, expected ${inputSize}`);
      }
      const region = {
        count: samples.count,
        start: floats(samples.start.length),
        entries: floats(2 * samples.pixel.length),
      };
      this.#sets.set(name, region);
      return { samples, region };
    });
    const groups = Object.entries(options.groups).map(([name, maxRows]) => {
      const group = {
        maxRows,
        rowsAt: floats(maxRows),
        colCount: floats(inputSize),
        colEntries: floats(inputSize * maxRows * 2),
        colSum: floats(inputSize),
      };
      return { name, group };
    });
    const scratch = Object.entries(options.scratch ?? {}).map(([name, length]) => ({ name, length, at: floats(length) }));
    const instance = new WebAssembly.Instance(kernelModule(), {});
    this.#exports = instance.exports as unknown as KernelExports;
    const memory = this.#exports.memory;
    layout.take(this.#exports.READ_SLACK.value as number);
    const pageBytes = 65536;
    const needed = Math.ceil(layout.bytes / pageBytes) - memory.buffer.byteLength / pageBytes;
    if (needed > 0) memory.grow(needed);
    const buffer = memory.buffer;
    const view = (offset: number, length: number) => new Float32Array(buffer, offset, length);
    this.#parameters = at.parameters.map(({ weight, bias }) => ({ weight: view(weight, inputSize * width), bias: view(bias, width) }));
    this.weightGrad = view(at.weightGrad, inputSize * width);
    this.biasGrad = view(at.biasGrad, width);
    this.output = view(at.output, totalRows * width);
    this.gradOutput = view(at.gradOutput, totalRows * width);
    this.columnMean = view(at.columnMean, inputSize);
    this.#result = new Float64Array(buffer, at.result, 3);
    this.#at = at;
    for (const parameters of this.#parameters) {
      parameters.weight.set(options.weight);
      parameters.bias.set(options.bias);
    }
    for (const { samples, region } of sets) {
      new Int32Array(buffer, region.start, samples.start.length).set(samples.start);
      const pixels = new Int32Array(buffer, region.entries, 2 * samples.pixel.length);
      const values = new Float32Array(buffer, region.entries, 2 * samples.value.length);
      for (let entry = 0; entry < samples.pixel.length; entry++) {
        pixels[2 * entry] = samples.pixel[entry]!;
        values[2 * entry + 1] = samples.value[entry]!;
      }
    }
    for (const { name, length, at } of scratch) this.#scratch.set(name, { at, view: view(at, length) });
    for (const { name, group } of groups) {
      this.#groups.set(name, { ...group, rowCount: 0, rows: new Int32Array(buffer, group.rowsAt, group.maxRows) });
    }
  }

  #group(name: string): RowGroup {
    const group = this.#groups.get(name);
    if (!group) throw new RangeError(`FirstLayerKernel: no row group "${name}"`);
    return group;
  }

  /** The scratch array `name`, in the module's memory. */
  scratch(name: string): Float32Array {
    const entry = this.#scratch.get(name);
    if (!entry) throw new RangeError(`FirstLayerKernel: no scratch array "${name}"`);
    return entry.view;
  }

  hasScratch(name: string): boolean {
    return this.#scratch.has(name);
  }

  /** `length` floats of the module's memory at `at` (a pointer from `scratchAt`, `outputAt` or `gradOutputAt`). */
  scratchView(at: number, length: number): Float32Array {
    return new Float32Array(this.#exports.memory.buffer, at, length);
  }

  /** Where the scratch array `name` is in the module's memory: a pointer for `dense`. */
  scratchAt(name: string): number {
    const entry = this.#scratch.get(name);
    if (!entry) throw new RangeError(`FirstLayerKernel: no scratch array "${name}"`);
    return entry.at;
  }

  /** The module's dense-layer functions (assembly/dense.ts), on pointers into its memory (`scratchAt`, `outputAt`, `gradOutputAt`). */
  get dense(): Pick<KernelExports, 'denseForward' | 'activate' | 'denseGradInput' | 'denseWeightGradient'> {
    return this.#exports;
  }

  /** Where `output` and `gradOutput` are in the module's memory. */
  get outputAt(): number {
    return this.#at.output;
  }

  get gradOutputAt(): number {
    return this.#at.gradOutput;
  }

  /**
   * One optimizer update (the first layer's own rule and order) of `length` values at `param` into
   * `updated`, with the gradient at `grad` and the optimizer's state at `first` and `second` (0
   * where it keeps none): for arrays of other layers kept in this module's memory.
   */
  updateAt(
    param: number,
    updated: number,
    grad: number,
    first: number,
    second: number,
    length: number,
    scalars: UpdateScalars,
  ): UpdateSums {
    this.#setUpdate(scalars);
    this.#exports.update(param, updated, grad, first, second, length, this.#at.result);
    return this.#sums();
  }

  /** Σ x² over the scratch array `name` (SIMD, float64 total). */
  sumOfSquares(name: string): number {
    const entry = this.#scratch.get(name);
    if (!entry) throw new RangeError(`FirstLayerKernel: no scratch array "${name}"`);
    return this.#exports.sumOfSquares(entry.at, entry.view.length);
  }

  /** Makes `samples` of `set` the rows of `group`, for the calls below. */
  select(group: string, set: string, samples: ArrayLike<number>): void {
    const rows = this.#group(group);
    const region = this.#sets.get(set);
    if (!region) throw new RangeError(`FirstLayerKernel: no sample set "${set}"`);
    if (samples.length > rows.maxRows)
      throw new RangeError(`FirstLayerKernel: ${samples.length} rows, row group "${group}" holds ${rows.maxRows}`);
    for (let index = 0; index < samples.length; index++) {
      const sample = samples[index]!;
      if (!(Number.isInteger(sample) && sample >= 0 && sample < region.count)) {
        throw new RangeError(`FirstLayerKernel: sample ${sample} is not in set "${set}" (${region.count} samples)`);
      }
      rows.rows[index] = sample;
    }
    rows.rowCount = samples.length;
    this.#exports.compressColumns(
      region.start,
      region.entries,
      rows.rowsAt,
      samples.length,
      this.inputSize,
      this.width,
      rows.maxRows,
      rows.colCount,
      rows.colEntries,
      rows.colSum,
    );
  }

  /** z = x·W + b of `group`'s rows into `output`, from row firstRow on. */
  forward(group: string, firstRow = 0): void {
    const rows = this.#group(group);
    const at = this.#at;
    if ((firstRow + rows.rowCount) * this.width > this.output.length)
      throw new RangeError(`FirstLayerKernel: rows past the end of the output`);
    this.#exports.columnForward(
      rows.maxRows,
      rows.colCount,
      rows.colEntries,
      this.inputSize,
      rows.rowCount,
      at.parameters[this.#current]!.weight,
      at.parameters[this.#current]!.bias,
      this.width,
      at.output + firstRow * this.width * 4,
    );
  }

  /** ∂L/∂W and ∂L/∂b into `weightGrad` and `biasGrad`, from `gradOutput`'s first rows (∂L/∂z of `group`'s rows, in order). */
  weightGradient(group: string): void {
    const rows = this.#group(group);
    const at = this.#at;
    this.#exports.columnWeightGradient(
      rows.maxRows,
      rows.colCount,
      rows.colEntries,
      this.inputSize,
      rows.rowCount,
      at.gradOutput,
      this.width,
      at.weightGrad,
      at.biasGrad,
    );
  }

  /** The mean input of `group`'s rows, into `columnMean`. */
  columnMeans(group: string): Float32Array {
    const rows = this.#group(group);
    this.#exports.columnSums(rows.colSum, this.inputSize, 1 / rows.rowCount, this.#at.columnMean);
    return this.columnMean;
  }

  #setUpdate(scalars: UpdateScalars): void {
    this.#exports.setUpdate(
      this.#kind,
      scalars.rate,
      scalars.momentum,
      scalars.beta1,
      // As the TensorFlow.js model computes them: in float64, then used as float32 scalars.
      Math.fround(1 - scalars.beta1),
      scalars.beta2,
      Math.fround(1 - scalars.beta2),
      scalars.rate / scalars.correction1,
      scalars.correction2,
      scalars.epsilon,
    );
  }

  #sums(): UpdateSums {
    const [paramSquares, gradSquares, deltaSquares] = this.#result;
    return { paramSquares: paramSquares!, gradSquares: gradSquares!, deltaSquares: deltaSquares! };
  }

  /** Applies the optimizer to the weights and the biases with the latest gradients (`weightGradient`). */
  update(scalars: UpdateScalars): { weight: UpdateSums; bias: UpdateSums } {
    const at = this.#at;
    const from = at.parameters[this.#current]!;
    const to = at.parameters[1 - this.#current]!;
    const [weight, bias] = at.state as [{ first: number; second: number }, { first: number; second: number }];
    const sums = {
      weight: this.updateAt(from.weight, to.weight, at.weightGrad, weight.first, weight.second, this.inputSize * this.width, scalars),
      bias: this.updateAt(from.bias, to.bias, at.biasGrad, bias.first, bias.second, this.width, scalars),
    };
    this.#current = 1 - this.#current;
    return sums;
  }

  /**
   * `weightGradient(group)` then `update(scalars)`, fused: each weight row is updated while its
   * gradient is in the cache, and `weightGrad` is not written (a 400 kB store a step for the
   * default network); `weightGradient(group)` gives it, to the same bits, while `gradOutput` and
   * the group's rows are unchanged.
   */
  weightGradientAndUpdate(group: string, scalars: UpdateScalars): { weight: UpdateSums; bias: UpdateSums } {
    const rows = this.#group(group);
    const at = this.#at;
    const from = at.parameters[this.#current]!;
    const to = at.parameters[1 - this.#current]!;
    this.#setUpdate(scalars);
    this.#exports.columnWeightGradientUpdate(
      rows.maxRows,
      rows.colCount,
      rows.colEntries,
      this.inputSize,
      rows.rowCount,
      at.gradOutput,
      this.width,
      at.rowGrad,
      at.biasGrad,
      from.weight,
      to.weight,
      at.state[0]!.first,
      at.state[0]!.second,
      at.result,
    );
    const weight = this.#sums();
    this.#exports.update(from.bias, to.bias, at.biasGrad, at.state[1]!.first, at.state[1]!.second, this.width, at.result);
    const bias = this.#sums();
    this.#current = 1 - this.#current;
    return { weight, bias };
  }

  /** [inputSize × width], the layer's weights; `weight[i * width + j]` connects input i to neuron j. */
  get weight(): Float32Array {
    return this.#parameters[this.#current]!.weight;
  }

  get bias(): Float32Array {
    return this.#parameters[this.#current]!.bias;
  }

  /** The weights and biases before the latest `update` (the initial ones before the first). */
  get previous(): { weight: Float32Array; bias: Float32Array } {
    return this.#parameters[1 - this.#current]!;
  }
}
