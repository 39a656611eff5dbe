/**
 * Exploding gradient: the loss, or a layer's weight-gradient norm ‖∂L/∂W‖, grows by orders of
 * magnitude — to at least `growthFactor` (default 100) × the smallest running mean it has had
 * (exponential mean, smoothing EXPLODING_SMOOTHING) — and past an absolute floor (`minLoss`
 * nats, `minGradNorm`), for `minSteps` steps in a row; an overflow to +Infinity counts at once.
 * The floors keep a gradient that recovers from vanishing (1e-7 → 1e-4) from counting as
 * explosive. NaN is not growth: the nan-inf detector reports it.
 */
import { EpisodeTracker } from './episodes.js';
import type { Finding } from './finding.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { formatNumber } from './wording.js';

/** Weight of the newest value in the running mean. */
export const EXPLODING_SMOOTHING = 0.1;

interface ExplodingDetail {
  /** Largest value while the episode held, and the reference it was measured against. */
  peak: number;
  reference: number;
}

/** One quantity's running mean, its smallest value so far and its episodes. */
class GrowthTrack {
  #mean = NaN;
  #smallestMean = Infinity;
  readonly episodes: EpisodeTracker<ExplodingDetail>;

  constructor(minSteps: number) {
    this.episodes = new EpisodeTracker<ExplodingDetail>(minSteps, () => ({ peak: -Infinity, reference: NaN }));
  }

  observe(step: number, value: number, growthFactor: number, floor: number): void {
    const reference = this.#smallestMean;
    const overflow = value === Infinity && Number.isFinite(reference);
    const holds = overflow || (Number.isFinite(value) && value >= floor && value >= growthFactor * reference);
    this.episodes.observe(step, step, holds, overflow);
    const open = this.episodes.open;
    if (open && holds && value > open.detail.peak) open.detail = { peak: value, reference };
    if (!Number.isFinite(value)) return;
    this.#mean = Number.isNaN(this.#mean) ? value : this.#mean + EXPLODING_SMOOTHING * (value - this.#mean);
    this.#smallestMean = Math.min(this.#smallestMean, this.#mean);
  }
}

export class ExplodingGradientDetector implements Detector {
  readonly #thresholds: DiagnosticsConfig['explodingGradient'];
  readonly #loss: GrowthTrack;
  /** Per dense layer. */
  readonly #layers: GrowthTrack[] = [];

  constructor(thresholds: DiagnosticsConfig['explodingGradient']) {
    this.#thresholds = thresholds;
    this.#loss = new GrowthTrack(thresholds.minSteps);
  }

  observe({ step, loss, layers }: StepStatistics): void {
    const { growthFactor, minLoss, minGradNorm, minSteps } = this.#thresholds;
    while (this.#layers.length < layers.length) this.#layers.push(new GrowthTrack(minSteps));
    this.#loss.observe(step, loss, growthFactor, minLoss);
    layers.forEach((layer, index) => this.#layers[index]!.observe(step, layer.gradNorm, growthFactor, minGradNorm));
  }

  findings(): Finding[] {
    const tracks = [{ track: this.#loss, layer: null }, ...this.#layers.map((track, index) => ({ track, layer: index + 1 }))];
    return tracks.flatMap(({ track, layer }) =>
      track.episodes.episodes.map((episode): Finding => {
        const { peak, reference } = episode.detail;
        const what = layer === null ? 'The loss' : `Layer ${layer}'s gradient norm ‖∂L/∂W‖`;
        const growth = Number.isFinite(peak)
          ? `grew to ${formatNumber(peak)}, ${formatNumber(peak / reference)} × its smallest running mean (${formatNumber(reference)})`
          : `overflowed to Infinity from a smallest running mean of ${formatNumber(reference)}`;
        return {
          kind: 'exploding-gradient',
          firstStep: episode.firstStep,
          lastStep: episode.lastStep,
          detectedAtStep: episode.detectedAtStep,
          layer,
          neurons: null,
          neuronSteps: null,
          quantity: layer === null ? 'loss' : 'gradNorm',
          explanation: `${what} ${growth}, from step ${episode.firstStep}${episode.lastStep === null ? '' : ` to ${episode.lastStep}`}.`,
          suggestion: 'The updates overshoot and feed on themselves: lower the learning rate (--lr) by 10×, or use --optimizer adam.',
        };
      }),
    );
  }
}
