import {
  Bool,
  Field,
  Float64,
  Int32,
  List,
  Null,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Struct,
  tableFromIPC,
  Utf8,
  vectorFromArray,
  type DataType,
  type Table,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { probeColumns, stepColumns, weightColumns, type ColumnSpec } from '../core/format/columns.js';
import {
  decodeStream,
  encodeBatchMessage,
  encodeRecordBatch,
  encodeSchemaMessage,
  encodeStream,
  RunFormatError,
  STREAM_END,
  type BatchValues,
} from '../core/format/ipc.js';
import { scanStream, type ColumnValues } from '../core/format/decode.js';
import { RowBuffer } from '../recorder/writer/row-buffer.js';
import { STEP_COLUMNS, validChunk } from './fuzz/targets.js';
import { concatBytes } from './helpers.js';

const columns: ColumnSpec[] = [
  { name: 'step', type: 'int32', unit: 'index', doc: '' },
  { name: 'values', type: 'float32', shape: [2, 3], unit: '', doc: '' },
  { name: 'flags', type: 'uint8', shape: [2], unit: '', doc: '' },
  { name: 'maybe', type: 'float32', nullable: 'row', unit: '', doc: '' },
  { name: 'byClass', type: 'float32', shape: [2, 2], nullable: 'item', unit: '', doc: '' },
  { name: 'reason', type: 'utf8', unit: '', doc: '' },
];

function batch(firstStep: number, rows: number): BatchValues {
  return {
    step: Int32Array.from({ length: rows }, (_, row) => firstStep + row),
    values: Float32Array.from({ length: rows * 6 }, (_, index) => firstStep * 100 + index + 0.25),
    flags: Uint8Array.from({ length: rows * 2 }, (_, index) => (firstStep + index) % 256),
    maybe: {
      values: Float32Array.from({ length: rows }, (_, row) => (row % 2 ? 0 : -row - 0.5)),
      valid: Uint8Array.from({ length: rows }, (_, row) => (row % 2 ? 0 : 1)),
    },
    // Items null in a pattern that crosses rows and bitmap bytes.
    byClass: {
      values: Float32Array.from({ length: rows * 4 }, (_, index) => (index % 3 === 1 ? 0 : firstStep + index / 8)),
      valid: Uint8Array.from({ length: rows * 4 }, (_, index) => (index % 3 === 1 ? 0 : 1)),
    },
    reason: Array.from({ length: rows }, (_, row) => `r${firstStep + row} <b>ü</b>`),
  };
}

describe('Arrow stream encoding', () => {
  it('round-trips every column type exactly across appended batches', () => {
    const bytes = concatBytes(
      encodeSchemaMessage(columns),
      encodeBatchMessage(columns, batch(0, 3), 3),
      encodeBatchMessage(columns, batch(3, 2), 2),
      STREAM_END,
    );
    const decoded = decodeStream('x.arrows', bytes, columns);
    expect(decoded.truncated).toBe(false);
    expect(decoded.rows).toBe(5);
    expect(Array.from(decoded.columns.step as Int32Array)).toEqual([0, 1, 2, 3, 4]);
    const first = batch(0, 3);
    const second = batch(3, 2);
    expect(Array.from(decoded.columns.values as Float32Array)).toEqual([
      ...(first.values as Float32Array),
      ...(second.values as Float32Array),
    ]);
    expect(Array.from(decoded.columns.flags as Uint8Array)).toEqual([...(first.flags as Uint8Array), ...(second.flags as Uint8Array)]);
    const maybe = decoded.columns.maybe as { values: Float32Array; valid: Uint8Array };
    expect(Array.from(maybe.valid)).toEqual([1, 0, 1, 1, 0]);
    expect([maybe.values[0], maybe.values[2], maybe.values[3]]).toEqual([-0.5, -2.5, -0.5]);
    expect(decoded.columns.reason).toEqual(['r0 <b>ü</b>', 'r1 <b>ü</b>', 'r2 <b>ü</b>', 'r3 <b>ü</b>', 'r4 <b>ü</b>']);
    // Item nulls: one validity byte per value, as written, across both batches.
    const byClass = decoded.columns.byClass as { values: Float32Array; valid: Uint8Array };
    const written = [first.byClass, second.byClass] as { values: Float32Array; valid: Uint8Array }[];
    expect(Array.from(byClass.valid)).toEqual(written.flatMap((part) => Array.from(part.valid)));
    expect(Array.from(byClass.values)).toEqual(written.flatMap((part) => Array.from(part.values)));
    expect(byClass.valid.includes(0) && byClass.valid.includes(1)).toBe(true);
  });

  it('writes no item bitmap for a batch without null items, and reads every item as there', () => {
    const spec: ColumnSpec[] = [{ name: 'byClass', type: 'float32', shape: [2], nullable: 'item', unit: '', doc: '' }];
    const all = { byClass: { values: Float32Array.of(1, 2, 3, 4), valid: new Uint8Array(4).fill(1) } };
    const some = { byClass: { values: Float32Array.of(5, 0, 7, 8), valid: Uint8Array.of(1, 0, 1, 1) } };
    const bytes = concatBytes(encodeSchemaMessage(spec), encodeBatchMessage(spec, all, 2), encodeBatchMessage(spec, some, 2), STREAM_END);
    expect(encodeBatchMessage(spec, all, 2).length).toBeLessThan(encodeBatchMessage(spec, some, 2).length);
    const decoded = decodeStream('x.arrows', bytes, spec).columns.byClass as { values: Float32Array; valid: Uint8Array };
    expect(Array.from(decoded.valid)).toEqual([1, 1, 1, 1, 1, 0, 1, 1]);
    expect(rowsOf({ byClass: decoded }, spec)).toEqual(arrowRows(tableFromIPC(bytes), spec));
  });

  it('reads every whole batch of a stream cut at any byte, and flags the cut', () => {
    const head = concatBytes(encodeSchemaMessage(columns), encodeBatchMessage(columns, batch(0, 3), 3));
    const tail = encodeBatchMessage(columns, batch(3, 2), 2);
    const whole = concatBytes(head, tail);
    for (const cut of [head.length + 1, head.length + 8, head.length + Math.floor(tail.length / 2), whole.length - 1]) {
      const decoded = decodeStream('cut.arrows', whole.subarray(0, cut), columns);
      expect(decoded.rows, `cut at ${cut}`).toBe(3);
      expect(decoded.truncated, `cut at ${cut}`).toBe(true);
    }
    // Cut exactly between batches: a growing file, nothing lost, nothing flagged.
    expect(decodeStream('growing.arrows', head, columns)).toMatchObject({ rows: 3, truncated: false });
  });

  it('says where the first record batch ends once its metadata is read, even when its body is cut', () => {
    const schema = encodeSchemaMessage(columns);
    const first = encodeBatchMessage(columns, batch(0, 3), 3);
    const whole = concatBytes(schema, first, encodeBatchMessage(columns, batch(3, 2), 2), STREAM_END);
    const firstEnd = schema.length + first.length;
    const metadataEnd = schema.length + 8 + new DataView(first.buffer, first.byteOffset).getInt32(4, true);
    // Before the batch's metadata is whole, nothing is known of it.
    for (const cut of [0, 7, schema.length, schema.length + 8, metadataEnd - 1]) {
      expect(scanStream(whole.subarray(0, cut)).firstBatchEnd, `cut at ${cut}`).toBeUndefined();
    }
    for (const cut of [metadataEnd, metadataEnd + 5, firstEnd - 1, firstEnd, firstEnd + 9, whole.length]) {
      expect(scanStream(whole.subarray(0, cut)).firstBatchEnd, `cut at ${cut}`).toBe(firstEnd);
    }
    // Damaged metadata says nothing.
    const damaged = whole.slice(0, metadataEnd);
    damaged.fill(0xee, schema.length + 8, metadataEnd);
    expect(scanStream(damaged).firstBatchEnd).toBeUndefined();
  });

  it('names the file and column when the schema is not what it must be', () => {
    const bytes = encodeStream(columns, batch(0, 1), 1);
    const wrongWidth: ColumnSpec[] = [{ ...columns[1]!, shape: [7] }];
    expect(() => decodeStream('w.arrows', bytes, wrongWidth)).toThrowError(
      /w\.arrows: column "values" has type .*expected FixedSizeList<Float32>\[7\]/,
    );
    expect(() => decodeStream('m.arrows', bytes, [{ name: 'loss', type: 'float32', unit: '', doc: '' }])).toThrowError(
      'm.arrows: missing column "loss" (expected Float32)',
    );
    expect(() => decodeStream('g.arrows', new TextEncoder().encode('not arrow at all'), columns)).toThrowError(RunFormatError);
    expect(() => decodeStream('e.arrows', new Uint8Array(0), columns)).toThrowError(/e\.arrows: not an Arrow IPC stream/);
    // The same batch in Arrow's file format (what other tools often write) is named as such.
    const file = RecordBatchFileWriter.writeAll([encodeRecordBatch(columns, batch(0, 2), 2)]).toUint8Array(true);
    expect(() => decodeStream('f.arrow', file, columns)).toThrowError('f.arrow: is an Arrow file, expected an Arrow IPC stream');
  });

  it('reads what apache-arrow reads, stepping over columns of types a run never holds', () => {
    // Columns of other types before and between the run's own, as another Arrow writer could add them.
    const withExtras = (firstStep: number, rows: number) => {
      const ours = encodeRecordBatch(columns, batch(firstStep, rows), rows);
      const extra = (values: unknown[], type: DataType) => vectorFromArray(values as never, type).data[0]!;
      const rowsOf = <T>(make: (row: number) => T) => Array.from({ length: rows }, (_, row) => make(row));
      const children = {
        nothing: extra(
          rowsOf(() => null),
          new Null(),
        ),
        list: extra(
          rowsOf((row) => (row % 3 === 1 ? null : [row, firstStep])),
          new List(new Field('item', new Int32(), true)),
        ),
        ...Object.fromEntries(columns.slice(0, 2).map((spec) => [spec.name, ours.getChild(spec.name)!.data[0]!])),
        struct: extra(
          rowsOf((row) => ({ a: row / 2, b: `s${row}` })),
          new Struct([new Field('a', new Float64(), true), new Field('b', new Utf8(), true)]),
        ),
        flag: extra(
          rowsOf((row) => (row % 2 ? null : row % 4 === 0)),
          new Bool(),
        ),
        ...Object.fromEntries(columns.slice(2).map((spec) => [spec.name, ours.getChild(spec.name)!.data[0]!])),
      };
      return new RecordBatch(children);
    };
    const bytes = RecordBatchStreamWriter.writeAll([withExtras(0, 3), withExtras(3, 5)]).toUint8Array(true);
    const decoded = decodeStream('mixed.arrows', bytes, columns);
    expect(decoded).toMatchObject({ rows: 8, truncated: false });
    expect(rowsOf(decoded.columns, columns)).toEqual(arrowRows(tableFromIPC(bytes), columns));
    // Cut anywhere: the whole batches before the cut, as apache-arrow reads them.
    const schemaEnd = 8 + new DataView(bytes.buffer, bytes.byteOffset).getInt32(4, true);
    for (let cut = schemaEnd; cut < bytes.length; cut += 97) {
      const part = decodeStream('mixed.arrows', bytes.subarray(0, cut), columns);
      const whole = bytes.subarray(0, scanStream(bytes.subarray(0, cut)).wholeBytes);
      expect(rowsOf(part.columns, columns), `cut at ${cut}`).toEqual(arrowRows(tableFromIPC(whole), columns));
    }
    // A recorder's chunk: every step column of a run, nullable held-out loss included.
    const chunk = validChunk(25);
    expect(rowsOf(decodeStream('chunk.arrows', chunk, STEP_COLUMNS).columns, STEP_COLUMNS)).toEqual(
      arrowRows(tableFromIPC(chunk), STEP_COLUMNS),
    );
  });

  it('builds the same batch from a RowBuffer as from whole columns', () => {
    const rows = new RowBuffer(columns, 4);
    const values = batch(10, 3);
    for (let row = 0; row < 3; row++) {
      rows.addRow();
      rows.cell('step', row)[0] = (values.step as Int32Array)[row]!;
      rows.cell('values', row).set((values.values as Float32Array).subarray(row * 6, row * 6 + 6));
      rows.cell('flags', row).set((values.flags as Uint8Array).subarray(row * 2, row * 2 + 2));
      if (row % 2 === 0) rows.cell('maybe', row)[0] = -row - 0.5;
      const byClass = values.byClass as { values: Float32Array; valid: Uint8Array };
      rows.cell('byClass', row).set(byClass.values.subarray(row * 4, row * 4 + 4));
      rows.itemValidity('byClass', row).set(byClass.valid.subarray(row * 4, row * 4 + 4));
      rows.setText('reason', row, (values.reason as string[])[row]!);
    }
    const taken = rows.take();
    expect(encodeBatchMessage(columns, taken.values, taken.rows)).toEqual(encodeBatchMessage(columns, values, 3));
    expect(rows.rows).toBe(0);
  });

  it('declares consistent column sets for a run shape', () => {
    const shape = { inputSize: 784, layerSizes: [128, 64, 10], batchSize: 64, probeCount: 16, classCount: 10, schemaVersion: 2 };
    const names = stepColumns(shape).map((spec) => spec.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('layer3.probeGradPreActivation');
    expect(stepColumns({ ...shape, probeCount: 0 }).map((spec) => spec.name)).not.toContain('layer1.probeActivation');
    expect(weightColumns(784, 128).find((spec) => spec.name === 'weight')?.shape).toEqual([784, 128]);
    expect(probeColumns(784).map((spec) => spec.name)).toEqual(['probe', 'testIndex', 'label', 'input']);
    // Class means are [neuron, class] with item nulls since version 2, absent before.
    const byClass = stepColumns(shape).find((spec) => spec.name === 'layer2.classActivation');
    expect(byClass).toMatchObject({ shape: [64, 10], nullable: 'item', quantity: 'classActivation', layer: 2 });
    expect(stepColumns({ ...shape, schemaVersion: 1 }).map((spec) => spec.name)).not.toContain('layer1.classActivation');
  });
});

/** Decoded columns as rows of plain values: numbers, lists of numbers, strings or null. */
function rowsOf(decoded: Record<string, ColumnValues>, specs: readonly ColumnSpec[]): Record<string, unknown[]> {
  return Object.fromEntries(
    specs.map((spec) => {
      const values = decoded[spec.name]!;
      if (Array.isArray(values)) return [spec.name, values];
      const numbers = 'valid' in values ? values.values : values;
      const width = numbers.length / Math.max(1, rowCount(values));
      const items = (row: number) =>
        Array.from(numbers.subarray(row * width, (row + 1) * width), (value, item) =>
          spec.nullable === 'item' && 'valid' in values && !values.valid[row * width + item] ? null : value,
        );
      const rows = Array.from({ length: rowCount(values) }, (_, row) =>
        spec.nullable === 'row' && 'valid' in values && !values.valid[row] ? null : spec.shape ? items(row) : numbers[row],
      );
      return [spec.name, rows];
    }),
  );
  function rowCount(values: ColumnValues): number {
    if (Array.isArray(values)) return values.length;
    const spec = specs.find((candidate) => decoded[candidate.name] === values)!;
    return ('valid' in values ? values.values.length : values.length) / (spec.shape ? spec.shape.reduce((a, b) => a * b, 1) : 1);
  }
}

/** The same columns as apache-arrow's own reader gives them. */
function arrowRows(table: Table, specs: readonly ColumnSpec[]): Record<string, unknown[]> {
  return Object.fromEntries(
    specs.map((spec) => {
      const column = table.getChild(spec.name)!;
      const rows = Array.from({ length: table.numRows }, (_, row) => {
        const value = column.get(row) as unknown;
        if (value === null || typeof value !== 'object') return value;
        // Iterating a list value gives null for a null item (toArray gives the bytes beneath it).
        return Array.from(value as Iterable<number | null>);
      });
      return [spec.name, rows];
    }),
  );
}
