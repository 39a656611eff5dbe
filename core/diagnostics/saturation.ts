/**
 * Saturation: a sigmoid or tanh hidden unit whose local derivative f′(z) is below
 * `derivativeFraction` of its maximum (sigmoid 0.25, tanh 1) on at least `sampleFraction` of the
 * batch, for `minSteps` steps in a row. With the default 5%: sigmoid outputs beyond
 * 0.013…0.987, tanh beyond ±0.975 (|z| > 4.4 and 2.2). Such a unit passes almost no gradient back,
 * whichever bound it sits at. A layer has a finding while at least `minFraction` of its units are
 * saturated. Cost: one pass over the batch's f(z), O(batch × neurons), for sigmoid and tanh only.
 */
import { ACTIVATION_FUNCTIONS, type Activation } from '../nn/activation.js';
import type { Finding } from './finding.js';
import { SustainedNeurons } from './neuron-stretches.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { countOf } from './wording.js';

export class SaturationDetector implements Detector {
  readonly #activation: Activation;
  readonly #thresholds: DiagnosticsConfig['saturation'];
  #layers: SustainedNeurons[] | undefined;
  /** Per neuron, saturated samples of the current step (reused). */
  #saturatedSamples = new Int32Array(0);

  constructor(activation: Activation, thresholds: DiagnosticsConfig['saturation']) {
    this.#activation = activation;
    this.#thresholds = thresholds;
  }

  observe({ step, layers }: StepStatistics): void {
    const { maxDerivative, saturationCentre: center } = ACTIVATION_FUNCTIONS[this.#activation];
    if (center === undefined) return;
    // f′(z) is max − (a − centre)² for both (sigmoid ¼ − (a − ½)², tanh 1 − a²), so f′ < limit ⇔ |a − centre| > √(max − limit).
    const derivativeLimit = this.#thresholds.derivativeFraction * maxDerivative;
    const distance = Math.sqrt(maxDerivative - derivativeLimit);
    const hidden = layers.slice(0, -1);
    this.#layers ??= hidden.map(
      (layer) => new SustainedNeurons(layer.meanActivation.length, this.#thresholds.minSteps, this.#thresholds.minFraction),
    );
    hidden.forEach(({ activation }, index) => {
      const tracker = this.#layers![index]!;
      const neurons = tracker.neuronCount;
      if (!activation || activation.length === 0) return;
      const samples = activation.length / neurons;
      if (this.#saturatedSamples.length < neurons) this.#saturatedSamples = new Int32Array(neurons);
      const counts = this.#saturatedSamples;
      counts.fill(0, 0, neurons);
      for (let sample = 0; sample < samples; sample++) {
        const start = sample * neurons;
        for (let neuron = 0; neuron < neurons; neuron++) {
          if (Math.abs(activation[start + neuron]! - center) > distance) counts[neuron]!++;
        }
      }
      const minSamples = this.#thresholds.sampleFraction * samples;
      for (let neuron = 0; neuron < neurons; neuron++) tracker.mark(neuron, step, counts[neuron]! >= minSamples);
      tracker.endStep(step);
    });
  }

  findings(): Finding[] {
    const { derivativeFraction, sampleFraction, minSteps } = this.#thresholds;
    return (this.#layers ?? []).flatMap((tracker, index) =>
      tracker.episodes.map((episode): Finding => ({
        kind: 'saturation',
        firstStep: episode.firstStep,
        lastStep: episode.lastStep,
        detectedAtStep: episode.detectedAtStep,
        layer: index + 1,
        neurons: [...episode.detail.neurons],
        quantity: 'activation',
        explanation:
          `${countOf(episode.detail.neurons.length, episode.detail.layerSize, 'unit')} in layer ${index + 1} (${this.#activation}) sat near ` +
          `their bounds, f′(z) below ${derivativeFraction * 100}% of its maximum on ≥ ${sampleFraction * 100}% of the batch, ` +
          `for at least ${minSteps} steps from step ${episode.firstStep}${episode.lastStep === null ? '' : ` to ${episode.lastStep}`}.`,
        suggestion:
          'Saturated units pass almost no gradient: scale the initial weights to the fan-in (--init xavier), lower --lr, or use --activation relu.',
      })),
    );
  }
}
