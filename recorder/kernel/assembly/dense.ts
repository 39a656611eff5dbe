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

/** Outputs from..width of one row of `product`: four at a time, then one at a time. */
function productTail(leftAt: usize, stepBytes: usize, n: i32, right: usize, rowBytes: usize, from: i32, width: i32, outRow: usize): void {
  const vectorEnd = width & ~3;
  for (let j = from; j < vectorEnd; j += 4) {
    let a = f32x4.splat(0);
    let r = right + ((<usize>j) << 2);
    let l = leftAt;
    for (let k = 0; k < n; k++) {
      a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(l)), v128.load(r)));
      r += rowBytes;
      l += stepBytes;
    }
    v128.store(outRow + ((<usize>j) << 2), a);
  }
  for (let j = vectorEnd; j < width; j++) {
    let a: f32 = 0;
    let r = right + ((<usize>j) << 2);
    let l = leftAt;
    for (let k = 0; k < n; k++) {
      a += load<f32>(l) * load<f32>(r);
      r += rowBytes;
      l += stepBytes;
    }
    store<f32>(outRow + ((<usize>j) << 2), a);
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
  for (let k = 0; k < fanIn; k++) {
    for (let j = 0; j < fanOut; j++) {
      store<f32>(transposed + ((<usize>(j * fanIn + k)) << 2), load<f32>(weight + ((<usize>(k * fanOut + j)) << 2)));
    }
  }
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
