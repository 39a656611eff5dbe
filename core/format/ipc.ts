/**
 * Arrow IPC stream encoding of record batches described by `ColumnSpec`s, with apache-arrow.
 *
 * A run's files are Arrow *stream* files written one record batch at a time, so a file that is
 * still growing (or whose writer was killed) can be read up to its last whole batch. The writer
 * appends `encodeSchemaMessage` once, then `encodeBatchMessage` per batch, then `STREAM_END`.
 * Reading them is decode.ts (re-exported here).
 */
import {
  Data,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int8,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  Uint8,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { columnWidth, type ColumnSpec, type ValueType } from './columns.js';
import type { BatchValues, ColumnValues, NullableValues } from './decode.js';

export {
  decodeStream,
  describeType,
  RunFormatError,
  scanStream,
  type BatchValues,
  type ColumnValues,
  type DecodedStream,
  type NullableValues,
  type NumericArray,
} from './decode.js';

/** End-of-stream marker: continuation token followed by a zero metadata length. */
export const STREAM_END = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function scalarType(type: ValueType): DataType {
  switch (type) {
    case 'float32':
      return new Float32();
    case 'int32':
      return new Int32();
    case 'int8':
      return new Int8();
    case 'uint8':
      return new Uint8();
    case 'utf8':
      return new Utf8();
  }
}

function fieldType(spec: ColumnSpec): DataType {
  const item = scalarType(spec.type);
  return spec.shape ? new FixedSizeList(columnWidth(spec), new Field('item', item, spec.nullable === 'item')) : item;
}

export function schemaOf(columns: readonly ColumnSpec[]): Schema {
  return new Schema(columns.map((spec) => new Field(spec.name, fieldType(spec), spec.nullable === 'row')));
}

function isNullable(values: ColumnValues): values is NullableValues {
  return !Array.isArray(values) && 'valid' in values;
}

function columnData(spec: ColumnSpec, values: ColumnValues | undefined, rows: number, type: DataType): Data {
  if (values === undefined) throw new Error(`encodeRecordBatch: no values for column "${spec.name}"`);
  if (spec.type === 'utf8') {
    if (!Array.isArray(values)) throw new Error(`encodeRecordBatch: column "${spec.name}" expects strings`);
    const encoder = new TextEncoder();
    const encoded = values.map((text) => encoder.encode(text));
    const valueOffsets = new Int32Array(rows + 1);
    encoded.forEach((bytes, row) => (valueOffsets[row + 1] = valueOffsets[row]! + bytes.length));
    const data = new Uint8Array(valueOffsets[rows]!);
    encoded.forEach((bytes, row) => data.set(bytes, valueOffsets[row]!));
    return makeData({ type: type as Utf8, length: rows, valueOffsets, data });
  }
  if (Array.isArray(values)) throw new Error(`encodeRecordBatch: column "${spec.name}" expects numbers`);
  const numbers = isNullable(values) ? values.values : values;
  const width = columnWidth(spec);
  if (numbers.length !== rows * width) {
    throw new Error(
      `encodeRecordBatch: column "${spec.name}" needs ${rows * width} values (${rows} rows × ${width}), got ${numbers.length}`,
    );
  }
  if (spec.shape) {
    // A batch with no null item needs no bitmap (Arrow allows leaving it out when the null count is 0).
    const itemBitmap =
      isNullable(values) && spec.nullable === 'item' && values.valid.subarray(0, rows * width).includes(0)
        ? packBits(values.valid, rows * width)
        : undefined;
    const child = makeData({
      type: scalarType(spec.type) as Float32,
      length: rows * width,
      data: numbers as Float32Array,
      ...(itemBitmap ? { nullBitmap: itemBitmap } : {}),
    });
    return makeData({ type: type as FixedSizeList, length: rows, child });
  }
  const nullBitmap = isNullable(values) ? packBits(values.valid, rows) : undefined;
  return makeData({ type: type as Float32, length: rows, data: numbers as Float32Array, ...(nullBitmap ? { nullBitmap } : {}) });
}

/** Arrow's validity bitmap (LSB first) of one byte per value. */
function packBits(valid: Uint8Array, count: number): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(count / 8));
  for (let index = 0; index < count; index++) if (valid[index]) bitmap[index >> 3]! |= 1 << (index & 7);
  return bitmap;
}

export function encodeRecordBatch(columns: readonly ColumnSpec[], values: BatchValues, rows: number): RecordBatch {
  const schema = schemaOf(columns);
  const children = columns.map((spec, index) => columnData(spec, values[spec.name], rows, schema.fields[index]!.type));
  const struct = makeData({ type: new Struct(schema.fields), length: rows, children });
  return new RecordBatch(schema, struct);
}

function messageLength(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  if (view.getUint32(0, true) !== 0xffffffff) throw new Error('Arrow stream message does not start with a continuation token');
  return 8 + view.getInt32(4, true);
}

/** The stream's first message: the schema. */
export function encodeSchemaMessage(columns: readonly ColumnSpec[]): Uint8Array {
  const emptyValues = Object.fromEntries(
    columns.map((spec) => [
      spec.name,
      spec.type === 'utf8' ? [] : spec.nullable ? { values: new Float32Array(0), valid: new Uint8Array(0) } : new Float32Array(0),
    ]),
  );
  const stream = RecordBatchStreamWriter.writeAll(new Table([encodeRecordBatch(columns, emptyValues as BatchValues, 0)])).toUint8Array(
    true,
  );
  return stream.slice(0, messageLength(stream, 0));
}

/**
 * A stream writer that leaves out the schema message, for batches appended to a stream whose
 * schema is already written: encoding the schema again cost as much as the batch.
 */
class BatchMessageWriter extends RecordBatchStreamWriter {
  protected override _writeSchema(): this {
    return this;
  }
}

/** One record batch message (metadata and body), to append after the schema message. */
export function encodeBatchMessage(columns: readonly ColumnSpec[], values: BatchValues, rows: number): Uint8Array {
  const stream = new BatchMessageWriter().writeAll(new Table([encodeRecordBatch(columns, values, rows)])).toUint8Array(true);
  return stream.subarray(0, stream.length - STREAM_END.length);
}

/** A whole stream file holding one batch, with its end marker. */
export function encodeStream(columns: readonly ColumnSpec[], values: BatchValues, rows: number): Uint8Array {
  return RecordBatchStreamWriter.writeAll(new Table([encodeRecordBatch(columns, values, rows)])).toUint8Array(true);
}
