/**
 * Saturation: a sigmoid or tanh hidden unit inactive by its rule — f′(z) below
 * `derivativeFraction` of its maximum (sigmoid 0.25, tanh 1) on at least `sampleFraction` of the
 * batch (core/nn/inactive.ts, computed once per step by the writer) — for `minSteps` steps in a
 * row. With the default 5%: sigmoid outputs beyond 0.013…0.987, tanh beyond ±0.975 (|z| > 4.4 and
 * 2.2). Such a unit passes almost no gradient back, whichever bound it sits at. A layer has a
 * finding while at least `minFraction` of its units are saturated; it starts at the step from which
 * that many were, each counted from its own onset, and lists each one's onset step.
 */
import { ACTIVATION_FUNCTIONS, type Activation } from '../nn/activation.js';
import type { Finding } from './finding.js';
import { describeNeuronSteps, SustainedNeurons } from './neuron-stretches.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { countOf, formatNumber } from './wording.js';

export class SaturationDetector implements Detector {
  /** The activation of each hidden layer (index 0 = layer 1). */
  readonly #activationOf: (index: number) => Activation;
  readonly #thresholds: DiagnosticsConfig['saturation'];
  #layers: SustainedNeurons[] | undefined;

  /** @param activation every hidden layer's, or each one's (index 0 = layer 1) */
  constructor(activation: Activation | readonly Activation[], thresholds: DiagnosticsConfig['saturation']) {
    this.#activationOf = typeof activation === 'string' ? () => activation : (index) => activation[index]!;
    this.#thresholds = thresholds;
  }

  observe({ step, layers }: StepStatistics): void {
    const hidden = layers.slice(0, -1);
    this.#layers ??= hidden.map(
      (layer) => new SustainedNeurons(layer.fractionActive.length, this.#thresholds.minSteps, this.#thresholds.minFraction),
    );
    hidden.forEach(({ inactive }, index) => {
      if (ACTIVATION_FUNCTIONS[this.#activationOf(index)].inactiveRule !== 'saturated') return;
      const tracker = this.#layers![index]!;
      for (let neuron = 0; neuron < tracker.neuronCount; neuron++) tracker.mark(neuron, step, inactive![neuron] === 1);
      tracker.endStep(step);
    });
  }

  findings(): Finding[] {
    const { derivativeFraction, sampleFraction, minSteps, minFraction } = this.#thresholds;
    return (this.#layers ?? []).flatMap((tracker, index) =>
      tracker.episodes.map((episode): Finding => {
        const { neurons, neuronSteps, layerSize } = episode.detail;
        const numbers = describeNeuronSteps(episode, { minCount: tracker.minCount, minFraction }, 'saturated', 'onset');
        return {
          kind: 'saturation',
          firstStep: episode.firstStep,
          lastStep: episode.lastStep,
          detectedAtStep: episode.detectedAtStep,
          layer: index + 1,
          neurons: [...neurons],
          neuronSteps: [...neuronSteps],
          quantity: 'activation',
          explanation:
            `${countOf(neurons.length, layerSize, 'unit')} in layer ${index + 1} (${this.#activationOf(index)}) saturated ` +
            `(f′(z) below ${formatNumber(derivativeFraction * 100)}% of its maximum on ≥ ${formatNumber(sampleFraction * 100)}% ` +
            `of the batch for ${minSteps}+ steps in a row): ${numbers}.` +
            (episode.lastStep === null ? '' : ` From step ${episode.lastStep + 1} fewer than ${tracker.keepCount} were saturated.`),
          suggestion:
            'Saturated units pass almost no gradient: scale the initial weights to the fan-in (--init xavier), lower --lr, or use --activation relu.',
        };
      }),
    );
  }
}
