/**
 * The sums behind each hidden neuron's batch statistics (core/nn/batch-stats.ts, neuronStats), for
 * the writer thread: over `rows` rows of a layer, in float64 and in row order (the JavaScript loop's
 * order, so the sums are the same bits), two neurons at a time.
 *
 * Writes at `sums` (f64): Σ f(z) [neurons], then the count of z > 0 [neurons], then Σ ∂L/∂z
 * [neurons], then Σ f(z) by the row's class [classes × neurons]. `labels` are i32, one per row.
 */
export function hiddenSums(pre: usize, post: usize, grad: usize, labels: usize, rows: i32, neurons: i32, classes: i32, sums: usize): void {
  const width = (<usize>neurons) << 3;
  const mean = sums;
  const active = sums + width;
  const gradSum = active + width;
  const byClass = gradSum + width;
  memory.fill(sums, 0, width * (3 + <usize>classes));
  const pairEnd = neurons & ~1;
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const rowAt = (<usize>r * <usize>neurons) << 2;
    const classRow = byClass + <usize>load<i32>(labels + ((<usize>r) << 2)) * width;
    for (let j = 0; j < pairEnd; j += 2) {
      const at32 = rowAt + ((<usize>j) << 2);
      const at64 = (<usize>j) << 3;
      const a = f64x2.promote_low_f32x4(v128.load64_zero(post + at32));
      const on = f64x2.promote_low_f32x4(v128.bitselect(one, zero, f32x4.gt(v128.load64_zero(pre + at32), zero)));
      const g = f64x2.promote_low_f32x4(v128.load64_zero(grad + at32));
      v128.store(mean + at64, f64x2.add(v128.load(mean + at64), a));
      v128.store(classRow + at64, f64x2.add(v128.load(classRow + at64), a));
      v128.store(active + at64, f64x2.add(v128.load(active + at64), on));
      v128.store(gradSum + at64, f64x2.add(v128.load(gradSum + at64), g));
    }
    for (let j = pairEnd; j < neurons; j++) {
      const at32 = rowAt + ((<usize>j) << 2);
      const at64 = (<usize>j) << 3;
      const a = <f64>load<f32>(post + at32);
      store<f64>(mean + at64, load<f64>(mean + at64) + a);
      store<f64>(classRow + at64, load<f64>(classRow + at64) + a);
      if (load<f32>(pre + at32) > 0) store<f64>(active + at64, load<f64>(active + at64) + 1);
      store<f64>(gradSum + at64, load<f64>(gradSum + at64) + <f64>load<f32>(grad + at32));
    }
  }
}
