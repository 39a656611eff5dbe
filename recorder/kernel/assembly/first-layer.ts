/**
 * The first dense layer of the MLP on sparse input, in WebAssembly SIMD (AssemblyScript). Most
 * MNIST pixels are exactly zero (81%), so the products with the 784-wide input visit only the
 * non-zero pixels. The caller (../first-layer.ts) lays out memory: every pointer argument is a
 * byte offset into this module's memory, every matrix is row-major float32, and `width` is the
 * layer's neuron count.
 *
 * Compressed samples: sample i's non-zero pixels are pixel[start[i] … start[i + 1]) (i32) with
 * values value[…] (f32); `rows` (i32) lists which samples a call works on.
 *
 * The layers above the first run in ./dense.ts, in the same module and memory.
 *
 * Build: npm run build:kernel (the .wasm is committed; tests check it matches this source).
 */

import { addInto } from './vector';

export { activate, denseForward, denseGradInput, denseWeightGradient, READ_SLACK } from './dense';
export { hiddenSums } from './stats';

/** Neurons per register block of columnForward: eight float32x4 weight vectors stay in registers across a column's samples. */
const BLOCK: i32 = 32;

/**
 * Sorts the non-zero pixels of sample rows[0 … rowCount) by pixel, in one pass. A sample set holds
 * sample i's non-zero pixels as the pairs at entries[start[i] … start[i + 1]): the pixel (i32),
 * then its value (f32). Column p's entries are the pairs at colEntries[p·capacity + k],
 * k < colCount[p], rows ascending: the row's byte offset in a [rows × width] float32 matrix
 * (i32 r·width·4), then the pixel's value (f32). `capacity` is at least rowCount (a pixel is
 * non-zero at most once a row). colSum[p] is the sum of column p's values, in row order.
 * Pixel-major order lets the products below read each weight row once per batch (not once per
 * sample) and keep it in registers.
 */
export function compressColumns(
  start: usize,
  entries: usize,
  rows: usize,
  rowCount: i32,
  inputSize: i32,
  width: i32,
  capacity: i32,
  colCount: usize,
  colEntries: usize,
  colSum: usize,
): void {
  const rowBytes = width << 2;
  memory.fill(colCount, 0, (<usize>inputSize) << 2);
  memory.fill(colSum, 0, (<usize>inputSize) << 2);
  for (let r = 0; r < rowCount; r++) {
    const sample = <usize>load<i32>(rows + ((<usize>r) << 2));
    const end = entries + ((<usize>load<i32>(start + ((sample + 1) << 2))) << 3);
    for (let at = entries + ((<usize>load<i32>(start + (sample << 2))) << 3); at < end; at += 8) {
      const p = <usize>load<i32>(at);
      const value = load<f32>(at, 4);
      const count = colCount + (p << 2);
      const entry = load<i32>(count);
      const slot = colEntries + ((p * <usize>capacity + <usize>entry) << 3);
      store<i32>(slot, r * rowBytes);
      store<f32>(slot, value, 4);
      store<i32>(count, entry + 1);
      const sum = colSum + (p << 2);
      store<f32>(sum, load<f32>(sum) + value);
    }
  }
}

/**
 * out[r, :] = Σ over pixels p of x[r, p] · weight[p, :], then + bias (the order of a dense product
 * followed by the bias), for the rowCount rows of a compressColumns result.
 */
