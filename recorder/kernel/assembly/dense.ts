/**
 * The dense layers above the first, in WebAssembly SIMD: forward, the backward pass to the layer's
 * input and the weight gradient, for the small matrices of the recorder's upper layers (a few rows
 * of up to a few hundred neurons), where TensorFlow.js spends more on dispatching each operation
 * than on its arithmetic. Pointers are byte offsets into the module's memory; matrices are
 * row-major float32: inputs and outputs [rows × neurons], weights [fanIn × fanOut].
 *
 * The products keep the orders of a dense product: each output is Σ over k in ascending order, then
 * the bias is added.
 */

import { addInto } from './vector';

/** Hidden activations these kernels know: f(z) and f'(z) are piecewise linear. */
export const RELU: i32 = 0;
export const LEAKY_RELU: i32 = 1;
export const LINEAR: i32 = 2;

/**
 * Bytes past its end that `product` may read of its right matrix: the kernel's memory leaves this
 * much after its last array (../first-layer.ts).
 */
export const READ_SLACK: i32 = 64;

/** The first `count` lanes (all four when count ≥ 4) of `sums` to `at`. */
function storeLanes(at: usize, sums: v128, count: i32): void {
  if (count >= 4) {
    v128.store(at, sums);
    return;
  }
  if (count > 0) store<f32>(at, f32x4.extract_lane(sums, 0));
  if (count > 1) store<f32>(at, f32x4.extract_lane(sums, 1), 4);
  if (count > 2) store<f32>(at, f32x4.extract_lane(sums, 2), 8);
}

/**
 * Outputs from..width of one row of `product`, sixteen at a time in four sums over one pass of k
 * (one sum a pass would wait on its own additions). The last sixteen may run past the row: their
 * sums read on into right's next row, or up to READ_SLACK bytes past right's end, and only the
 * outputs below width are stored, each the same sum, in the same order, as on its own.
 */
function productTail(leftAt: usize, stepBytes: usize, n: i32, right: usize, rowBytes: usize, from: i32, width: i32, outRow: usize): void {
  for (let j = from; j < width; j += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let r = right + ((<usize>j) << 2);
    let l = leftAt;
    for (let k = 0; k < n; k++) {
      const s = f32x4.splat(load<f32>(l));
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(r)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(r, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(r, 32)));
      a3 = f32x4.add(a3, f32x4.mul(s, v128.load(r, 48)));
      r += rowBytes;
      l += stepBytes;
    }
    const o = outRow + ((<usize>j) << 2);
    const left = width - j;
    storeLanes(o, a0, left);
    storeLanes(o + 16, a1, left - 4);
    storeLanes(o + 32, a2, left - 8);
    storeLanes(o + 48, a3, left - 12);
  }
}

/**
 * out[i, :] = Σₖ left(i, k) · right[k, :] for i < m, k < n, with left(i, k) = left[i·leftRow + k·leftStep]
 * (strides in floats, so that the left matrix can be read transposed) and right row-major [n × width].
 * Each output sums its n terms in ascending k, in blocks of 32 outputs held in registers. Zeros
 * (inactive ReLUs) are multiplied like any value: skipping them costs more in mispredicted branches
 * than it saves.
 */
