/**
 * Per-neuron sustained conditions (dead, saturated): each neuron's condition is tracked step by
 * step; a neuron counts once its condition has held `minSteps` steps in a row. A layer's episode
 * opens when at least `minFraction` of its neurons (and at least one) count, and ends only when
 * fewer than half that many still do, so that a count hovering at the threshold is one episode.
 */
import { EpisodeTracker, type Episode } from './episodes.js';

export interface NeuronEpisodeDetail {
  /** Neurons that counted at the latest step the episode held, ascending. */
  neurons: number[];
  /** Neurons in the layer. */
  layerSize: number;
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
  readonly #episodes = new EpisodeTracker<NeuronEpisodeDetail>(1, () => ({ neurons: [], layerSize: this.#since.length }));

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
      let earliest = step;
      for (let neuron = 0; neuron < this.#since.length; neuron++) {
        const since = this.#since[neuron]!;
        if (since >= 0 && step - since + 1 >= this.#minSteps) {
          neurons.push(neuron);
          earliest = Math.min(earliest, since);
        }
      }
      open.detail.neurons = neurons;
      // A new episode starts when its first neuron's stretch did, not when enough had counted.
      if (this.#episodes.episodes.length > episodesBefore) open.firstStep = earliest;
    }
    this.#membershipChanged = false;
  }

  get neuronCount(): number {
    return this.#since.length;
  }

  get episodes(): readonly Episode<NeuronEpisodeDetail>[] {
    return this.#episodes.episodes;
  }
}
