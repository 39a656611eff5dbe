import { describe, expect, it } from 'vitest';
import {
  decimate,
  DISTRIBUTION_PERCENTILES,
  formatTick,
  formatValue,
  lastAtOrBefore,
  rowPercentiles,
  smoothEma,
  stepIndices,
} from '../core/view/chart-series.js';
import { summaryBlockSteps } from '../core/view/chunk-summary.js';

describe('smoothing (TensorBoard’s debiased EMA)', () => {
  it('is the raw series at weight 0 and debiased from the first point', () => {
    expect(Array.from(smoothEma([3, 1, 2], 0))).toEqual([3, 1, 2]);
    const smoothed = smoothEma([2, 4, 6], 0.5);
    // First point: not pulled towards 0. Then (0.5·last + 0.5·value) / (1 − 0.5ⁿ).
    expect(smoothed[0]).toBeCloseTo(2, 12);
    expect(smoothed[1]).toBeCloseTo((0.5 * 1 + 0.5 * 4) / 0.75, 12);
    expect(smoothed[2]).toBeCloseTo((0.5 * (0.5 * 1 + 0.5 * 4) + 0.5 * 6) / 0.875, 12);
  });

  it('leaves gaps and non-finite values where they are, out of the average, and keeps a constant constant', () => {
    const smoothed = smoothEma([1, Number.NaN, 3, Infinity], 0.6);
    expect(smoothed[1]).toBeNaN();
    expect(smoothed[3]).toBe(Infinity);
    expect(smoothed[2]).toBeCloseTo((0.6 * 0.4 + 0.4 * 3) / (1 - 0.36), 12);
    expect(Array.from(smoothEma([0.1, 0.1, 0.1], 0.9))).toEqual([0.1, 0.1, 0.1].map((value) => value));
  });
});

describe('tick and hover labels', () => {
  it('labels small and large values on a log axis exactly, never as 0 or 0,000', () => {
    expect([1e-4, 1e-5, 1e-6, 2.5e-6].map(formatTick)).toEqual(['1e-4', '1e-5', '1e-6', '2.5e-6']);
    expect([0, 0.5, 1, 10, 1000, 1e5, 3e7].map(formatTick)).toEqual(['0', '0.5', '1', '10', '1000', '1e+5', '3e+7']);
    expect(formatTick(-0.0002)).toBe('-2e-4');
  });

  it('shows a recorded value with six significant digits, a missing one as a dash', () => {
    expect(formatValue(2.302585)).toBe('2.30259');
    expect(formatValue(0.00012345678)).toBe('1.23457e-4');
    expect(formatValue(null)).toBe('–');
    expect(formatValue(Number.NaN)).toBe('–');
  });
});

describe('distributions over time', () => {
  it('gives exact percentiles of every row, linear between order statistics, as numpy does', () => {
    // Two steps of five neurons; the second row holds a NaN, left out.
    const values = Float32Array.from([5, 1, 4, 2, 3, 10, Number.NaN, 30, 20, 40]);
    const [low, quarter, median, top] = rowPercentiles(values, 2, 5, [0, 25, 50, 100]);
    expect(Array.from(low!)).toEqual([1, 10]);
    expect(Array.from(quarter!)).toEqual([2, 17.5]);
    expect(Array.from(median!)).toEqual([3, 25]);
    expect(Array.from(top!)).toEqual([5, 40]);
  });

  it('uses TensorBoard’s σ percentiles by default and gives NaN for a row with nothing finite', () => {
    expect(DISTRIBUTION_PERCENTILES).toHaveLength(9);
    const bands = rowPercentiles(Float32Array.from([Number.NaN, Number.NaN]), 1, 2);
    expect(bands).toHaveLength(9);
    expect(bands.every((band) => Number.isNaN(band[0]))).toBe(true);
  });
});

describe('what a chart draws of a long series', () => {
  it('draws every point while there are at most two a pixel column, gaps as null', () => {
    const drawn = decimate([0, 1, 2, 3], [[1, Number.NaN, -2, 4]], { first: 1, last: 3, columns: 2 });
    expect(Array.from(drawn.xs)).toEqual([1, 2, 3]);
    expect(drawn.series).toEqual([[null, -2, 4]]);
    // On a log axis 0 and negative values are gaps too.
    expect(decimate([0, 1], [[0, 5]], { first: 0, last: 1, columns: 4 }, (value) => value > 0).series).toEqual([[null, 5]]);
  });

  it('keeps each bucket’s least and greatest value in the order they came, so no spike is lost', () => {
    const length = 100_000;
    const values = Float32Array.from({ length }, (_, index) => Math.sin(index / 1000));
    values[54_321] = 50; // one spike
    values[12_345] = -50;
    const drawn = decimate(stepIndices(length), [values], { first: 0, last: length - 1, columns: 700 });
    expect(drawn.xs).toHaveLength(1400);
    const points = drawn.series[0]!;
    expect(Math.max(...points.map((value) => value ?? -Infinity))).toBe(50);
    expect(Math.min(...points.map((value) => value ?? Infinity))).toBe(-50);
    // Each bucket: its first and last x, and between them the extremes of the values it covers.
    for (let bucket = 0; bucket < 700; bucket++) {
      const from = drawn.xs[2 * bucket]!;
      const to = drawn.xs[2 * bucket + 1]!;
      const covered = Array.from(values.subarray(from, to + 1));
      const pair = [points[2 * bucket]!, points[2 * bucket + 1]!];
      expect([Math.min(...pair), Math.max(...pair)]).toEqual([Math.min(...covered), Math.max(...covered)]);
      const firstExtreme = covered.findIndex((value) => value === Math.min(...covered) || value === Math.max(...covered));
      expect(pair[0]).toBe(covered[firstExtreme]);
      if (bucket > 0) expect(from).toBe(drawn.xs[2 * bucket - 1]! + 1);
    }
    // A bucket with nothing finite is a gap.
    const gaps = decimate(stepIndices(10), [new Float32Array(10).fill(Number.NaN)], { first: 0, last: 9, columns: 2 });
    expect(gaps.series[0]).toEqual([null, null, null, null]);
  });

  it('finds the last x at or before a step', () => {
    expect([-1, 0, 4, 5, 99, 100].map((x) => lastAtOrBefore([0, 5, 10, 100], x))).toEqual([-1, 0, 0, 1, 2, 3]);
    expect(lastAtOrBefore([], 3)).toBe(-1);
  });
});

describe('how long a summary block of a neuron’s history is', () => {
  it('is one step for the default run, and for long runs a divisor of the chunk size near steps ÷ blocks', () => {
    expect(summaryBlockSteps(1563, 48)).toBe(1);
    expect(summaryBlockSteps(10_000, 48)).toBe(4);
    expect(summaryBlockSteps(100_000, 48)).toBe(48);
    expect(summaryBlockSteps(1_000_000, 48)).toBe(48);
    expect(summaryBlockSteps(704, 48, 64)).toBe(8);
    // The class means: at least 16 steps, and never across a chunk's end.
    expect(summaryBlockSteps(1563, 48, 2048, 16)).toBe(16);
    expect(summaryBlockSteps(1563, 20, 2048, 16)).toBe(10);
  });
});
