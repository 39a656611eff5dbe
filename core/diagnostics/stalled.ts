/**
 * Stalled: the loss is flat while it is not near zero. The batch loss is averaged over blocks of
 * `window` steps (a batch's loss is too noisy to compare step by step); two consecutive block
 * means are flat when they differ by at most `tolerance` of the earlier one and both are at least
 * `minLoss` nats. `windows` flat comparisons in a row make a finding, from the first block of the
 * stretch to the last. A block with a non-finite loss breaks the stretch. O(1) per step.
 */
import { EpisodeTracker } from './episodes.js';
import type { Finding } from './finding.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { formatNumber } from './wording.js';

interface StalledDetail {
  /** Mean loss of the latest flat block. */
  loss: number;
}

export class StalledDetector implements Detector {
  readonly #thresholds: DiagnosticsConfig['stalled'];
  readonly #episodes: EpisodeTracker<StalledDetail>;
  #blockStart = -1;
  #blockSum = 0;
  #blockSteps = 0;
  #previous: { start: number; mean: number } | undefined;
  /** Chance-level loss, ln(classes), for the explanation. */
  #chanceLoss = NaN;

  constructor(thresholds: DiagnosticsConfig['stalled']) {
    this.#thresholds = thresholds;
    this.#episodes = new EpisodeTracker<StalledDetail>(thresholds.windows, () => ({ loss: NaN }));
  }

  observe({ step, loss, layers }: StepStatistics): void {
    const { window, tolerance, minLoss } = this.#thresholds;
    this.#chanceLoss = Math.log(layers.at(-1)!.meanActivation.length);
    if (this.#blockSteps === 0) this.#blockStart = step;
    this.#blockSum += loss;
    this.#blockSteps++;
    if (this.#blockSteps < window) return;
    const mean = this.#blockSum / this.#blockSteps;
    const previous = this.#previous;
    const flat =
      previous !== undefined &&
      Number.isFinite(mean) &&
      Number.isFinite(previous.mean) &&
      Math.min(mean, previous.mean) >= minLoss &&
      Math.abs(mean - previous.mean) <= tolerance * previous.mean;
    this.#episodes.observe(previous?.start ?? this.#blockStart, step, flat);
    const open = this.#episodes.open;
    if (open && flat) open.detail.loss = mean;
    this.#previous = { start: this.#blockStart, mean };
    this.#blockSum = 0;
    this.#blockSteps = 0;
  }

  findings(): Finding[] {
    const { window, tolerance } = this.#thresholds;
    return this.#episodes.episodes.map((episode): Finding => {
      const { loss } = episode.detail;
      const chance = Math.abs(loss - this.#chanceLoss) <= 0.05 * this.#chanceLoss ? ', chance level: the network predicts nothing' : '';
      return {
        kind: 'stalled',
        firstStep: episode.firstStep,
        lastStep: episode.lastStep,
        detectedAtStep: episode.detectedAtStep,
        layer: null,
        neurons: null,
        neuronSteps: null,
        quantity: 'loss',
        explanation:
          `The loss stayed flat at ${formatNumber(loss)} nats${chance} (means of ${window}-step blocks within ${tolerance * 100}% of each other) ` +
          `from step ${episode.firstStep}${episode.lastStep === null ? '' : ` to ${episode.lastStep}`}.`,
        suggestion:
          'Nothing is being learned: see the other findings (dead, saturated units, vanishing gradients); otherwise change the initialisation or raise --lr.',
      };
    });
  }
}
