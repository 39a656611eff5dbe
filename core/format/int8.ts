/**
 * The int8 encoding of link frames (`links-layerK-NNNN.arrows`): a matrix as one code per value and
 * one symmetric scale for the whole matrix. scale = largest finite |v| / 127, code = round(v / scale)
 * in −127…127, so code × scale is off by at most scale / 2 = (largest |v|) / 254, under 0.4% of the
 * matrix's largest magnitude. −128 stands for a value that was NaN or ±Inf (drawn as NaN: the sign
 * of an infinity is not kept). Link frames are for drawing; exact values are in the weight snapshots.
 */

/** The code of a value that was not finite. */
export const NON_FINITE_CODE = -128;
/** Largest code magnitude: codes are symmetric around 0. */
export const MAX_CODE = 127;

/** The smallest scale whose codes are computed on the fast path: float32's smallest normal over 127 codes. */
const SMALLEST_NORMAL_SCALE = 2 ** -126;

/**
 * Writes the codes of `values` into `codes` (same length) and returns the scale. A matrix with no
 * finite non-zero value has scale 0 (every finite value codes as 0). The bound scale / 2 holds for
 * matrices whose largest |v| is a normal float32 (≥ 127 × 2⁻¹²⁶); below that the scale loses precision
 * (codes are clamped to ±127, never wrapped) and at 0 every value codes as 0.
 *
 * Runs on the recorder's writer thread for every link frame (two 784×512 matrices for the large
 * network): one pass for the largest magnitude, one for the codes, ~4 ns a value here.
 */
export function quantizeInt8(values: Float32Array, codes: Int8Array): number {
  if (codes.length !== values.length) throw new RangeError(`quantizeInt8: ${values.length} values, ${codes.length} codes`);
  // NaN fails both comparisons; an infinity wins one, and is left out by the slower pass below.
  let low = 0;
  let high = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (value > high) high = value;
    else if (value < low) low = value;
  }
  let largest = Math.max(high, -low);
  if (largest === Infinity) {
    largest = 0;
    for (let index = 0; index < values.length; index++) {
      const magnitude = Math.abs(values[index]!);
      if (magnitude > largest && magnitude !== Infinity) largest = magnitude;
    }
  }
  // The scale is stored as float32: the codes are computed from the stored value, so the bound holds for it.
  const scale = Math.fround(largest / MAX_CODE);
  if (scale < SMALLEST_NORMAL_SCALE) return quantizeSlowly(values, codes, scale);
  const inverse = 1 / scale;
  for (let index = 0; index < values.length; index++) {
    const scaled = values[index]! * inverse;
    // scaled − scaled is 0 for a finite value, NaN for NaN and ±Inf. |scaled| ≤ 127 × (1 + 2⁻²⁴) (the
    // float32 scale may round down), so floor(scaled + 0.5) = Math.round(scaled) is within −127…127;
    // shifted by 128.5 it is positive, where `| 0` floors.
    codes[index] = scaled - scaled === 0 ? ((scaled + 128.5) | 0) - 128 : NON_FINITE_CODE;
  }
  return scale;
}

/** The codes at a scale that is 0 or not a normal float32, clamped to ±127. */
function quantizeSlowly(values: Float32Array, codes: Int8Array, scale: number): number {
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (!Number.isFinite(value)) codes[index] = NON_FINITE_CODE;
    else {
      const code = scale > 0 ? Math.round(value / scale) : 0;
      codes[index] = Math.max(-MAX_CODE, Math.min(MAX_CODE, code));
    }
  }
  return scale;
}

/** The values `codes` stand for, at `scale`; NaN for NON_FINITE_CODE. Into `out` when given. */
export function dequantizeInt8(codes: Int8Array, scale: number, out = new Float32Array(codes.length)): Float32Array {
  for (let index = 0; index < codes.length; index++) {
    const code = codes[index]!;
    out[index] = code === NON_FINITE_CODE ? Number.NaN : code * scale;
  }
  return out;
}

/**
 * The finite values `codes` stand for that decide a domain (core/view/normalize.ts): the smallest and
 * largest, and the smallest non-zero magnitude, without decoding the matrix.
 */
export function int8Extremes(codes: Int8Array, scale: number): number[] {
  let low = MAX_CODE;
  let high = -MAX_CODE;
  let smallest = MAX_CODE + 1;
  let any = false;
  for (let index = 0; index < codes.length; index++) {
    const code = codes[index]!;
    if (code === NON_FINITE_CODE) continue;
    any = true;
    if (code < low) low = code;
    if (code > high) high = code;
    const magnitude = code < 0 ? -code : code;
    if (magnitude > 0 && magnitude < smallest) smallest = magnitude;
  }
  if (!any) return [];
  return smallest <= MAX_CODE ? [low * scale, high * scale, smallest * scale] : [low * scale, high * scale];
}
