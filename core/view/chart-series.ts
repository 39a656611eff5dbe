/**
 * What the dashboard's charts draw, computed from recorded values: TensorBoard's smoothing, tick
 * labels that stay exact at any magnitude, and the percentile bands of a distribution over time.
 * Pure: arrays in, arrays out.
 */

/**
 * Smoothing as TensorBoard does it: an exponential moving average debiased for its start (so the
 * first points are not pulled towards 0), `weight` 0 = raw, 0.99 = heavy. Non-finite values stay as
 * they are and do not enter the average; a run of constant values stays exactly constant.
 */
export function smoothEma(values: ArrayLike<number>, weight: number): Float64Array {
  const smoothed = new Float64Array(values.length);
  let last = 0;
  let accumulated = 0;
  const allEqual = Array.prototype.every.call(values, (value: number) => value === values[0]);
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (!Number.isFinite(value) || weight <= 0 || allEqual) {
      smoothed[index] = value;
      continue;
    }
    last = last * weight + (1 - weight) * value;
    accumulated++;
    smoothed[index] = last / (1 - weight ** accumulated);
  }
  return smoothed;
}

/**
 * A tick or hover label: plain decimals between 0.001 and 10,000, exponents outside (`1e-4`,
 * `2.5e-6`, `3e+5`), never a small value rounded to "0" nor a large one to "0,000".
 */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e4) return String(Number(value.toPrecision(4)));
  const [mantissa, exponent] = value.toExponential(3).split('e');
  return `${Number(mantissa)}e${exponent}`;
}

/** A recorded value on hover: enough digits to tell float32 values apart. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude >= 1e-3 && magnitude < 1e5 ? String(Number(value.toPrecision(6))) : value.toExponential(5);
}

/**
 * The percentiles a distribution over time is drawn with: TensorBoard's basis points (the normal
 * distribution's 0, ±1, ±2 and ±3 σ points and the extremes), so the bands read as σ bands.
 */
export const DISTRIBUTION_PERCENTILES = [0, 6.68, 15.87, 30.85, 50, 69.15, 84.13, 93.32, 100] as const;

/**
 * Percentiles of each row of a [rows × width] matrix (one row a step, one column a neuron or a
 * weight), exact — every value sorted, none sampled — linear between order statistics (numpy's
 * default). Non-finite values are left out; a row with none finite gives NaN. Result: one array per
 * percentile, one value per row.
 */
export function rowPercentiles(
  values: Float32Array,
  rows: number,
  width: number,
  percentiles: readonly number[] = DISTRIBUTION_PERCENTILES,
): Float32Array[] {
  const out = percentiles.map(() => new Float32Array(rows));
  const sorted = new Float32Array(width);
  for (let row = 0; row < rows; row++) {
    let finite = 0;
    for (let column = 0; column < width; column++) {
      const value = values[row * width + column]!;
      if (Number.isFinite(value)) sorted[finite++] = value;
    }
    const part = sorted.subarray(0, finite).sort();
    percentiles.forEach((percentile, index) => {
      if (finite === 0) {
        out[index]![row] = Number.NaN;
        return;
      }
      const position = (percentile / 100) * (finite - 1);
      const below = Math.floor(position);
      const above = Math.min(finite - 1, below + 1);
      out[index]![row] = part[below]! + (part[above]! - part[below]!) * (position - below);
    });
  }
  return out;
}

/** The customary healthy size of an update relative to its weights (‖ΔW‖/‖W‖ ≈ 1e-3; Karpathy's rule of thumb). */
export const UPDATE_RATIO_GUIDE = 1e-3;

/** Aligned series as a chart draws them: x values and one array per series, null where nothing is drawn. */
export interface DrawnSeries {
  xs: Float64Array;
  series: (number | null)[][];
}

/**
 * The points a chart draws of aligned series over the x indices `first` … `last`: every point while
 * they are at most two per pixel column; beyond, each of `columns` buckets gives each series its
 * least and greatest value, in the order they came, at the bucket's first and last x — what a line
 * one pixel wide shows of them anyway, so a 100,000-step series costs a chart 2 × `columns` points.
 * Values `drawn` refuses (non-finite; ≤ 0 on a log axis) are gaps.
 */
export function decimate(
  xs: ArrayLike<number>,
  series: readonly ArrayLike<number>[],
  range: { first: number; last: number; columns: number },
  drawn: (value: number) => boolean = Number.isFinite,
): DrawnSeries {
  const { first, last } = range;
  const columns = Math.max(1, Math.floor(range.columns));
  const count = last - first + 1;
  if (count <= 0) return { xs: new Float64Array(0), series: series.map(() => []) };
  if (count <= 2 * columns) {
    return {
      xs: Float64Array.from({ length: count }, (_, index) => xs[first + index]!),
      series: series.map((values) =>
        Array.from({ length: count }, (_, index) => {
          const value = values[first + index]!;
          return drawn(value) ? value : null;
        }),
      ),
    };
  }
  const outXs = new Float64Array(2 * columns);
  const out = series.map(() => new Array<number | null>(2 * columns).fill(null));
  for (let bucket = 0; bucket < columns; bucket++) {
    const from = first + Math.floor((bucket * count) / columns);
    const to = first + Math.floor(((bucket + 1) * count) / columns) - 1;
    outXs[2 * bucket] = xs[from]!;
    outXs[2 * bucket + 1] = xs[to]!;
    series.forEach((values, index) => {
      let low = Number.POSITIVE_INFINITY;
      let high = Number.NEGATIVE_INFINITY;
      let lowAt = -1;
      let highAt = -1;
      for (let at = from; at <= to; at++) {
        const value = values[at]!;
        if (!drawn(value)) continue;
        if (value < low) [low, lowAt] = [value, at];
        if (value > high) [high, highAt] = [value, at];
      }
      if (lowAt < 0) return;
      out[index]![2 * bucket] = lowAt <= highAt ? low : high;
      out[index]![2 * bucket + 1] = lowAt <= highAt ? high : low;
    });
  }
  return { xs: outXs, series: out };
}

/** The index of the last x at or before `x` in ascending `xs`, or -1. */
export function lastAtOrBefore(xs: ArrayLike<number>, x: number): number {
  let low = 0;
  let high = xs.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (xs[middle]! <= x) [found, low] = [middle, middle + 1];
    else high = middle - 1;
  }
  return found;
}

/** Steps 0 … length − 1, one array shared by every chart (a 100,000-step run's is 800 kB): read only. */
let indices = new Float64Array(0);
export function stepIndices(length: number): Float64Array {
  if (indices.length < length) indices = Float64Array.from({ length: Math.max(length, 2 * indices.length) }, (_, index) => index);
  return indices.subarray(0, length);
}
