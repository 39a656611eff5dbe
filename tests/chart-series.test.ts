import { describe, expect, it } from 'vitest';
import { DISTRIBUTION_PERCENTILES, formatTick, formatValue, rowPercentiles, smoothEma } from '../core/view/chart-series.js';

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