function product(left: usize, leftRow: i32, leftStep: i32, m: i32, n: i32, right: usize, width: i32, out: usize): void {
  const rowBytes = (<usize>width) << 2;
  const stepBytes = (<usize>leftStep) << 2;
  const blockEnd = width & ~31;
  const pairBlockEnd = width & ~15;
  const rowStride = (<usize>leftRow) << 2;
  let i = 0;
  // Two rows at a time, 16 outputs each: every weight vector loaded serves both rows.
  for (; i + 1 < m; i += 2) {
    const leftAt = left + <usize>i * rowStride;
    const outRow = out + <usize>i * rowBytes;
    for (let j = 0; j < pairBlockEnd; j += 16) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let b2 = f32x4.splat(0);
      let b3 = f32x4.splat(0);
      let r = right + ((<usize>j) << 2);
      let l = leftAt;
      for (let k = 0; k < n; k++) {
        const w0 = v128.load(r);
        const w1 = v128.load(r, 16);
        const w2 = v128.load(r, 32);
        const w3 = v128.load(r, 48);
        const s = f32x4.splat(load<f32>(l));
        const t = f32x4.splat(load<f32>(l + rowStride));
        a0 = f32x4.add(a0, f32x4.mul(s, w0));
        a1 = f32x4.add(a1, f32x4.mul(s, w1));
        a2 = f32x4.add(a2, f32x4.mul(s, w2));
        a3 = f32x4.add(a3, f32x4.mul(s, w3));
        b0 = f32x4.add(b0, f32x4.mul(t, w0));
        b1 = f32x4.add(b1, f32x4.mul(t, w1));
        b2 = f32x4.add(b2, f32x4.mul(t, w2));
        b3 = f32x4.add(b3, f32x4.mul(t, w3));
        r += rowBytes;
        l += stepBytes;
      }
      const o = outRow + ((<usize>j) << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
      v128.store(o + rowBytes, b0);
      v128.store(o + rowBytes, b1, 16);
      v128.store(o + rowBytes, b2, 32);
      v128.store(o + rowBytes, b3, 48);
    }
    productTail(leftAt, stepBytes, n, right, rowBytes, pairBlockEnd, width, outRow);
    productTail(leftAt + rowStride, stepBytes, n, right, rowBytes, pairBlockEnd, width, outRow + rowBytes);
  }
  for (; i < m; i++) {
    const leftAt = left + ((<usize>i * <usize>leftRow) << 2);
    const outRow = out + <usize>i * rowBytes;
    for (let j = 0; j < blockEnd; j += 32) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0);
      let a5 = f32x4.splat(0);
      let a6 = f32x4.splat(0);
      let a7 = f32x4.splat(0);
      let r = right + ((<usize>j) << 2);
      let l = leftAt;
      for (let k = 0; k < n; k++) {
        const s = f32x4.splat(load<f32>(l));
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(r)));
        a1 = f32x4.add(a1, f32x4.mul(s, v128.load(r, 16)));
        a2 = f32x4.add(a2, f32x4.mul(s, v128.load(r, 32)));
        a3 = f32x4.add(a3, f32x4.mul(s, v128.load(r, 48)));
        a4 = f32x4.add(a4, f32x4.mul(s, v128.load(r, 64)));
        a5 = f32x4.add(a5, f32x4.mul(s, v128.load(r, 80)));
        a6 = f32x4.add(a6, f32x4.mul(s, v128.load(r, 96)));
        a7 = f32x4.add(a7, f32x4.mul(s, v128.load(r, 112)));
        r += rowBytes;
        l += stepBytes;
      }
      const o = outRow + ((<usize>j) << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
      v128.store(o, a4, 64);
      v128.store(o, a5, 80);
      v128.store(o, a6, 96);
      v128.store(o, a7, 112);
    }
    productTail(leftAt, stepBytes, n, right, rowBytes, blockEnd, width, outRow);
  }
}

/** z[r, :] = (Σₖ x[r, k] · w[k, :]) + b for `rows` rows. */
export function denseForward(x: usize, rows: i32, fanIn: i32, weight: usize, bias: usize, fanOut: i32, z: usize): void {
  product(x, fanIn, 1, rows, fanIn, weight, fanOut, z);
  for (let r = 0; r < rows; r++) addInto(z + ((<usize>(r * fanOut)) << 2), bias, fanOut);
}

/** f(z) of `count` values: ReLU max(z, 0), leaky ReLU z or slope·z, linear z. */
export function activate(kind: i32, slope: f32, z: usize, out: usize, count: i32): void {
  const vectorEnd = count & ~3;
  const zero = f32x4.splat(0);
  const slopes = f32x4.splat(slope);
  for (let j = 0; j < vectorEnd; j += 4) {
    const at = (<usize>j) << 2;
    const value = v128.load(z + at);
    let result = value;
    if (kind == RELU) result = v128.bitselect(value, zero, f32x4.gt(value, zero));
    else if (kind == LEAKY_RELU) result = v128.bitselect(value, f32x4.mul(value, slopes), f32x4.gt(value, zero));
    v128.store(out + at, result);
  }
  for (let j = vectorEnd; j < count; j++) {
    const at = (<usize>j) << 2;
    const value = load<f32>(z + at);
    store<f32>(out + at, kind == RELU ? (value > 0 ? value : 0) : kind == LEAKY_RELU ? (value > 0 ? value : value * slope) : value);
  }
}

