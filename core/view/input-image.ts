/**
 * How one input sample is drawn, by its shape: a grey image ([height, width], values in [0, 1]), a
 * colour image ([height, width, 3]), or a strip of features ([features], any values: one cell per
 * feature, coloured by sign and size relative to the largest |value| of the sample, labelled with the
 * feature names where they fit). One place decides the colours; the picture, the SVG export and the
 * probe strip use it.
 */
import { rgb } from 'd3-color';

export type InputKind = 'grey' | 'rgb' | 'features';

/** A sample as pixels: `rows × columns` RGBA bytes (alpha 0 where a grid cell has no value). */
export interface InputPixels {
  kind: InputKind;
  rows: number;
  columns: number;
  rgba: Uint8ClampedArray;
}

/** Feature colours: positive blue, negative orange (the links' colours), zero the stage's dark grey. */
const POSITIVE = rgb('#4da3ff');
const NEGATIVE = rgb('#ff8c2e');
const ZERO = rgb('#2a2d35');

export function inputKindOf(shape: readonly number[]): InputKind {
  if (shape.length === 3 && shape[2] === 3) return 'rgb';
  return shape.length === 1 ? 'features' : 'grey';
}

/**
 * The rows and columns a sample of `shape` (and `values` values) is drawn as. Features are a column
 * (the picture's input strip), or with `compact` a near-square grid (a thumbnail).
 */
export function inputGrid(shape: readonly number[], values: number, compact = false): [number, number] {
  const kind = inputKindOf(shape);
  if (kind === 'rgb' && shape[0]! * shape[1]! * 3 === values) return [shape[0]!, shape[1]!];
  if (kind === 'features' && !compact) return [values, 1];
  if (shape.length >= 2 && shape[0]! * shape[1]! === values) return [shape[0]!, shape[1]!];
  const columns = Math.max(1, Math.ceil(Math.sqrt(values)));
  return [Math.max(1, Math.ceil(values / columns)), columns];
}

function mix(from: ReturnType<typeof rgb>, to: ReturnType<typeof rgb>, amount: number): [number, number, number] {
  return [from.r + (to.r - from.r) * amount, from.g + (to.g - from.g) * amount, from.b + (to.b - from.b) * amount];
}

/** The colour of a feature `value` on a scale whose ends are ±`largest`. */
export function featureColor(value: number, largest: number): [number, number, number] {
  if (!Number.isFinite(value)) return [57, 255, 20];
  const amount = largest > 0 ? Math.min(1, Math.abs(value) / largest) : 0;
  return mix(ZERO, value >= 0 ? POSITIVE : NEGATIVE, amount);
}

/** The pixels made for each sample's values (a run's shape never changes): the same object for the same array. */
const made = [new WeakMap<Float32Array, InputPixels>(), new WeakMap<Float32Array, InputPixels>()];

/** One sample's pixels, by the kind its shape says; `compact` for a thumbnail (inputGrid). */
export function inputPixels(values: Float32Array, shape: readonly number[], compact = false): InputPixels {
  const cache = made[compact ? 1 : 0]!;
  const known = cache.get(values);
  if (known) return known;
  const pixels = drawInput(values, shape, compact);
  cache.set(values, pixels);
  return pixels;
}

function drawInput(values: Float32Array, shape: readonly number[], compact: boolean): InputPixels {
  const kind = inputKindOf(shape);
  const [rows, columns] = inputGrid(shape, values.length, compact);
  const rgba = new Uint8ClampedArray(rows * columns * 4);
  const level = (value: number) => Math.round(255 * Math.min(1, Math.max(0, value)));
  if (kind === 'rgb') {
    for (let pixel = 0; pixel < rows * columns; pixel++) {
      rgba.set([level(values[3 * pixel]!), level(values[3 * pixel + 1]!), level(values[3 * pixel + 2]!), 255], 4 * pixel);
    }
  } else if (kind === 'features') {
    let largest = 0;
    for (const value of values) if (Number.isFinite(value)) largest = Math.max(largest, Math.abs(value));
    values.forEach((value, index) => rgba.set([...featureColor(value, largest), 255], 4 * index));
  } else {
    // Cells of the grid past the input's values (a flat input in a near-square grid) stay transparent.
    for (let index = 0; index < Math.min(values.length, rows * columns); index++) {
      const grey = level(values[index]!);
      rgba.set([grey, grey, grey, 255], 4 * index);
    }
  }
  return { kind, rows, columns, rgba };
}

/**
 * A first-layer neuron's incoming weights (or their gradients) as a map over the input: an image's
 * own grid; a colour image's summed over its 3 channels (what the neuron weighs at each pixel); a
 * table's features as a near-square grid. `note` says what was done to them, when anything was.
 */
export function weightMap(
  values: Float32Array,
  shape: readonly number[],
): { values: Float32Array; rows: number; columns: number; note?: string } {
  const kind = inputKindOf(shape);
  if (kind === 'rgb') {
    const pixels = values.length / 3;
    const summed = new Float32Array(pixels);
    for (let pixel = 0; pixel < pixels; pixel++) summed[pixel] = values[3 * pixel]! + values[3 * pixel + 1]! + values[3 * pixel + 2]!;
    const [rows, columns] = inputGrid(shape, values.length);
    return { values: summed, rows, columns, note: 'summed over the 3 colour channels' };
  }
  const [rows, columns] = inputGrid(shape, values.length, true);
  return { values, rows, columns };
}
