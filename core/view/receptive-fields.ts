/**
 * The receptive-field wall: every first-layer neuron's incoming weights (or their gradients) as a
 * small image in the input's shape, in a grid. Pure: the order of the tiles, where each tile sits, and
 * which neuron a point falls on; the viewer paints the tiles (ReceptiveFields.svelte).
 */

export const WALL_ORDERS = ['index', 'activity', 'selectivity'] as const;
export type WallOrder = (typeof WALL_ORDERS)[number];

/**
 * Neurons in wall order: by index, or by a value per neuron, largest first (most active, most
 * selective); neurons without a value (NaN, not loaded) go last, by index.
 */
export function wallOrder(neurons: number, order: WallOrder, values: ArrayLike<number> | undefined): number[] {
  const indices = Array.from({ length: neurons }, (_, neuron) => neuron);
  if (order === 'index' || !values) return indices;
  const key = (neuron: number) => {
    const value = values[neuron];
    return value === undefined || Number.isNaN(value) ? -Infinity : value;
  };
  return indices.sort((a, b) => key(b) - key(a) || a - b);
}

export interface WallGeometry {
  columns: number;
  /** Pixels per input value; a tile is `cell × inputColumns` wide. */
  cell: number;
  tileWidth: number;
  tileHeight: number;
  gap: number;
}

/** Tiles of `rows × columns` input values, as many per row as fit in `width`, each value at least 1 px. */
export function wallGeometry(width: number, rows: number, columns: number, neurons: number): WallGeometry {
  const gap = 2;
  // Large enough to read a digit's strokes, small enough that 128 neurons fit in a few rows.
  const cell = Math.max(1, Math.min(3, Math.floor((width / Math.ceil(Math.sqrt(neurons * 2)) - gap) / columns)));
  const tileWidth = cell * columns;
  const tileHeight = cell * rows;
  return { columns: Math.max(1, Math.floor((width + gap) / (tileWidth + gap))), cell, tileWidth, tileHeight, gap };
}

/** The neuron whose tile holds the point, given the wall's order. */
export function wallNeuronAt(geometry: WallGeometry, order: readonly number[], x: number, y: number): number | undefined {
  const column = Math.floor(x / (geometry.tileWidth + geometry.gap));
  const row = Math.floor(y / (geometry.tileHeight + geometry.gap));
  if (column < 0 || column >= geometry.columns || row < 0) return undefined;
  if (x - column * (geometry.tileWidth + geometry.gap) >= geometry.tileWidth) return undefined;
  if (y - row * (geometry.tileHeight + geometry.gap) >= geometry.tileHeight) return undefined;
  return order[row * geometry.columns + column];
}

/** What a tile shows: the weights at the step, or how far training moved them since the first kept step. */
export const WALL_SHOWS = ['weights', 'change'] as const;
export type WallShows = (typeof WALL_SHOWS)[number];

/**
 * W − W₀, value by value: what training changed in a neuron's incoming weights (at initialisation the
 * weights are noise that hides the small learned pattern). NaN where either is not finite; undefined
 * when either is missing or the shapes differ.
 */
export function weightChange(current: Float32Array | undefined, initial: Float32Array | undefined): Float32Array | undefined {
  if (!current || !initial || current.length !== initial.length) return undefined;
  return current.map((value, index) => {
    const change = value - initial[index]!;
    return Number.isFinite(change) ? change : Number.NaN;
  });
}
