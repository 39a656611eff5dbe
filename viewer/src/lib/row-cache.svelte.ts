/**
 * The large per-step rows of the step chunks used last: the per-neuron values, the probes' per-neuron
 * values (26 of the default network's 41 kB a step), the mean activations by class (10 kB), the
 * batch's mean input. A long run keeps every
 * step's statistics, and these rows only for the `capacity` chunks used last; a chunk whose rows
 * were dropped is read again when a view wants them.
 *
 * Reading is explicit: views read `get` in derivations (a pure read), and say what they will need
 * with `want` from an effect or an event, which marks the chunk used and starts a read if needed.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { StepChunk } from '$core/format/reader';
import type { QuantityOf } from '$core/format/quantities';
import type { TypedColumns } from '$core/format/typed-columns';

/** Step chunks that keep their rows. */
export const HOT_CHUNKS = 8;

export class RowCache {
  /**
   * Rows per chunk index. A reader of one chunk's rows updates when those change only, not when
   * another chunk's arrive (a long run's load puts thousands); the rows themselves are never mutated.
   */
  readonly #rows = new SvelteMap<number, TypedColumns<'steps'>>();
  /** Chunk indices held, least recently wanted first (bookkeeping, not reactive). */
  #order: number[] = [];
  /** The chunk being read again, and those wanted next: one read at a time, the newest wish wins. */
  #reading: number | undefined;
  #wanted: StepChunk[] = [];
  /** Chunks that could not be read again (their problem is reported once): not tried again until fresh rows arrive. */
  #unreadable = new Set<number>();
  /** Chunks held at most: a number, or asked each time (it may depend on the run's chunk size). */
  readonly #capacity: number | (() => number);
  readonly #read: (index: number) => Promise<StepChunk>;
  readonly #onProblem: (message: string) => void;
  /** The quantities held here rather than in the chunks. */
  readonly quantities: readonly QuantityOf<'steps'>[];

  constructor(
    quantities: readonly QuantityOf<'steps'>[],
    read: (index: number) => Promise<StepChunk>,
    onProblem: (message: string) => void,
    capacity: number | (() => number) = HOT_CHUNKS,
  ) {
    this.quantities = quantities;
    this.#read = read;
    this.#onProblem = onProblem;
    this.#capacity = capacity;
  }

  /** The rows of chunk `index`, if held. */
  get(index: number): TypedColumns<'steps'> | undefined {
    return this.#rows.get(index);
  }

  /** Which chunks hold their rows (for tests). */
  get held(): number[] {
    return [...this.#rows.keys()];
  }

  /** Holds a chunk's rows as the one used last; the chunk used longest ago beyond the capacity drops its rows. */
  put(index: number, rows: TypedColumns<'steps'>): void {
    this.#rows.set(index, rows);
    this.#touch(index);
    const capacity = typeof this.#capacity === 'number' ? this.#capacity : this.#capacity();
    while (this.#order.length > capacity) this.#rows.delete(this.#order.shift()!);
    // Fresh rows (a growing chunk read again by the loader): the chunk is readable after all.
    this.#unreadable.delete(index);
  }

  /**
   * Marks `chunks` used, the last one used last, and reads again, one at a time, those whose rows were
   * dropped (the readers update as they arrive). A wish replaces the chunks of an earlier one not read yet.
   */
  want(chunks: readonly StepChunk[]): void {
    for (const chunk of chunks) if (this.#rows.has(chunk.index)) this.#touch(chunk.index);
    this.#wanted = chunks.filter((chunk) => !this.#rows.has(chunk.index) && !this.#unreadable.has(chunk.index));
    this.#readWanted();
  }

  #touch(index: number): void {
    const at = this.#order.indexOf(index);
    if (at >= 0) this.#order.splice(at, 1);
    this.#order.push(index);
  }

  #readWanted(): void {
    if (this.#reading !== undefined) return;
    const chunk = this.#wanted.find((wanted) => !this.#rows.has(wanted.index));
    this.#wanted = chunk ? this.#wanted.filter((wanted) => wanted !== chunk) : [];
    if (!chunk) return;
    const { index } = chunk;
    this.#reading = index;
    this.#read(index)
      .then((again) => {
        // Rows that arrived meanwhile (the loader reading a growing chunk of a live run) are newer: keep them.
        if (this.#rows.has(index)) return;
        // A file that now holds more rows (a live run) gives its first ones at the same places; one that
        // holds fewer is refused by the read function.
        this.put(index, again.values.only(this.quantities));
      })
      .catch((error: unknown) => {
        this.#unreadable.add(index);
        this.#onProblem(error instanceof Error ? error.message : String(error));
      })
      .finally(() => {
        this.#reading = undefined;
        this.#readWanted();
      });
  }
}
