/**
 * NN-SVG style layout of a fully connected network: the input layer as a square image on the
 * left, every dense layer a column of dots, evenly spaced. Pure geometry in CSS pixels; the
 * viewer zooms it (lod.ts), draws it, and reuses it until the size changes.
 */

export interface LayerColumn {
  /** Dense layer number (1 = first hidden layer). */
  layer: number;
  /** Column centre. */
  x: number;
  /** Centre of each neuron's dot. */
  y: Float32Array;
  /** Vertical distance between neighbouring dots. */
  spacing: number;
  radius: number;
}

export interface NetworkLayout {
  width: number;
  height: number;
  /** The input image (a square of `side` pixels, top-left corner at x, y). */
  input: { x: number; y: number; side: number };
  columns: LayerColumn[];
}

export const LAYOUT_MARGIN = 24;
export const MAX_DOT_RADIUS = 9;
export const MIN_DOT_RADIUS = 0.75;

/** @param layerSizes neurons per layer, the input first (784 for 28×28 images) */
export function layoutNetwork(layerSizes: readonly number[], width: number, height: number): NetworkLayout {
  if (layerSizes.length < 2)
    throw new RangeError(`layoutNetwork: need an input and at least one dense layer, got ${layerSizes.length} layers`);
  const innerHeight = Math.max(1, height - 2 * LAYOUT_MARGIN);
  const denseCount = layerSizes.length - 1;
  // The input image takes one column slot; dense layers share the rest evenly.
  const slot = Math.max(1, (width - 2 * LAYOUT_MARGIN) / (denseCount + 1));
  const side = Math.max(8, Math.min(innerHeight, slot * 0.8));
  const input = { x: LAYOUT_MARGIN + (slot - side) / 2, y: (height - side) / 2, side };
  const columns = layerSizes.slice(1).map((neurons, index): LayerColumn => {
    const x = LAYOUT_MARGIN + slot * (index + 1.5);
    const spacing = Math.min(innerHeight / neurons, 2.5 * MAX_DOT_RADIUS);
    const radius = Math.max(MIN_DOT_RADIUS, Math.min(MAX_DOT_RADIUS, spacing * 0.4));
    const top = height / 2 - (spacing * (neurons - 1)) / 2;
    return { layer: index + 1, x, y: Float32Array.from({ length: neurons }, (_, neuron) => top + neuron * spacing), spacing, radius };
  });
  return { width, height, input, columns };
}
