/**
 * Every detector of training problems, fed one step at a time by the recorder (the writer thread)
 * as it records: cheap (O(neurons × probes) per step at most; the pass over the batch that sigmoid
 * and tanh need is the writer's, once, for `fractionInactive` and the detectors), bounded memory,
 * and a pure `findings()` at any moment. Rules and thresholds: the detectors' files, docs/diagnostics.md.
 */
import type { Activation } from '../nn/activation.js';
import { DeadNeuronsDetector } from './dead-neurons.js';
import { ExplodingGradientDetector } from './exploding-gradient.js';
import { compareFindings, type Finding } from './finding.js';
import { NanInfDetector } from './nan-inf.js';
import { SaturationDetector } from './saturation.js';
import { StalledDetector } from './stalled.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import { DEFAULT_DIAGNOSTICS, type DiagnosticsConfig } from './thresholds.js';
import { VanishingGradientDetector } from './vanishing-gradient.js';

export class Diagnostics {
  readonly #detectors: Detector[];
  #lastStep = -1;

  /**
   * @param activation every hidden layer's activation, or each one's (index 0 = layer 1)
   * @param absent step columns the run does not record (run.json's `source.absent`, e.g. a user's
   *   model.fit seen through callbacks has no batch activations): the detectors that need them are left
   *   out, and the others do not read them
   */
  constructor(
    activation: Activation | readonly Activation[],
    thresholds: DiagnosticsConfig = DEFAULT_DIAGNOSTICS,
    absent: ReadonlySet<string> = new Set(),
  ) {
    const batchActivations = !absent.has('fractionActive');
    const gradients = !absent.has('gradNorm');
    this.#detectors = [
      new NanInfDetector(absent),
      new ExplodingGradientDetector(thresholds.explodingGradient),
      ...(gradients ? [new VanishingGradientDetector(thresholds.vanishingGradient)] : []),
      ...(batchActivations
        ? [new DeadNeuronsDetector(activation, thresholds.deadNeurons), new SaturationDetector(activation, thresholds.saturation)]
        : []),
      new StalledDetector(thresholds.stalled),
    ];
  }

  /** Feeds one step; steps must come in order, one each, from 0 (as the recorder trains them). */
  observe(statistics: StepStatistics): void {
    if (statistics.step !== this.#lastStep + 1) {
      throw new Error(`Diagnostics.observe: expected step ${this.#lastStep + 1}, found step ${statistics.step}`);
    }
    this.#lastStep = statistics.step;
    for (const detector of this.#detectors) detector.observe(statistics);
  }

  /** Every finding so far, by first step. */
  findings(): Finding[] {
    return this.#detectors.flatMap((detector) => detector.findings()).sort(compareFindings);
  }
}
