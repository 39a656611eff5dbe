/**
 * Per-neuron sustained conditions (dead, saturated): each neuron's condition is tracked step by
 * step; a neuron counts once its condition has held `minSteps` steps in a row, from the first step
 * of that unbroken stretch (its own "since" step: a dead neuron's death step). A layer's episode
 * opens when at least `minFraction` of its neurons (and at least one) count, and ends only when
 * fewer than half that many still do, so that a count hovering at the threshold is one episode.
 */
import { EpisodeTracker, type Episode } from './episodes.js';
import { formatNumber } from './wording.js';

export interface NeuronEpisodeDetail {
  /** Neurons that counted at the latest step the episode held, ascending. */
  neurons: number[];
  /** Per neuron of `neurons`, in the same order: the first step of its unbroken stretch. */
  neuronSteps: number[];
  /** Neurons in the layer. */
  layerSize: number;
}

/**
 * The step from which at least `count` of the neurons were in their stretch, each counted from
 * its own first step: the `count`-th smallest of `neuronSteps` (which must hold that many).
 */
export function thresholdStep(neuronSteps: readonly number[], count: number): number {
  const sorted = Float64Array.from(neuronSteps).sort();
  if (count < 1 || count > sorted.length) throw new RangeError(`thresholdStep: ${count} of ${sorted.length} neurons`);
  return sorted[count - 1]!;
}

/** The median of the steps (the mean of the middle two for an even count); NaN for none. */
export function medianStep(steps: readonly number[]): number {
  const sorted = Float64Array.from(steps).sort();
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The numbers of a dead or saturated finding, exact: "the first at step 1, median death step 22; 13
 * (≥ 10% of the layer) were dead by step 9" (`state` "dead", `onset` "death"). The first and the
 * median are of the neurons listed now; the threshold step is when the finding began, and some of
 * the neurons that made it may have come back since.
 */
export function describeNeuronSteps(
  episode: Episode<NeuronEpisodeDetail>,
  threshold: { minCount: number; minFraction: number },
  state: string,
  onset: string,
): string {
  const { neuronSteps } = episode.detail;
  const first = neuronSteps.reduce((earliest, since) => Math.min(earliest, since), Infinity);
  const share = `≥ ${formatNumber(threshold.minFraction * 100)}% of the layer`;
  return `the first at step ${first}, median ${onset} step ${medianStep(neuronSteps)}; ${threshold.minCount} (${share}) ${threshold.minCount === 1 ? 'was' : 'were'} ${state} by step ${episode.firstStep}`;
}

export class SustainedNeurons {
  /** Per neuron, the step since which its condition has held without a break, or -1. */
  readonly #since: Int32Array;
  readonly #minSteps: number;
  /** Neurons that must count to open an episode, and to keep one open. */
  readonly #minCount: number;
  readonly #keepCount: number;
  #counting = 0;
  #membershipChanged = false;
  readonly #episodes = new EpisodeTracker<NeuronEpisodeDetail>(1, () => ({ neurons: [], neuronSteps: [], layerSize: this.#since.length }));

  constructor(neurons: number, minSteps: number, minFraction: number) {
    this.#since = new Int32Array(neurons).fill(-1);
    this.#minSteps = minSteps;
    this.#minCount = Math.max(1, Math.ceil(minFraction * neurons - 1e-9));
    this.#keepCount = Math.ceil(this.#minCount / 2);
  }

  /** Feeds one neuron's condition at `step`; call for every neuron, then `endStep`. */
  mark(neuron: number, step: number, holds: boolean): void {
    let since = this.#since[neuron]!;
    if (holds) {
      if (since < 0) this.#since[neuron] = since = step;
      if (step - since + 1 === this.#minSteps) {
        this.#counting++;
        this.#membershipChanged = true;
      }
    } else if (since >= 0) {
      // Steps come one at a time, so the stretch that just broke was step − since long.
      if (step - since >= this.#minSteps) {
        this.#counting--;
        this.#membershipChanged = true;
      }
      this.#since[neuron] = -1;
    }
  }

  endStep(step: number): void {
    const episodesBefore = this.#episodes.episodes.length;
    const wasOpen = this.#episodes.open !== undefined;
    this.#episodes.observe(step, step, this.#counting >= (wasOpen ? this.#keepCount : this.#minCount));
    const open = this.#episodes.open;
    if (open && (!wasOpen || this.#membershipChanged)) {
      const neurons: number[] = [];
      const neuronSteps: number[] = [];
      for (let neuron = 0; neuron < this.#since.length; neuron++) {
        const since = this.#since[neuron]!;
        if (since >= 0 && step - since + 1 >= this.#minSteps) {
          neurons.push(neuron);
          neuronSteps.push(since);
        }
      }
      open.detail.neurons = neurons;
      open.detail.neuronSteps = neuronSteps;
      // A new episode starts where the picture shows it: the step from which minCount of the neurons
      // that opened it were in their stretch (so detectedAtStep = firstStep + minSteps − 1), not where
      // the first of them began.
      if (this.#episodes.episodes.length > episodesBefore) open.firstStep = thresholdStep(neuronSteps, this.#minCount);
    }
    this.#membershipChanged = false;
  }

  get neuronCount(): number {
    return this.#since.length;
  }

  /** Neurons that must count to open an episode. */
  get minCount(): number {
    return this.#minCount;
  }

  /** An open episode ends when fewer than this many neurons count. */
  get keepCount(): number {
    return this.#keepCount;
  }

  get episodes(): readonly Episode<NeuronEpisodeDetail>[] {
    return this.#episodes.episodes;
  }
}
