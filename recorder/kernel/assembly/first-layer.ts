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
 * Build: npm run build:kernel (the .wasm is committed; tests check it matches this source).
 */

/** y[0 … width) += scale × x[0 … width). */
function axpy(y: usize, x: usize, scale: f32, width: i32): void {
  const scales = f32x4.splat(scale);
  const vectorEnd = width & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const at = (<usize>j) << 2;
    v128.store(y + at, f32x4.add(v128.load(y + at), f32x4.mul(v128.load(x + at), scales)));
  }
  for (; j < width; j++) {
    const at = (<usize>j) << 2;
    store<f32>(y + at, load<f32>(y + at) + load<f32>(x + at) * scale);
  }
}

/** y[0 … width) += x[0 … width). */
function addInto(y: usize, x: usize, width: i32): void {
  const vectorEnd = width & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const at = (<usize>j) << 2;
    v128.store(y + at, f32x4.add(v128.load(y + at), v128.load(x + at)));
  }
  for (; j < width; j++) {
    const at = (<usize>j) << 2;
    store<f32>(y + at, load<f32>(y + at) + load<f32>(x + at));
  }
}

/**
 * out[r, :] = Σ value · weight[pixel, :] over sample rows[r]'s non-zero pixels, then + bias
 * (the order of a dense product followed by the bias), for r < rowCount.
 */
export function sparseForward(
  start: usize,
  pixel: usize,
  value: usize,
  rows: usize,
  rowCount: i32,
  weight: usize,
  bias: usize,
  width: i32,
  out: usize,
): void {
  const rowBytes = (<usize>width) << 2;
  for (let r = 0; r < rowCount; r++) {
    const sample = <usize>load<i32>(rows + ((<usize>r) << 2));
    const target = out + <usize>r * rowBytes;
    memory.fill(target, 0, rowBytes);
    const end = load<i32>(start + ((sample + 1) << 2));
    for (let k = load<i32>(start + (sample << 2)); k < end; k++) {
      const at = (<usize>k) << 2;
      axpy(target, weight + <usize>load<i32>(pixel + at) * rowBytes, load<f32>(value + at), width);
    }
    addInto(target, bias, width);
  }
}

/**
 * ∂L/∂W = Σ over rows r of input[r]ᵀ · grad[r, :] into weightGrad ([inputSize × width], zeroed
 * first), and ∂L/∂b = Σ grad[r, :] into biasGrad. `grad` holds ∂L/∂z of the rows, in order.
 */
export function sparseWeightGradient(
  start: usize,
  pixel: usize,
  value: usize,
  rows: usize,
  rowCount: i32,
  grad: usize,
  width: i32,
  inputSize: i32,
  weightGrad: usize,
  biasGrad: usize,
): void {
  const rowBytes = (<usize>width) << 2;
  memory.fill(weightGrad, 0, <usize>inputSize * rowBytes);
  memory.fill(biasGrad, 0, rowBytes);
  for (let r = 0; r < rowCount; r++) {
    const sample = <usize>load<i32>(rows + ((<usize>r) << 2));
    const source = grad + <usize>r * rowBytes;
    const end = load<i32>(start + ((sample + 1) << 2));
    for (let k = load<i32>(start + (sample << 2)); k < end; k++) {
      const at = (<usize>k) << 2;
      axpy(weightGrad + <usize>load<i32>(pixel + at) * rowBytes, source, load<f32>(value + at), width);
    }
    addInto(biasGrad, source, width);
  }
}

/** out[p] = scale × Σ over rows of sample rows[r]'s pixel p (the batch-mean input for scale = 1/rowCount). */
export function sparseColumnSums(
  start: usize,
  pixel: usize,
  value: usize,
  rows: usize,
  rowCount: i32,
  inputSize: i32,
  scale: f32,
  out: usize,
): void {
  memory.fill(out, 0, (<usize>inputSize) << 2);
  for (let r = 0; r < rowCount; r++) {
    const sample = <usize>load<i32>(rows + ((<usize>r) << 2));
    const end = load<i32>(start + ((sample + 1) << 2));
    for (let k = load<i32>(start + (sample << 2)); k < end; k++) {
      const at = (<usize>k) << 2;
      const target = out + ((<usize>load<i32>(pixel + at)) << 2);
      store<f32>(target, load<f32>(target) + load<f32>(value + at));
    }
  }
  for (let p = 0; p < inputSize; p++) {
    const target = out + ((<usize>p) << 2);
    store<f32>(target, load<f32>(target) * scale);
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

/**
 * One optimizer update of `length` parameters, with the operations in the order the
 * TensorFlow.js model applies them (so the results are the same float32 values):
 *   sgd       Δ = g·rate
 *   momentum  v ← v·momentum + g;  Δ = v·rate
 *   adam      m ← m·β1 + g·(1−β1);  s ← s·β2 + g²·(1−β2);  Δ = (m·rateOverCorrection1) / (√(s / correction2) + ε)
 * then param ← param − Δ. Writes Σparam² (before the update), Σg² and ΣΔ² as three f64 at `result`.
 */
export function update(
  kind: i32,
  param: usize,
  grad: usize,
  first: usize,
  second: usize,
  length: i32,
  rate: f32,
  momentum: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  rateOverCorrection1: f32,
  correction2: f32,
  epsilon: f32,
  result: usize,
): void {
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
    v128.store(param + at, f32x4.sub(p, delta));
    paramSquares = f32x4.add(paramSquares, f32x4.mul(p, p));
    gradSquares = f32x4.add(gradSquares, f32x4.mul(g, g));
    deltaSquares = f32x4.add(deltaSquares, f32x4.mul(delta, delta));
  }
  let paramSum = laneSum(paramSquares);
  let gradSum = laneSum(gradSquares);
  let deltaSum = laneSum(deltaSquares);
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
    store<f32>(param + at, p - delta);
    paramSum += <f64>(p * p);
    gradSum += <f64>(g * g);
    deltaSum += <f64>(delta * delta);
  }
  store<f64>(result, paramSum);
  store<f64>(result, gradSum, 8);
  store<f64>(result, deltaSum, 16);
}
