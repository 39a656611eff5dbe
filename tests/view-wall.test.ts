/** The receptive-field wall's order and geometry (core/view/receptive-fields.ts). */
import { describe, expect, it } from 'vitest';
import { wallGeometry, wallNeuronAt, wallOrder, weightChange } from '../core/view/receptive-fields.js';

describe('the receptive-field wall', () => {
  it('orders neurons by index, or by a value largest first with the unknown last', () => {
    expect(wallOrder(4, 'index', Float32Array.of(3, 9, 1, 5))).toEqual([0, 1, 2, 3]);
    expect(wallOrder(4, 'activity', Float32Array.of(3, 9, 1, 5))).toEqual([1, 3, 0, 2]);
    expect(wallOrder(4, 'selectivity', Float32Array.of(Number.NaN, 0.5, 0.5, 0.9))).toEqual([3, 1, 2, 0]);
    // Values not loaded yet: the index order.
    expect(wallOrder(3, 'selectivity', undefined)).toEqual([0, 1, 2]);
  });

  it('finds the neuron of the tile under a point, and nothing in the gaps', () => {
    const geometry = wallGeometry(600, 28, 28, 128);
    expect(geometry.columns * (geometry.tileWidth + geometry.gap)).toBeLessThanOrEqual(600 + geometry.gap);
    const order = wallOrder(
      128,
      'activity',
      Float32Array.from({ length: 128 }, (_, neuron) => neuron),
    );
    // Tile 0 holds the most active neuron (127); the tile right of it, 126; the first of the second row…
    expect(wallNeuronAt(geometry, order, 1, 1)).toBe(127);
    expect(wallNeuronAt(geometry, order, geometry.tileWidth + geometry.gap + 1, 1)).toBe(126);
    expect(wallNeuronAt(geometry, order, 1, geometry.tileHeight + geometry.gap + 1)).toBe(127 - geometry.columns);
    expect(wallNeuronAt(geometry, order, geometry.tileWidth + 0.5, 1)).toBeUndefined();
    expect(wallNeuronAt(geometry, order, -1, 1)).toBeUndefined();
  });

  it('shows what training changed: W − W₀ value by value, NaN where either is not finite, nothing without both', () => {
    expect(weightChange(Float32Array.of(1, 0.5, Number.NaN, Infinity), Float32Array.of(0.25, 0.5, 1, 2))).toEqual(
      Float32Array.of(0.75, 0, Number.NaN, Number.NaN),
    );
    expect(weightChange(Float32Array.of(1), undefined)).toBeUndefined();
    expect(weightChange(undefined, Float32Array.of(1))).toBeUndefined();
    expect(weightChange(Float32Array.of(1, 2), Float32Array.of(1))).toBeUndefined();
  });
});
