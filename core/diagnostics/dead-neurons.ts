/**
 * Dead neurons: a ReLU-family hidden neuron (relu, leaky-relu) inactive by its rule — z ≤ 0 on
 * every sample of the batch (`fractionActive` 0) — and on every probe (probe f(z) ≤ 0) for
 * `minSteps` steps in a row; it died at the first of them. A dead ReLU passes no signal and gets no
 * gradient, so it rarely comes back (leaky ReLU keeps a 0.01 slope: its "dead" units are stuck, not
 * lost). A layer has a finding while at least `minFraction` of its neurons are dead (default 10%: the
 * default run has a few neurons silent for a while, never that many); it starts at the step from
 * which that many were dead, each counted from its own death step, and lists each one's death step.
 */
import { ACTIVATION_FUNCTIONS, type Activation } from '../nn/activation.js';
import type { Finding } from './finding.js';
import { describeNeuronSteps, medianStep, SustainedNeurons } from './neuron-stretches.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { countOf } from './wording.js';

export class DeadNeuronsDetector implements Detector {
  /** The activation of each hidden layer (index 0 = layer 1). */
  readonly #activationOf: (index: number) => Activation;
  readonly #thresholds: DiagnosticsConfig['deadNeurons'];
  /** Per hidden layer. */
  #layers: SustainedNeurons[] | undefined;

  /** @param activation every hidden layer's, or each one's (index 0 = layer 1) */
  constructor(activation: Activation | readonly Activation[], thresholds: DiagnosticsConfig['deadNeurons']) {
    this.#activationOf = typeof activation === 'string' ? () => activation : (index) => activation[index]!;
    this.#thresholds = thresholds;
  }

  observe({ step, layers }: StepStatistics): void {
    const hidden = layers.slice(0, -1);
    this.#layers ??= hidden.map(
      (layer) => new SustainedNeurons(layer.fractionActive.length, this.#thresholds.minSteps, this.#thresholds.minFraction),
    );
    hidden.forEach(({ inactive, probeActivation }, index) => {
      if (!ACTIVATION_FUNCTIONS[this.#activationOf(index)].canDie) return;
      const tracker = this.#layers![index]!;
      const neurons = tracker.neuronCount;
      const probes = probeActivation.length / neurons;
      for (let neuron = 0; neuron < neurons; neuron++) {
        let dead = inactive![neuron] === 1;
        for (let probe = 0; dead && probe < probes; probe++) if (probeActivation[probe * neurons + neuron]! > 0) dead = false;
        tracker.mark(neuron, step, dead);
      }
      tracker.endStep(step);
    });
  }

  findings(): Finding[] {
    const { minSteps, minFraction } = this.#thresholds;
    return (this.#layers ?? []).flatMap((tracker, index) =>
      tracker.episodes.map((episode): Finding => {
        const { neurons, neuronSteps, layerSize } = episode.detail;
        // Most of them dead from the first step: the initial weights, not the training, switched them off.
        const fromStart = medianStep(neuronSteps) === 0;
        const numbers = describeNeuronSteps(episode, { minCount: tracker.minCount, minFraction }, 'dead', 'death');
        return {
          kind: 'dead-neurons',
          firstStep: episode.firstStep,
          lastStep: episode.lastStep,
          detectedAtStep: episode.detectedAtStep,
          layer: index + 1,
          neurons: [...neurons],
          neuronSteps: [...neuronSteps],
          quantity: 'fractionActive',
          explanation:
            `${countOf(neurons.length, layerSize, 'neuron')} in layer ${index + 1} (${this.#activationOf(index)}) died ` +
            `(inactive on every batch sample and every probe for ${minSteps}+ steps in a row): ${numbers}.` +
            (episode.lastStep === null ? '' : ` From step ${episode.lastStep + 1} fewer than ${tracker.keepCount} were dead.`),
          suggestion: fromStart
            ? 'The initial weights leave these neurons off for every input: use random, fan-in scaled weights (--init he).'
            : 'Large updates pushed these neurons off for good: lower the learning rate (--lr), or try --activation leaky-relu.',
        };
      }),
    );
  }
}