export function columnForward(
  capacity: i32,
  colCount: usize,
  colEntries: usize,
  inputSize: i32,
  rowCount: i32,
  weight: usize,
  bias: usize,
  width: i32,
  out: usize,
): void {
  const rowBytes = (<usize>width) << 2;
  memory.fill(out, 0, <usize>rowCount * rowBytes);
  for (let p = 0; p < inputSize; p++) {
    const first = p * capacity;
    const end = first + load<i32>(colCount + ((<usize>p) << 2));
    if (first === end) continue;
    const row = weight + <usize>p * rowBytes;
    let j = 0;
    for (; j + BLOCK <= width; j += BLOCK) {
      const column = (<usize>j) << 2;
      const w = row + column;
      const w0 = v128.load(w);
      const w1 = v128.load(w, 16);
      const w2 = v128.load(w, 32);
      const w3 = v128.load(w, 48);
      const w4 = v128.load(w, 64);
      const w5 = v128.load(w, 80);
      const w6 = v128.load(w, 96);
      const w7 = v128.load(w, 112);
      for (let e = first; e < end; e++) {
        const entry = colEntries + ((<usize>e) << 3);
        const x = f32x4.splat(load<f32>(entry, 4));
        const o = out + <usize>load<i32>(entry) + column;
        v128.store(o, f32x4.add(v128.load(o), f32x4.mul(w0, x)));
        v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(w1, x)), 16);
        v128.store(o, f32x4.add(v128.load(o, 32), f32x4.mul(w2, x)), 32);
        v128.store(o, f32x4.add(v128.load(o, 48), f32x4.mul(w3, x)), 48);
        v128.store(o, f32x4.add(v128.load(o, 64), f32x4.mul(w4, x)), 64);
        v128.store(o, f32x4.add(v128.load(o, 80), f32x4.mul(w5, x)), 80);
        v128.store(o, f32x4.add(v128.load(o, 96), f32x4.mul(w6, x)), 96);
        v128.store(o, f32x4.add(v128.load(o, 112), f32x4.mul(w7, x)), 112);
      }
    }
    for (; j + 4 <= width; j += 4) {
      const column = (<usize>j) << 2;
      const w0 = v128.load(row + column);
      for (let e = first; e < end; e++) {
        const entry = colEntries + ((<usize>e) << 3);
        const o = out + <usize>load<i32>(entry) + column;
        v128.store(o, f32x4.add(v128.load(o), f32x4.mul(w0, f32x4.splat(load<f32>(entry, 4)))));
      }
    }
    for (; j < width; j++) {
      const column = (<usize>j) << 2;
      const w0 = load<f32>(row + column);
      for (let e = first; e < end; e++) {
        const entry = colEntries + ((<usize>e) << 3);
        const o = out + <usize>load<i32>(entry) + column;
        store<f32>(o, load<f32>(o) + w0 * load<f32>(entry, 4));
      }
    }
  }
  for (let r = 0; r < rowCount; r++) addInto(out + <usize>r * rowBytes, bias, width);
}

/**
 * ∂L/∂W = Σ over rows r of x[r]ᵀ · grad[r, :] into weightGrad ([inputSize × width], every row
 * written), and ∂L/∂b = Σ grad[r, :] into biasGrad, for the rowCount rows of a compressColumns
 * result; `grad` holds ∂L/∂z of those rows, in order.
 */
export function columnWeightGradient(
  capacity: i32,
  colCount: usize,
  colEntries: usize,
  inputSize: i32,
  rowCount: i32,
  grad: usize,
  width: i32,
  weightGrad: usize,
  biasGrad: usize,
): void {
  const rowBytes = (<usize>width) << 2;
  for (let p = 0; p < inputSize; p++) gradientRow(capacity, colCount, colEntries, p, grad, width, weightGrad + <usize>p * rowBytes);
  biasGradient(rowCount, grad, width, biasGrad);
}

/**
 * Row p of ∂L/∂W (pixel p's column of entries times the rows' ∂L/∂z) into `target`, 16 neurons at
 * a time. Four sums stay in registers; with eight (and their eight loads) V8 runs out of vector
 * registers, keeps one sum on the stack, and every entry then waits on its store and load (the
 * weight gradient took 1.4× as long).
 */
