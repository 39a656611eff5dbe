/**
 * Turning a condition observed step after step into episodes: a stretch of at least `minLength`
 * consecutive observations where it holds is an episode, from the stretch's first step to its last.
 * Shared by every detector, so that "sustained" means the same thing everywhere.
 */

/** Episodes one tracker keeps; after that a new stretch extends the last episode instead (bounded memory). */
export const MAX_EPISODES = 8;

export interface Episode<Detail> {
  firstStep: number;
  /** null while the condition still holds. */
  lastStep: number | null;
  detectedAtStep: number;
  /** What the detector keeps about the episode (its extreme value, its neurons), updated while it is open. */
  detail: Detail;
}

export class EpisodeTracker<Detail> {
  readonly #minLength: number;
  readonly #emptyDetail: () => Detail;
  readonly #episodes: Episode<Detail>[] = [];
  /** First step of the current stretch of observations where the condition holds, or -1. */
  #stretchStart = -1;
  #stretchLength = 0;
  #lastHeldStep = -1;

  constructor(minLength: number, emptyDetail: () => Detail) {
    this.#minLength = minLength;
    this.#emptyDetail = emptyDetail;
  }

  /**
   * One observation covering steps [fromStep, toStep] (one step for most detectors, a block of
   * steps for the stalled-loss detector). `immediate` opens an episode without waiting for the
   * stretch to be long enough (an overflow).
   */
  observe(fromStep: number, toStep: number, holds: boolean, immediate = false): void {
    const open = this.open;
    if (!holds) {
      this.#stretchStart = -1;
      this.#stretchLength = 0;
      if (open) open.lastStep = this.#lastHeldStep;
      return;
    }
    if (this.#stretchStart < 0) this.#stretchStart = fromStep;
    this.#stretchLength++;
    this.#lastHeldStep = toStep;
    if (open || (this.#stretchLength < this.#minLength && !immediate)) return;
    const last = this.#episodes.at(-1);
    if (this.#episodes.length >= MAX_EPISODES && last) last.lastStep = null;
    else this.#episodes.push({ firstStep: this.#stretchStart, lastStep: null, detectedAtStep: toStep, detail: this.#emptyDetail() });
  }

  /** The episode still going on, if any. */
  get open(): Episode<Detail> | undefined {
    const last = this.#episodes.at(-1);
    return last && last.lastStep === null ? last : undefined;
  }

  get episodes(): readonly Episode<Detail>[] {
    return this.#episodes;
  }
}
