/**
 * Which recorded matrix the picture draws a layer's links from at a step: the latest exact weight
 * snapshot or the latest int8 link frame at or before it, whichever is newer (the exact one on a
 * tie). Link frames are held as their codes, a quarter of float32's memory, and decoded only when
 * drawn. Pure: the viewer's RunData and the benchmarks share it.
 */
import { dequantizeInt8, NON_FINITE_CODE } from '../format/int8.js';
import type { Snapshot } from './frame.js';

/** One link frame of a layer as held: W and ∂L/∂W as int8 codes, row-major [input × neuron], with their scales. */
export interface LinkFrame {
  step: number;
  weightCodes: Int8Array;
  weightScale: number;
  weightGradCodes: Int8Array;
  weightGradScale: number;
}

/** The last item of `list` (in step order) at or before `step`. */
export function latestAtOrBefore<T extends { step: number }>(list: readonly T[] | undefined, step: number): T | undefined {
  if (!list || list.length === 0 || list[0]!.step > step) return undefined;
  let low = 0;
  let high = list.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (list[middle]!.step <= step) low = middle;
    else high = middle - 1;
  }
  return list[low];
}

/** What to draw at `step`: the exact snapshot, unless a link frame is newer. */
export function freshestAt(
  exact: readonly Snapshot[] | undefined,
  links: readonly LinkFrame[] | undefined,
  step: number,
): { exact: Snapshot } | { link: LinkFrame } | undefined {
  const snapshot = latestAtOrBefore(exact, step);
  const link = latestAtOrBefore(links, step);
  if (link && (!snapshot || link.step > snapshot.step)) return { link };
  return snapshot && { exact: snapshot };
}

/** A link frame as a Snapshot marked `int8`: each matrix is decoded the first time it is read. */
export function linkSnapshot(frame: LinkFrame): Snapshot {
  let weight: Float32Array | undefined;
  let weightGrad: Float32Array | undefined;
  return {
    step: frame.step,
    precision: 'int8',
    get weight() {
      return (weight ??= dequantizeInt8(frame.weightCodes, frame.weightScale));
    },
    get weightGrad() {
      return (weightGrad ??= dequantizeInt8(frame.weightGradCodes, frame.weightGradScale));
    },
  };
}

/** Column `neuron` of a row-major [fanIn × fanOut] int8 matrix, decoded: one neuron's incoming links. */
export function linkColumn(codes: Int8Array, scale: number, fanOut: number, neuron: number): Float32Array {
  const fanIn = codes.length / fanOut;
  const column = new Float32Array(fanIn);
  for (let input = 0; input < fanIn; input++) {
    const code = codes[input * fanOut + neuron]!;
    column[input] = code === NON_FINITE_CODE ? Number.NaN : code * scale;
  }
  return column;
}

/**
 * The largest age, over steps 0 … stepCount − 1, of what a layer's links are drawn from: step minus
 * the newest kept step at or before it, exact snapshots and link frames alike (both lists in step
 * order). Infinity when some step has nothing to draw from.
 */
export function largestLinkAge(exactSteps: readonly number[], linkSteps: readonly number[], stepCount: number): number {
  const kept = [...new Set([...exactSteps, ...linkSteps])].filter((step) => step < stepCount).sort((a, b) => a - b);
  if (stepCount === 0) return 0;
  if (kept[0] !== 0) return Infinity;
  let largest = 0;
  kept.forEach((step, index) => {
    const next = kept[index + 1] ?? stepCount;
    largest = Math.max(largest, next - 1 - step);
  });
  return largest;
}