function gradientRow(capacity: i32, colCount: usize, colEntries: usize, p: i32, grad: usize, width: i32, target: usize): void {
  const rowBytes = (<usize>width) << 2;
  const first = p * capacity;
  const end = first + load<i32>(colCount + ((<usize>p) << 2));
  if (first === end) {
    memory.fill(target, 0, rowBytes);
    return;
  }
  let j = 0;
  for (; j + 16 <= width; j += 16) {
    const column = (<usize>j) << 2;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (let e = first; e < end; e++) {
      const entry = colEntries + ((<usize>e) << 3);
      const x = f32x4.splat(load<f32>(entry, 4));
      const g = grad + <usize>load<i32>(entry) + column;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(g), x));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(g, 16), x));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(g, 32), x));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(g, 48), x));
    }
    const o = target + column;
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  }
  for (; j + 4 <= width; j += 4) {
    const column = (<usize>j) << 2;
    let a = f32x4.splat(0);
    for (let e = first; e < end; e++) {
      const entry = colEntries + ((<usize>e) << 3);
      a = f32x4.add(a, f32x4.mul(v128.load(grad + <usize>load<i32>(entry) + column), f32x4.splat(load<f32>(entry, 4))));
    }
    v128.store(target + column, a);
  }
  for (; j < width; j++) {
    const column = (<usize>j) << 2;
    let a: f32 = 0;
    for (let e = first; e < end; e++) {
      const entry = colEntries + ((<usize>e) << 3);
      a += load<f32>(grad + <usize>load<i32>(entry) + column) * load<f32>(entry, 4);
    }
    store<f32>(target + column, a);
  }
}

/** ∂L/∂b = Σ over the rows of grad[r, :]. */
function biasGradient(rowCount: i32, grad: usize, width: i32, biasGrad: usize): void {
  const rowBytes = (<usize>width) << 2;
  memory.fill(biasGrad, 0, rowBytes);
  for (let r = 0; r < rowCount; r++) addInto(biasGrad, grad + <usize>r * rowBytes, width);
}

/** out[p] = colSum[p] × scale (the rows' mean input for scale = 1 / rowCount). */
export function columnSums(colSum: usize, inputSize: i32, scale: f32, out: usize): void {
  const vectorEnd = inputSize & ~3;
  const scales = f32x4.splat(scale);
  for (let p = 0; p < vectorEnd; p += 4) {
    const at = (<usize>p) << 2;
    v128.store(out + at, f32x4.mul(v128.load(colSum + at), scales));
  }
  for (let p = vectorEnd; p < inputSize; p++) {
    const at = (<usize>p) << 2;
    store<f32>(out + at, load<f32>(colSum + at) * scale);
  }
}

/** Lane sum of a float32x4 accumulator, in float64. */
function laneSum(sums: v128): f64 {
  return (
    <f64>f32x4.extract_lane(sums, 0) +
    <f64>f32x4.extract_lane(sums, 1) +
    <f64>f32x4.extract_lane(sums, 2) +
    <f64>f32x4.extract_lane(sums, 3)
  );
}

export const SGD: i32 = 0;
export const MOMENTUM: i32 = 1;
export const ADAM: i32 = 2;

// The optimizer's settings for the next updates (setUpdate), and the sums updateSpan adds into.
let kind: i32 = SGD;
let rate: f32 = 0;
let momentum: f32 = 0;
let beta1: f32 = 0;
let oneMinusBeta1: f32 = 0;
let beta2: f32 = 0;
let oneMinusBeta2: f32 = 0;
let rateOverCorrection1: f32 = 0;
let correction2: f32 = 0;
let epsilon: f32 = 0;
let paramSum: f64 = 0;
let gradSum: f64 = 0;
let deltaSum: f64 = 0;

/**
 * The optimizer and its scalars for the updates that follow (for Adam, of this step: its bias
 * corrections change every step). The update applies the operations in the order the
 * TensorFlow.js model does (so the results are the same float32 values):
 *   sgd       Δ = g·rate
 *   momentum  v ← v·momentum + g;  Δ = v·rate
 *   adam      m ← m·β1 + g·(1−β1);  s ← s·β2 + g²·(1−β2);  Δ = (m·rateOverCorrection1) / (√(s / correction2) + ε)
 * then updated ← param − Δ.
 */
