/**
 * Decoded columns read by quantity, with the array type the vocabulary gives each one: the only
 * place that turns a quantity into a column name and narrows a column's values. Readers outside
 * the format module ask `values.get('loss')`, `values.get('meanActivation', layer)`, and get a
 * Float32Array, or undefined where the run does not record that quantity.
 */
import { columnNameOf } from './columns.js';
import type { ColumnValues, NullableValues } from './decode.js';
import type { FileKind, QUANTITIES, QuantityName, QuantityOf } from './quantities.js';

type Spec<Q extends QuantityName> = (typeof QUANTITIES)[Q];

/** The typed array of a quantity's numeric values, from its declared type. */
export type NumbersOf<Q extends QuantityName> = Spec<Q>['type'] extends 'int32'
  ? Int32Array
  : Spec<Q>['type'] extends 'int8'
    ? Int8Array
    : Spec<Q>['type'] extends 'uint8'
      ? Uint8Array
      : Float32Array;

/** The decoded array of a quantity's column, from its declared type and nullability. */
export type ValuesOf<Q extends QuantityName> =
  Spec<Q> extends { nullable: string } ? NullableValues : Spec<Q>['type'] extends 'utf8' ? string[] : NumbersOf<Q>;

export class TypedColumns<F extends FileKind> {
  readonly #columns: Readonly<Record<string, ColumnValues>>;

  constructor(columns: Readonly<Record<string, ColumnValues>>) {
    this.#columns = columns;
  }

  /** A quantity's values over every row (per-layer ones for dense layer `layer`), or undefined when not recorded. */
  get<Q extends QuantityOf<F>>(name: Q, layer?: number): ValuesOf<Q> | undefined {
    return this.#columns[columnNameOf(name, layer)] as ValuesOf<Q> | undefined;
  }

  /** The same columns without those of `names` (every layer's), sharing the arrays. */
  without(names: readonly QuantityOf<F>[]): TypedColumns<F> {
    return this.#select(names, false);
  }

  /** Only the columns of `names` (every layer's), sharing the arrays. */
  only(names: readonly QuantityOf<F>[]): TypedColumns<F> {
    return this.#select(names, true);
  }

  /** The columns whose quantity is (`among` true) or is not one of `names`; `layerK.` prefixes name no quantity. */
  #select(names: readonly QuantityOf<F>[], among: boolean): TypedColumns<F> {
    const listed = new Set<string>(names);
    const kept = Object.entries(this.#columns).filter(([column]) => listed.has(column.replace(/^layer\d+\./, '')) === among);
    return new TypedColumns<F>(Object.fromEntries(kept));
  }

  /** Every column by its name, for tools that work on the file level (re-encoding, comparing two reads). */
  byColumnName(): Readonly<Record<string, ColumnValues>> {
    return this.#columns;
  }

  /** Whether any column is held. */
  get empty(): boolean {
    return Object.keys(this.#columns).length === 0;
  }
}