/** out = mᵀ for m [rows × columns]: four by four with lane shuffles where both counts allow, else one by one. */
function transpose(m: usize, rows: i32, columns: i32, out: usize): void {
  if ((rows & 3) != 0 || (columns & 3) != 0) {
    for (let k = 0; k < rows; k++) {
      for (let j = 0; j < columns; j++) store<f32>(out + ((<usize>(j * rows + k)) << 2), load<f32>(m + ((<usize>(k * columns + j)) << 2)));
    }
    return;
  }
  const inRow = (<usize>columns) << 2;
  const outRow = (<usize>rows) << 2;
  for (let k = 0; k < rows; k += 4) {
    for (let j = 0; j < columns; j += 4) {
      const from = m + <usize>k * inRow + ((<usize>j) << 2);
      const r0 = v128.load(from);
      const r1 = v128.load(from + inRow);
      const r2 = v128.load(from + 2 * inRow);
      const r3 = v128.load(from + 3 * inRow);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const to = out + <usize>j * outRow + ((<usize>k) << 2);
      v128.store(to, v128.shuffle<i64>(t0, t2, 0, 2));
      v128.store(to + outRow, v128.shuffle<i64>(t0, t2, 1, 3));
      v128.store(to + 2 * outRow, v128.shuffle<i64>(t1, t3, 0, 2));
      v128.store(to + 3 * outRow, v128.shuffle<i64>(t1, t3, 1, 3));
    }
  }
}

/**
 * The gradient reaching the layer's input: out[r, k] = (Σⱼ g[r, j] · w[k, j]) · f′(pre[r, k]), with
 * f′ of the input's own activation (`kind`) at its pre-activation (ReLU: 1 where z > 0, else 0).
 * `transposed` is scratch for wᵀ [fanOut × fanIn], so that the product reads rows.
 */
export function denseGradInput(
  grad: usize,
  rows: i32,
  fanOut: i32,
  weight: usize,
  fanIn: i32,
  pre: usize,
  kind: i32,
  slope: f32,
  transposed: usize,
  out: usize,
): void {
  transpose(weight, fanIn, fanOut, transposed);
  product(grad, fanOut, 1, rows, fanOut, transposed, fanIn, out);
  if (kind == LINEAR) return;
  const count = rows * fanIn;
  const vectorEnd = count & ~3;
  const zero = f32x4.splat(0);
  const below = f32x4.splat(kind == LEAKY_RELU ? slope : 0);
  const one = f32x4.splat(1);
  for (let j = 0; j < vectorEnd; j += 4) {
    const at = (<usize>j) << 2;
    const derivative = v128.bitselect(one, below, f32x4.gt(v128.load(pre + at), zero));
    v128.store(out + at, f32x4.mul(v128.load(out + at), derivative));
  }
  for (let j = vectorEnd; j < count; j++) {
    const at = (<usize>j) << 2;
    const derivative: f32 = load<f32>(pre + at) > 0 ? 1 : kind == LEAKY_RELU ? slope : 0;
    store<f32>(out + at, load<f32>(out + at) * derivative);
  }
}

/**
 * ∂L/∂W[k, :] = Σᵣ a[r, k] · g[r, :] and ∂L/∂b = Σᵣ g[r, :] over the first `rows` rows (the batch's;
 * the probe rows below them stay out of the gradients).
 */
export function denseWeightGradient(
  activation: usize,
  grad: usize,
  rows: i32,
  fanIn: i32,
  fanOut: i32,
  weightGrad: usize,
  biasGrad: usize,
): void {
  product(activation, 1, fanIn, fanIn, rows, grad, fanOut, weightGrad);
  memory.fill(biasGrad, 0, (<usize>fanOut) << 2);
  for (let r = 0; r < rows; r++) addInto(biasGrad, grad + ((<usize>(r * fanOut)) << 2), fanOut);
}