export function setUpdate(
  optimizer: i32,
  learningRate: f32,
  momentumFactor: f32,
  b1: f32,
  oneMinusB1: f32,
  b2: f32,
  oneMinusB2: f32,
  rateOverC1: f32,
  c2: f32,
  eps: f32,
): void {
  kind = optimizer;
  rate = learningRate;
  momentum = momentumFactor;
  beta1 = b1;
  oneMinusBeta1 = oneMinusB1;
  beta2 = b2;
  oneMinusBeta2 = oneMinusB2;
  rateOverCorrection1 = rateOverC1;
  correction2 = c2;
  epsilon = eps;
}

/** Updates `length` parameters (see setUpdate), adding Σparam², Σg² and ΣΔ² into the running sums. */
function updateSpan(param: usize, updated: usize, grad: usize, first: usize, second: usize, length: i32): void {
  let paramSquares = f32x4.splat(0);
  let gradSquares = f32x4.splat(0);
  let deltaSquares = f32x4.splat(0);
  const vectorEnd = length & ~3;
  for (let j = 0; j < vectorEnd; j += 4) {
    const at = (<usize>j) << 2;
    const p = v128.load(param + at);
    const g = v128.load(grad + at);
    let delta: v128;
    if (kind === SGD) {
      delta = f32x4.mul(g, f32x4.splat(rate));
    } else if (kind === MOMENTUM) {
      const velocity = f32x4.add(f32x4.mul(v128.load(first + at), f32x4.splat(momentum)), g);
      v128.store(first + at, velocity);
      delta = f32x4.mul(velocity, f32x4.splat(rate));
    } else {
      const m = f32x4.add(f32x4.mul(v128.load(first + at), f32x4.splat(beta1)), f32x4.mul(g, f32x4.splat(oneMinusBeta1)));
      const s = f32x4.add(f32x4.mul(v128.load(second + at), f32x4.splat(beta2)), f32x4.mul(f32x4.mul(g, g), f32x4.splat(oneMinusBeta2)));
      v128.store(first + at, m);
      v128.store(second + at, s);
      delta = f32x4.div(
        f32x4.mul(m, f32x4.splat(rateOverCorrection1)),
        f32x4.add(f32x4.sqrt(f32x4.div(s, f32x4.splat(correction2))), f32x4.splat(epsilon)),
      );
    }
    v128.store(updated + at, f32x4.sub(p, delta));
    paramSquares = f32x4.add(paramSquares, f32x4.mul(p, p));
    gradSquares = f32x4.add(gradSquares, f32x4.mul(g, g));
    deltaSquares = f32x4.add(deltaSquares, f32x4.mul(delta, delta));
  }
  paramSum += laneSum(paramSquares);
  gradSum += laneSum(gradSquares);
  deltaSum += laneSum(deltaSquares);
  for (let j = vectorEnd; j < length; j++) {
    const at = (<usize>j) << 2;
    const p = load<f32>(param + at);
    const g = load<f32>(grad + at);
    let delta: f32;
    if (kind === SGD) {
      delta = g * rate;
    } else if (kind === MOMENTUM) {
      const velocity = load<f32>(first + at) * momentum + g;
      store<f32>(first + at, velocity);
      delta = velocity * rate;
    } else {
      const m = load<f32>(first + at) * beta1 + g * oneMinusBeta1;
      const s = load<f32>(second + at) * beta2 + g * g * oneMinusBeta2;
      store<f32>(first + at, m);
      store<f32>(second + at, s);
      delta = (m * rateOverCorrection1) / (Mathf.sqrt(s / correction2) + epsilon);
    }
    store<f32>(updated + at, p - delta);
    paramSum += <f64>(p * p);
    gradSum += <f64>(g * g);
    deltaSum += <f64>(delta * delta);
  }
}

