/** Small vector helpers shared by the kernel's files. */

/** y[0 … width) += x[0 … width). */
export function addInto(y: usize, x: usize, width: i32): void {
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
