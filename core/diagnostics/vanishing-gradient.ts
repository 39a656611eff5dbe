/**
 * Vanishing gradient: layer k's weight-gradient norm ‖∂L/∂W_k‖ stays far below the next layer's —
 * below `ratio` × ‖∂L/∂W_{k+1}‖ (default 0.1, one order of magnitude) — or near zero (below
 * `nearZero`) while some later layer's is not, for `minSteps` steps in a row. The output layer
 * has no layer after it and is never reported. When every layer's gradient is zero (all units
 * dead, as with all-zero weights) nothing flows anywhere; that is reported as dead neurons, not
 * here. The default run's lower layers have larger gradient norms than the upper ones (ratios
 * 1.3–2), a deep sigmoid network with small weights about 0.02–0.05 per layer.
 */
import { EpisodeTracker } from './episodes.js';
import type { Finding } from './finding.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import type { DiagnosticsConfig } from './thresholds.js';
import { formatNumber } from './wording.js';

interface VanishingDetail {
  /** Smallest ‖∂L/∂W_k‖ / ‖∂L/∂W_{k+1}‖ while the episode held, and the two norms then. */
  ratio: number;
  gradNorm: number;
  nextGradNorm: number;
}

export class VanishingGradientDetector implements Detector {
  readonly #thresholds: DiagnosticsConfig['vanishingGradient'];
  /** Per layer that has a layer after it. */
  #trackers: EpisodeTracker<VanishingDetail>[] = [];

  constructor(thresholds: DiagnosticsConfig['vanishingGradient']) {
    this.#thresholds = thresholds;
  }

  observe({ step, layers }: StepStatistics): void {
    const { ratio, nearZero, minSteps } = this.#thresholds;
    while (this.#trackers.length < layers.length - 1) {
      this.#trackers.push(new EpisodeTracker<VanishingDetail>(minSteps, () => ({ ratio: Infinity, gradNorm: NaN, nextGradNorm: NaN })));
    }
    let laterMax = layers.at(-1)!.gradNorm;
    for (let index = layers.length - 2; index >= 0; index--) {
      const gradNorm = layers[index]!.gradNorm;
      const nextGradNorm = layers[index + 1]!.gradNorm;
      const finite = Number.isFinite(gradNorm) && Number.isFinite(nextGradNorm) && Number.isFinite(laterMax);
      const farBelow = nextGradNorm > 0 && gradNorm < ratio * nextGradNorm;
      const nearlyZero = gradNorm < nearZero && laterMax >= nearZero;
      const holds = finite && (farBelow || nearlyZero);
      const tracker = this.#trackers[index]!;
      tracker.observe(step, step, holds);
      const open = tracker.open;
      const stepRatio = nextGradNorm > 0 ? gradNorm / nextGradNorm : 0;
      if (open && holds && stepRatio < open.detail.ratio) open.detail = { ratio: stepRatio, gradNorm, nextGradNorm };
      laterMax = Math.max(laterMax, gradNorm);
    }
  }

  findings(): Finding[] {
    const { ratio, minSteps } = this.#thresholds;
    return this.#trackers.flatMap((tracker, index) =>
      tracker.episodes.map((episode): Finding => {
        const layer = index + 1;
        const { gradNorm, nextGradNorm } = episode.detail;
        return {
          kind: 'vanishing-gradient',
          firstStep: episode.firstStep,
          lastStep: episode.lastStep,
          detectedAtStep: episode.detectedAtStep,
          layer,
          neurons: null,
          neuronSteps: null,
          quantity: 'gradNorm',
          explanation:
            `Layer ${layer}'s gradient norm ‖∂L/∂W‖ stayed below ${ratio} × layer ${layer + 1}'s (or near zero) for at least ${minSteps} steps ` +
            `from step ${episode.firstStep}; at its smallest ${formatNumber(gradNorm)} against ${formatNumber(nextGradNorm)}.`,
          suggestion:
            'The gradient shrinks on its way down: use ReLU-family activations with --init he (or --init xavier for sigmoid/tanh), or fewer layers.',
        };
      }),
    );
  }
}
