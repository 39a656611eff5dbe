/**
 * Dead neurons: a ReLU-family hidden neuron (relu, leaky-relu) with z ≤ 0 on every sample of the
 * batch (`fractionActive` 0) and on every probe (probe f(z) ≤ 0) for `minSteps` steps in a row.
 * A dead ReLU passes no signal and gets no gradient, so it rarely comes back (leaky ReLU keeps a
 * 0.01 slope: its "dead" units are stuck, not lost). A layer has a finding while at least
 * `minFraction` of its neurons are dead (default 10%: the default run has a few neurons silent
 * for a while, never that many).
 */
import { ACTIVATION_FUNCTIONS, type Activation } from '../nn/activation.js';
import type { Finding } from './finding.js';
import { SustainedNeurons } from './neuron-stretches.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { countOf } from './wording.js';

export class DeadNeuronsDetector implements Detector {
  readonly #activation: Activation;
  readonly #thresholds: DiagnosticsConfig['deadNeurons'];
  /** Per hidden layer. */
  #layers: SustainedNeurons[] | undefined;

  constructor(activation: Activation, thresholds: DiagnosticsConfig['deadNeurons']) {
    this.#activation = activation;
    this.#thresholds = thresholds;
  }

  observe({ step, layers }: StepStatistics): void {
    if (!ACTIVATION_FUNCTIONS[this.#activation].canDie) return;
    const hidden = layers.slice(0, -1);
    this.#layers ??= hidden.map(
      (layer) => new SustainedNeurons(layer.fractionActive.length, this.#thresholds.minSteps, this.#thresholds.minFraction),
    );
    hidden.forEach(({ fractionActive, probeActivation }, index) => {
      const tracker = this.#layers![index]!;
      const neurons = fractionActive.length;
      const probes = probeActivation.length / neurons;
      for (let neuron = 0; neuron < neurons; neuron++) {
        let inactive = fractionActive[neuron] === 0;
        for (let probe = 0; inactive && probe < probes; probe++) if (probeActivation[probe * neurons + neuron]! > 0) inactive = false;
        tracker.mark(neuron, step, inactive);
      }
      tracker.endStep(step);
    });
  }

  findings(): Finding[] {
    return (this.#layers ?? []).flatMap((tracker, index) =>
      tracker.episodes.map((episode): Finding => {
        const { neurons, layerSize } = episode.detail;
        const fromStart = episode.firstStep === 0;
        return {
          kind: 'dead-neurons',
          firstStep: episode.firstStep,
          lastStep: episode.lastStep,
          detectedAtStep: episode.detectedAtStep,
          layer: index + 1,
          neurons: [...neurons],
          quantity: 'fractionActive',
          explanation:
            `${countOf(neurons.length, layerSize, 'neuron')} in layer ${index + 1} (${this.#activation}) were inactive on every batch sample ` +
            `and every probe for at least ${this.#thresholds.minSteps} steps: dead since step ${episode.firstStep}` +
            `${episode.lastStep === null ? '' : `, until step ${episode.lastStep}`}.`,
          suggestion: fromStart
            ? 'The initial weights leave these neurons off for every input: use random, fan-in scaled weights (--init he).'
            : 'Large updates pushed these neurons off for good: lower the learning rate (--lr), or try --activation leaky-relu.',
        };
      }),
    );
  }
}
