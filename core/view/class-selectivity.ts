/**
 * Which class a neuron prefers and how selective it is, from its mean activation per class.
 *
 * Selectivity is Morcos et al.'s class selectivity index (ICLR 2018), (μ_max − μ_rest) / (μ_max +
 * μ_rest), computed on the class means shifted so that the class that drives the neuron least reads
 * zero: μ_max is the preferred class's mean, μ_rest the mean of the other classes' means, μ_min the
 * smallest. 0: every class drives it alike; 1: one class drives it and every other class leaves it
 * at its floor. The shift makes the index mean the same for every activation function (a tanh or
 * leaky-ReLU unit has negative outputs; for ReLU and softmax the floor is ~0 and it is Morcos's own).
 */

export interface ClassPreference {
  /** Per neuron: the class with the largest mean activation (0 where no class was seen). */
  preferred: Uint8Array;
  /** Per neuron: the selectivity index in [0, 1] (NaN where fewer than two classes were seen). */
  selectivity: Float32Array;
}

/** @param means [neuron × class]; @param valid per class, 1 where its mean exists */
export function classPreference(means: Float32Array, valid: Uint8Array, neurons: number): ClassPreference {
  const classes = valid.length;
  const preferred = new Uint8Array(neurons);
  const selectivity = new Float32Array(neurons);
  for (let neuron = 0; neuron < neurons; neuron++) {
    let max = -Infinity;
    let min = Infinity;
    let total = 0;
    let seen = 0;
    let best = 0;
    for (let c = 0; c < classes; c++) {
      if (!valid[c]) continue;
      const mean = means[neuron * classes + c]!;
      if (mean > max) {
        max = mean;
        best = c;
      }
      if (mean < min) min = mean;
      total += mean;
      seen++;
    }
    preferred[neuron] = best;
    if (seen < 2 || !Number.isFinite(total)) {
      selectivity[neuron] = Number.NaN;
      continue;
    }
    const rest = (total - max) / (seen - 1);
    const spread = max + rest - 2 * min;
    selectivity[neuron] = spread > 0 ? (max - rest) / spread : 0;
  }
  return { preferred, selectivity };
}
