/**
 * A neuron's mean activation per class over the run, binned to the columns of a picture: each
 * column the mean of its steps (classes absent from a step's batch left out; NaN where absent from
 * all), and the range the picture's colours span.
 */
export function binClassHistory(
  history: Float32Array,
  classes: number,
  columns: number,
): { values: Float32Array; domain: { min: number; max: number } } {
  const steps = classes > 0 ? history.length / classes : 0;
  const values = new Float32Array(columns * classes).fill(Number.NaN);
  let min = Infinity;
  let max = -Infinity;
  for (let column = 0; column < columns && steps > 0; column++) {
    const first = Math.floor((column * steps) / columns);
    const end = Math.max(first + 1, Math.floor(((column + 1) * steps) / columns));
    for (let c = 0; c < classes; c++) {
      let total = 0;
      let count = 0;
      for (let step = first; step < end; step++) {
        const value = history[step * classes + c]!;
        if (!Number.isFinite(value)) continue;
        total += value;
        count++;
      }
      if (count === 0) continue;
      const mean = total / count;
      values[column * classes + c] = mean;
      if (mean < min) min = mean;
      if (mean > max) max = mean;
    }
  }
  return { values, domain: Number.isFinite(min) ? { min, max } : { min: 0, max: 0 } };
}
