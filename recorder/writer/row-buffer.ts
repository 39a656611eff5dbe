/** Rows of a stream file accumulated column by column until they are flushed as one record batch. */
import { columnNameOf, columnWidth, type ColumnSpec } from '../../core/format/columns.js';
import type { QuantityName } from '../../core/format/quantities.js';
import type { NumbersOf } from '../../core/format/typed-columns.js';
import type { BatchValues, NumericArray } from '../../core/format/ipc.js';

const MAKE = {
  float32: (length: number) => new Float32Array(length),
  int32: (length: number) => new Int32Array(length),
  int8: (length: number) => new Int8Array(length),
  uint8: (length: number) => new Uint8Array(length),
};

export class RowBuffer {
  readonly #columns: readonly ColumnSpec[];
  readonly #capacity: number;
  readonly #numeric = new Map<string, { values: NumericArray; width: number; valid?: Uint8Array; itemNulls?: boolean }>();
  readonly #text = new Map<string, string[]>();
  #rows = 0;

  constructor(columns: readonly ColumnSpec[], capacity: number) {
    this.#columns = columns;
    this.#capacity = capacity;
    for (const spec of columns) {
      if (spec.type === 'utf8') this.#text.set(spec.name, []);
      else {
        const width = columnWidth(spec);
        this.#numeric.set(spec.name, {
          values: MAKE[spec.type](capacity * width),
          width,
          // Row nulls: a byte per row; item nulls: a byte per value.
          ...(spec.nullable
            ? { valid: new Uint8Array(spec.nullable === 'item' ? capacity * width : capacity), itemNulls: spec.nullable === 'item' }
            : {}),
        });
      }
    }
  }

  get rows(): number {
    return this.#rows;
  }

  get full(): boolean {
    return this.#rows === this.#capacity;
  }

  /** Starts a new row; returns its index. Row-nullable columns start null; item-nullable ones with every item there. */
  addRow(): number {
    if (this.full) throw new Error('RowBuffer: full, flush first');
    for (const column of this.#numeric.values()) {
      if (!column.valid) continue;
      if (column.itemNulls) column.valid.fill(1, this.#rows * column.width, (this.#rows + 1) * column.width);
      else column.valid[this.#rows] = 0;
    }
    return this.#rows++;
  }

  #column(name: string) {
    const column = this.#numeric.get(name);
    if (!column) throw new Error(`RowBuffer: no numeric column "${name}"`);
    return column;
  }

  /** The writable values of one column at one row (width values); a row-nullable row becomes valid. */
  cell(name: string, row: number): NumericArray {
    const column = this.#column(name);
    if (column.valid && !column.itemNulls) column.valid[row] = 1;
    return column.values.subarray(row * column.width, (row + 1) * column.width);
  }

  /** `cell` of the column that records a vocabulary quantity (per-layer ones for dense layer `layer`). */
  quantityCell<Q extends QuantityName>(name: Q, row: number, layer?: number): NumbersOf<Q> {
    return this.cell(columnNameOf(name, layer), row) as NumbersOf<Q>;
  }

  /** The writable validity of an item-nullable column's values at one row: 1 where a value is there. */
  itemValidity(name: string, row: number): Uint8Array {
    const column = this.#column(name);
    if (!column.itemNulls) throw new Error(`RowBuffer: column "${name}" has no item nulls`);
    return column.valid!.subarray(row * column.width, (row + 1) * column.width);
  }

  setText(name: string, row: number, text: string): void {
    const column = this.#text.get(name);
    if (!column) throw new Error(`RowBuffer: no text column "${name}"`);
    column[row] = text;
  }

  /**
   * The buffered rows, as values for `encodeBatchMessage`; then empties the buffer. The numbers are
   * views of the buffer's own arrays (not copies), valid until the next `addRow`: encode them first.
   */
  take(): { values: BatchValues; rows: number } {
    const rows = this.#rows;
    const values: BatchValues = {};
    for (const spec of this.#columns) {
      const text = this.#text.get(spec.name);
      if (text) {
        values[spec.name] = text.slice(0, rows);
        continue;
      }
      const column = this.#numeric.get(spec.name)!;
      const numbers = column.values.subarray(0, rows * column.width);
      values[spec.name] = column.valid
        ? { values: numbers as Float32Array, valid: column.valid.subarray(0, column.itemNulls ? rows * column.width : rows) }
        : numbers;
    }
    this.#rows = 0;
    for (const text of this.#text.values()) text.length = 0;
    return { values, rows };
  }
}
