/**
 * Arrow IPC stream encoding and decoding of record batches described by `ColumnSpec`s.
 *
 * A run's files are Arrow *stream* files written one record batch at a time, so a file that is
 * still growing (or whose writer was killed) can be read up to its last whole batch. The writer
 * appends `encodeSchemaMessage` once, then `encodeBatchMessage` per batch, then `STREAM_END`.
 */
import {
  Data,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  MessageReader,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  Uint8,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { Field as FieldTable } from 'apache-arrow/fb/field';
import { Message as MessageTable } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as RecordBatchTable } from 'apache-arrow/fb/record-batch';
import { Schema as SchemaTable } from 'apache-arrow/fb/schema';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { ByteBuffer } from 'flatbuffers';
import { columnWidth, type ColumnSpec, type ValueType } from './columns.js';

export type NumericArray = Float32Array | Int32Array | Uint8Array;

/** Values of one column over some rows: numbers (row-major, width per row) or strings. */
export type ColumnValues = NumericArray | string[] | NullableValues;

/** A nullable column: `valid[row]` is 1 where the row has a value. */
export interface NullableValues {
  values: Float32Array;
  valid: Uint8Array;
}

export type BatchValues = Record<string, ColumnValues>;

/** End-of-stream marker: continuation token followed by a zero metadata length. */
export const STREAM_END = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

export class RunFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'RunFormatError';
  }
}

function scalarType(type: ValueType): DataType {
  switch (type) {
    case 'float32':
      return new Float32();
    case 'int32':
      return new Int32();
    case 'uint8':
      return new Uint8();
    case 'utf8':
      return new Utf8();
  }
}

function fieldType(spec: ColumnSpec): DataType {
  const item = scalarType(spec.type);
  return spec.shape ? new FixedSizeList(columnWidth(spec), new Field('item', item, false)) : item;
}

export function describeType(spec: ColumnSpec): string {
  const item = { float32: 'Float32', int32: 'Int32', uint8: 'Uint8', utf8: 'Utf8' }[spec.type];
  return spec.shape ? `FixedSizeList<${item}>[${columnWidth(spec)}]` : item;
}

export function schemaOf(columns: readonly ColumnSpec[]): Schema {
  return new Schema(columns.map((spec) => new Field(spec.name, fieldType(spec), spec.nullable ?? false)));
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
    const child = makeData({ type: scalarType(spec.type) as Float32, length: rows * width, data: numbers as Float32Array });
    return makeData({ type: type as FixedSizeList, length: rows, child });
  }
  const nullBitmap = isNullable(values) ? packBits(values.valid, rows) : undefined;
  return makeData({ type: type as Float32, length: rows, data: numbers as Float32Array, ...(nullBitmap ? { nullBitmap } : {}) });
}

function packBits(valid: Uint8Array, rows: number): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(rows / 8));
  for (let row = 0; row < rows; row++) if (valid[row]) bitmap[row >> 3]! |= 1 << (row & 7);
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

/** Columns decoded from a stream file, concatenated over its batches. */
export interface DecodedStream {
  rows: number;
  columns: Record<string, ColumnValues>;
  /** True when the file ends inside a message: a writer was stopped mid-write or the file was cut. */
  truncated: boolean;
  /** Why reading stopped early, when `truncated`. */
  truncation?: string;
}

function checkSchema(file: string, schema: Schema, columns: readonly ColumnSpec[]): void {
  const expected = schemaOf(columns);
  for (const [index, spec] of columns.entries()) {
    const found = schema.fields.find((field) => field.name === spec.name);
    if (!found) throw new RunFormatError(file, `missing column "${spec.name}" (expected ${describeType(spec)})`);
    const foundType = typeName(found.type);
    if (foundType !== String(expected.fields[index]!.type)) {
      throw new RunFormatError(file, `column "${spec.name}" has type ${foundType}, expected ${describeType(spec)}`);
    }
  }
}

/** A type's name; a damaged schema can hold types that cannot even name themselves. */
function typeName(type: DataType | undefined): string {
  try {
    return String(type);
  } catch {
    return 'an unreadable type';
  }
}

function unpackBits(data: Data, rows: number): Uint8Array {
  const valid = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) valid[row] = data.getValid(row) ? 1 : 0;
  return valid;
}

