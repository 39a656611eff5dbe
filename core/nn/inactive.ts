/**
 * Which hidden neurons are inactive on a step's batch, by their activation function's rule
 * (activation.ts: `inactiveRule`, `inactiveMeans`). The one implementation behind the recorded
 * `layerK.fractionInactive`, the dead-neuron detector and the saturation detector: the writer
 * computes it once per hidden layer and step and hands the flags to the detectors. Cost: O(neurons)
 * for ReLU and leaky ReLU (from fraction active) and linear; one pass over the batch's f(z),
 * O(batch × neurons), for sigmoid and tanh.
 */
import type { ActivationFunction, SaturationThresholds } from './activation.js';

/** Saturated samples per neuron of the current layer (reused). */
let saturatedSamples = new Int32Array(0);

/**
 * Marks in `inactive` (one byte per neuron, 1 = inactive) the neurons of one hidden layer that are
 * inactive on the batch, and returns how many are. `fractionActive` is the layer's per-neuron
 * fraction of the batch with z > 0; `activation` its f(z), row-major [sample × neuron].
 */
export function markInactive(
  fn: ActivationFunction,
  fractionActive: Float32Array,
  activation: Float32Array,
  thresholds: SaturationThresholds,
  inactive: Uint8Array,
): number {
  const neurons = fractionActive.length;
  let count = 0;
  switch (fn.inactiveRule) {
    case 'never':
      inactive.fill(0, 0, neurons);
      return 0;
    case 'silent':
      // fractionActive is (samples with z > 0) / batch: exactly 0 when no sample has z > 0.
      for (let neuron = 0; neuron < neurons; neuron++) count += inactive[neuron] = fractionActive[neuron] === 0 ? 1 : 0;
      return count;
    case 'saturated': {
      // f′(z) = max − (a − centre)² for sigmoid (¼ − (a − ½)²) and tanh (1 − a²), so f′ < limit ⇔ |a − centre| > √(max − limit).
      const centre = fn.saturationCentre!;
      const distance = Math.sqrt(fn.maxDerivative - thresholds.derivativeFraction * fn.maxDerivative);
      const samples = activation.length / neurons;
      if (!(samples > 0)) {
        inactive.fill(0, 0, neurons);
        return 0;
      }
      if (saturatedSamples.length < neurons) saturatedSamples = new Int32Array(neurons);
      const counts = saturatedSamples;
      counts.fill(0, 0, neurons);
      for (let sample = 0; sample < samples; sample++) {
        const start = sample * neurons;
        for (let neuron = 0; neuron < neurons; neuron++) {
          if (Math.abs(activation[start + neuron]! - centre) > distance) counts[neuron]!++;
        }
      }
      const minSamples = thresholds.sampleFraction * samples;
      for (let neuron = 0; neuron < neurons; neuron++) count += inactive[neuron] = counts[neuron]! >= minSamples ? 1 : 0;
      return count;
    }
  }
}