/**
 * updateSpan for plain SGD and a zero gradient: the parameters are copied unchanged, and only
 * Σparam² grows (Σg² and ΣΔ² would add zeros), summed as updateSpan sums it, to the same bits.
 */
function keepSpan(param: usize, updated: usize, length: i32): void {
  let paramSquares = f32x4.splat(0);
  const vectorEnd = length & ~3;
  for (let j = 0; j < vectorEnd; j += 4) {
    const at = (<usize>j) << 2;
    const p = v128.load(param + at);
    v128.store(updated + at, p);
    paramSquares = f32x4.add(paramSquares, f32x4.mul(p, p));
  }
  paramSum += laneSum(paramSquares);
  for (let j = vectorEnd; j < length; j++) {
    const at = (<usize>j) << 2;
    const p = load<f32>(param + at);
    store<f32>(updated + at, p);
    paramSum += <f64>(p * p);
  }
}

function storeSums(result: usize): void {
  store<f64>(result, paramSum);
  store<f64>(result, gradSum, 8);
  store<f64>(result, deltaSum, 16);
}

/**
 * One optimizer update of `length` parameters (see setUpdate): `updated` may be `param`, or
 * another array (the caller keeps the parameters before the update that way). Writes Σparam²,
 * Σg² and ΣΔ² as three f64 at `result`.
 */
export function update(param: usize, updated: usize, grad: usize, first: usize, second: usize, length: i32, result: usize): void {
  paramSum = 0;
  gradSum = 0;
  deltaSum = 0;
  updateSpan(param, updated, grad, first, second, length);
  storeSums(result);
}

/**
 * columnWeightGradient, then the update of each weight row while its gradient is in the cache:
 * one pass over the weights instead of two. Each row's gradient goes to `rowGrad` ([width]
 * scratch), not to a whole [inputSize × width] array: a step then writes no gradient matrix, which
 * columnWeightGradient computes again, to the same bits, on the steps that keep it. `first` and
 * `second` are the weights' optimizer state ([inputSize × width] each, where the optimizer keeps
 * it). Writes the weights' sums at `result`; the biases are updated apart (update).
 */
export function columnWeightGradientUpdate(
  capacity: i32,
  colCount: usize,
  colEntries: usize,
  inputSize: i32,
  rowCount: i32,
  grad: usize,
  width: i32,
  rowGrad: usize,
  biasGrad: usize,
  param: usize,
  updated: usize,
  first: usize,
  second: usize,
  result: usize,
): void {
  const rowBytes = (<usize>width) << 2;
  paramSum = 0;
  gradSum = 0;
  deltaSum = 0;
  for (let p = 0; p < inputSize; p++) {
    const offset = <usize>p * rowBytes;
    if (kind === SGD && load<i32>(colCount + ((<usize>p) << 2)) === 0) {
      // A pixel that is zero in every row: its gradient row is zero, and plain SGD leaves its weights as they are.
      keepSpan(param + offset, updated + offset, width);
      continue;
    }
    gradientRow(capacity, colCount, colEntries, p, grad, width, rowGrad);
    updateSpan(param + offset, updated + offset, rowGrad, first + offset, second + offset, width);
  }
  biasGradient(rowCount, grad, width, biasGrad);
  storeSums(result);
}

/** Σ values² over `length` floats (float32x4 partial sums, added in float64). */
export function sumOfSquares(values: usize, length: i32): f64 {
  let sums = f32x4.splat(0);
  const vectorEnd = length & ~3;
  for (let j = 0; j < vectorEnd; j += 4) {
    const v = v128.load(values + ((<usize>j) << 2));
    sums = f32x4.add(sums, f32x4.mul(v, v));
  }
  let sum = laneSum(sums);
  for (let j = vectorEnd; j < length; j++) {
    const v = load<f32>(values + ((<usize>j) << 2));
    sum += <f64>(v * v);
  }
  return sum;
}