function concat<T extends NumericArray>(parts: T[], make: (length: number) => T): T {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = make(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Whether a column's buffers hold every value of its `rows` rows (and offsets in range, for strings). */
function holdsRows(spec: ColumnSpec, data: Data, rows: number): boolean {
  if (data.length !== rows) return false;
  if (spec.type === 'utf8') {
    const offsets = data.valueOffsets as Int32Array | undefined;
    const values = data.values as Uint8Array | undefined;
    if (!offsets || !values || offsets.length < data.offset + rows + 1) return false;
    for (let row = 0; row <= rows; row++) {
      const offset = offsets[data.offset + row]!;
      if (offset < 0 || offset > values.length || (row > 0 && offset < offsets[data.offset + row - 1]!)) return false;
    }
    return true;
  }
  const values = spec.shape ? data.children[0]?.values : data.values;
  const start = spec.shape ? (data.children[0]?.offset ?? 0) + data.offset * columnWidth(spec) : data.offset;
  return values !== undefined && values.length >= start + rows * columnWidth(spec);
}

function numericParts(spec: ColumnSpec, data: Data): NumericArray {
  if (spec.shape) {
    const width = columnWidth(spec);
    const child = data.children[0]!;
    const start = child.offset + data.offset * width;
    return (child.values as NumericArray).subarray(start, start + data.length * width);
  }
  return (data.values as NumericArray).subarray(data.offset, data.offset + data.length);
}

const ARRAY_OF: Record<Exclude<ValueType, 'utf8'>, (length: number) => NumericArray> = {
  float32: (length) => new Float32Array(length),
  int32: (length) => new Int32Array(length),
  uint8: (length) => new Uint8Array(length),
};

/** Arrow's file format starts with the magic "ARROW1"; a stream starts with a message. */
function isArrowFile(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === 'ARROW1';
}

/** Rows a record batch may claim; ours hold 16. */
const MAX_BATCH_ROWS = 1 << 20;

/**
 * A message's body length, after checking the counts in its metadata against the metadata's own
 * size. Arrow's decoder trusts them: a corrupt count of 33 million field nodes makes it loop for
 * minutes (found by tests/fuzz), so implausible messages are refused before Arrow sees them.
 */
function checkedBodyLength(metadata: Uint8Array): number {
  const message = MessageTable.getRootAsMessage(new ByteBuffer(metadata));
  const bodyLength = Number(message.bodyLength());
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) throw new Error(`implausible body length ${bodyLength}`);
  switch (message.headerType()) {
    case MessageHeader.RecordBatch: {
      const batch = message.header(new RecordBatchTable()) as RecordBatchTable;
      // FieldNode and Buffer are 16-byte structs stored inside the metadata.
      const structs = batch.nodesLength() + batch.buffersLength();
      if (structs * 16 > metadata.length) throw new Error(`implausible ${structs} nodes and buffers in ${metadata.length} bytes`);
      const rows = Number(batch.length());
      if (!(rows >= 0 && rows <= MAX_BATCH_ROWS)) throw new Error(`implausible batch of ${rows} rows`);
      for (let node = 0; node < batch.nodesLength(); node++) {
        const length = Number(batch.nodes(node)!.length());
        if (!(length >= 0 && length <= MAX_BATCH_ROWS * 4096)) throw new Error(`implausible field of ${length} values`);
      }
      for (let buffer = 0; buffer < batch.buffersLength(); buffer++) {
        const entry = batch.buffers(buffer)!;
        if (Number(entry.offset()) + Number(entry.length()) > bodyLength) throw new Error('implausible buffer outside the body');
      }
      return bodyLength;
    }
    case MessageHeader.Schema: {
      const schema = message.header(new SchemaTable()) as SchemaTable;
      // Every vector holds ≥ 4-byte entries (offsets or 8-byte features) inside the metadata.
      const fits = (count: number) => count >= 0 && count * 4 <= metadata.length;
      if (!fits(schema.fieldsLength()) || !fits(schema.customMetadataLength()) || !fits(schema.featuresLength()))
        throw new Error('implausible schema vector lengths');
      const checkField = (field: FieldTable | null, depth: number): void => {
        if (!field) throw new Error('implausible missing field');
        if (depth > 8 || !fits(field.childrenLength()) || !fits(field.customMetadataLength()))
          throw new Error('implausible field nesting or lengths');
        for (let child = 0; child < field.childrenLength(); child++) checkField(field.children(child), depth + 1);
      };
      for (let field = 0; field < schema.fieldsLength(); field++) checkField(schema.fields(field), 0);
      return bodyLength;
    }
    default:
      return bodyLength;
  }
}

/** Where the whole messages of a stream end, found from their framing without decoding them. */
export function scanStream(bytes: Uint8Array): { wholeBytes: number; ended: boolean; problem?: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  while (position + 8 <= bytes.length) {
    if (view.getUint32(position, true) !== 0xffffffff) {
      return { wholeBytes: position, ended: false, problem: `byte ${position}: expected a message continuation token` };
    }
    const metadataLength = view.getInt32(position + 4, true);
    if (metadataLength === 0) {
      const after = position + 8;
      return after === bytes.length
        ? { wholeBytes: after, ended: true }
        : { wholeBytes: after, ended: true, problem: `${bytes.length - after} bytes after the end-of-stream marker` };
    }
    if (metadataLength < 0 || position + 8 + metadataLength > bytes.length) {
      return { wholeBytes: position, ended: false, problem: `byte ${position}: message metadata cut short` };
    }
    let bodyLength: number;
    try {
      bodyLength = checkedBodyLength(bytes.subarray(position + 8, position + 8 + metadataLength));
    } catch (error) {
      const reason = error instanceof Error && error.message.startsWith('implausible') ? ` (${error.message})` : '';
      return { wholeBytes: position, ended: false, problem: `byte ${position}: unreadable message metadata${reason}` };
    }
    const end = position + 8 + metadataLength + bodyLength;
    if (end > bytes.length) return { wholeBytes: position, ended: false, problem: `byte ${position}: message body cut short` };
    position = end;
  }
  return position === bytes.length
    ? { wholeBytes: position, ended: false }
    : { wholeBytes: position, ended: false, problem: `byte ${position}: ${bytes.length - position} stray bytes` };
}

/**
 * Decodes a stream file against the columns it must have. Extra columns are ignored. A file cut
 * inside a message yields every whole batch before the cut and `truncated: true`; a file that is
 * not an Arrow stream, or whose schema disagrees with `columns`, throws a `RunFormatError`.
 */
export function decodeStream(file: string, bytes: Uint8Array, columns: readonly ColumnSpec[]): DecodedStream {
  if (isArrowFile(bytes)) throw new RunFormatError(file, 'is an Arrow file, expected an Arrow IPC stream');
  const scan = scanStream(bytes);
  // Arrow's message reader and vector loader, without its RecordBatchReader: the viewer decodes
  // record batches into column buffers only, and the reader's tables and stream adapters would be
  // half of the Arrow code it downloads before its first paint.
  const messages = new MessageReader(bytes.subarray(0, scan.wholeBytes));
  let schema: Schema | null | undefined;
  try {
    schema = messages.readSchema();
  } catch (error) {
    throw new RunFormatError(file, 'not an Arrow IPC stream (could not read its schema)', { cause: error });
  }
  if (!schema) throw new RunFormatError(file, `not an Arrow IPC stream (${scan.problem ?? 'no schema message'})`);
  checkSchema(file, schema, columns);
  const fieldIndex = columns.map((spec) => schema.fields.findIndex((field) => field.name === spec.name));
  const parts = new Map<string, Data[]>(columns.map((spec) => [spec.name, []]));
  let rows = 0;
  let truncation = scan.problem;
  try {
    for (let message = messages.readMessage(); message; message = messages.readMessage()) {
      const body = messages.readMessageBody(message.bodyLength);
      if (!message.isRecordBatch()) continue;
      const header = message.header()!;
      if (header.compression) throw new Error('compressed record batch');
      const fields = new VectorLoader(body, header.nodes, header.buffers, new Map(), schema.metadataVersion).visitMany(schema.fields);
      const batchRows = Number(header.length);
      const datas = fieldIndex.map((index) => fields[index] as Data);
      // A damaged batch can claim more rows than its buffers hold: stop before it.
      const short = columns.findIndex((spec, index) => !holdsRows(spec, datas[index]!, batchRows));
      if (short >= 0) {
        truncation = `record batch after row ${rows}: column "${columns[short]!.name}" holds fewer values than its ${batchRows} rows`;
        break;
      }
      columns.forEach((spec, index) => parts.get(spec.name)!.push(datas[index]!));
      rows += batchRows;
    }
  } catch (error) {
    truncation = `undecodable record batch after row ${rows} (${error instanceof Error ? error.message : String(error)})`;
  }
  const decoded: Record<string, ColumnValues> = {};
  for (const spec of columns) {
    const datas = parts.get(spec.name)!;
    if (spec.type === 'utf8') {
      decoded[spec.name] = datas.flatMap((data) => {
        const vector = new Array<string>(data.length);
        const offsets = data.valueOffsets as Int32Array;
        const decoder = new TextDecoder();
        for (let row = 0; row < data.length; row++) {
          const start = offsets[data.offset + row]!;
          const end = offsets[data.offset + row + 1]!;
          vector[row] = decoder.decode((data.values as Uint8Array).subarray(start, end));
        }
        return vector;
      });
      continue;
    }
    const values = concat(
      datas.map((data) => numericParts(spec, data)),
      ARRAY_OF[spec.type],
    );
    decoded[spec.name] = spec.nullable
      ? {
          values: values as Float32Array,
          valid: concat(
            datas.map((data) => unpackBits(data, data.length)),
            (length) => new Uint8Array(length),
          ),
        }
      : values;
  }
  return { rows, columns: decoded, truncated: truncation !== undefined, ...(truncation ? { truncation } : {}) };
}
