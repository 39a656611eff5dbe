/** The mean of the last `length` values added (fewer at first); non-finite values count as they are. */
export class TrailingMean {
  readonly #values: Float64Array;
  #added = 0;

  constructor(length: number) {
    this.#values = new Float64Array(length);
  }

  add(value: number): void {
    this.#values[this.#added++ % this.#values.length] = value;
  }

  /** The mean, or undefined before the first value. */
  get mean(): number | undefined {
    const count = Math.min(this.#added, this.#values.length);
    if (count === 0) return undefined;
    let sum = 0;
    for (let index = 0; index < count; index++) sum += this.#values[index]!;
    return sum / count;
  }
}
