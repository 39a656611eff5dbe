/**
 * Scrubbing faster than frames can be drawn: the newest requested value wins, at most one is
 * applied per scheduled tick (an animation frame in the browser), and the ones in between are
 * dropped, never queued.
 */
export class LatestOnly<T> {
  #pending: { value: T } | undefined;
  #scheduled = false;
  /** Requests replaced by a newer one before their tick came. */
  dropped = 0;
  applied = 0;

  constructor(
    private readonly schedule: (tick: () => void) => void,
    private readonly apply: (value: T) => void,
  ) {}

  request(value: T): void {
    if (this.#pending) this.dropped++;
    this.#pending = { value };
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.schedule(() => {
      this.#scheduled = false;
      const pending = this.#pending;
      this.#pending = undefined;
      if (!pending) return;
      this.applied++;
      this.apply(pending.value);
    });
  }

  /** Drops a pending request (the view is going away). */
  cancel(): void {
    this.#pending = undefined;
  }
}
