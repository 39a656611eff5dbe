/**
 * Reading a run's Arrow IPC stream files: their framing (`scanStream`) and their columns
 * (`decodeStream`), against the `ColumnSpec`s they must hold.
 *
 * A run's columns are Float32, Int32, Int8, Uint8 or Utf8 values, one per row or a fixed-size list per
 * row, some nullable. Their buffers are located through Arrow's own flatbuffer metadata
 * (`apache-arrow/fb`) and read as typed arrays, per the Arrow columnar format. apache-arrow's
 * RecordBatchReader would do the same through tables and vectors the run format never uses, and
 * brings 140 kB of code that the viewer must download and compile before it can paint (a third of
 * all it loads first). tests/format.test.ts checks this reader against apache-arrow's on written
 * and cut files; tests/fuzz.test.ts and `npm run bench:fuzz` feed it damaged ones.
 */
import { Field as FieldTable } from 'apache-arrow/fb/field';
import { FixedSizeList as FixedSizeListTable } from 'apache-arrow/fb/fixed-size-list';
import { FloatingPoint as FloatingPointTable } from 'apache-arrow/fb/floating-point';
import { Int as IntTable } from 'apache-arrow/fb/int';
import { Message as MessageTable } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { Precision } from 'apache-arrow/fb/precision';
import { RecordBatch as RecordBatchTable } from 'apache-arrow/fb/record-batch';
import { Schema as SchemaTable } from 'apache-arrow/fb/schema';
import { Type } from 'apache-arrow/fb/type';
import { ByteBuffer } from 'flatbuffers';
import { columnWidth, type ColumnSpec, type ValueType } from './columns.js';

export type NumericArray = Float32Array | Int32Array | Int8Array | Uint8Array;

/** Values of one column over some rows: numbers (row-major, width per row) or strings. */
export type ColumnValues = NumericArray | string[] | NullableValues;

/** A nullable column: `valid[row]` is 1 where the row has a value. */
export interface NullableValues {
  values: Float32Array;
  valid: Uint8Array;
}

export type BatchValues = Record<string, ColumnValues>;

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

/** Columns decoded from a stream file, concatenated over its batches. */
export interface DecodedStream {
  rows: number;
  columns: Record<string, ColumnValues>;
  /** True when the file ends inside a message: a writer was stopped mid-write or the file was cut. */
  truncated: boolean;
  /** Why reading stopped early, when `truncated`. */
  truncation?: string;
}

const ITEM_TYPE_NAMES: Record<ValueType, string> = { float32: 'Float32', int32: 'Int32', int8: 'Int8', uint8: 'Uint8', utf8: 'Utf8' };

/** A column's Arrow type, as messages name it: "Float32", "FixedSizeList<Float32>[784]". */
export function describeType(spec: ColumnSpec): string {
  const item = ITEM_TYPE_NAMES[spec.type];
  return spec.shape ? `FixedSizeList<${item}>[${columnWidth(spec)}]` : item;
}

/** What a damaged schema's type is called: its type table is missing. */
const UNREADABLE_TYPE = 'an unreadable type';

/** A schema field's type in `describeType`'s words, or Arrow's name for a type a run never holds. */
function fieldTypeName(field: FieldTable): string {
  if (field.dictionary()) return 'a dictionary-encoded type';
  switch (field.typeType()) {
    case Type.FloatingPoint: {
      const float = field.type(new FloatingPointTable()) as FloatingPointTable | null;
      const names = { [Precision.HALF]: 'Float16', [Precision.SINGLE]: 'Float32', [Precision.DOUBLE]: 'Float64' };
      return float ? (names[float.precision()] ?? 'Float') : UNREADABLE_TYPE;
    }
    case Type.Int: {
      const int = field.type(new IntTable()) as IntTable | null;
      return int ? `${int.isSigned() ? 'Int' : 'Uint'}${int.bitWidth()}` : UNREADABLE_TYPE;
    }
    case Type.FixedSizeList: {
      const list = field.type(new FixedSizeListTable()) as FixedSizeListTable | null;
      const child = field.childrenLength() === 1 ? field.children(0) : null;
      return list && child ? `FixedSizeList<${fieldTypeName(child)}>[${list.listSize()}]` : UNREADABLE_TYPE;
    }
    default:
      return Type[field.typeType()] ?? `type ${field.typeType()}`;
  }
}

/** Buffers of a field itself (its children's come after), per type: validity, then offsets and values. */
const OWN_BUFFERS = new Map<Type, number>(
  (
    [
      [0, [Type.Null]],
      [1, [Type.FixedSizeList, Type.Struct_]],
      [2, [Type.Int, Type.FloatingPoint, Type.Bool, Type.Decimal, Type.Date, Type.Time, Type.Timestamp, Type.Interval]],
      [2, [Type.Duration, Type.FixedSizeBinary, Type.List, Type.LargeList, Type.Map]],
      [3, [Type.Utf8, Type.Binary, Type.LargeUtf8, Type.LargeBinary]],
    ] as const
  ).flatMap(([count, types]) => types.map((type) => [type, count] as const)),
);

/**
 * Field nodes and buffers one field takes in a record batch (Arrow columnar format, IPC), to step
 * over columns this reader does not read; undefined for layouts a run file never holds.
 */
function fieldLayout(field: FieldTable): { nodes: number; buffers: number } | undefined {
  // A dictionary-encoded field holds its indices: an integer column.
  let buffers = OWN_BUFFERS.get(field.dictionary() ? Type.Int : field.typeType());
  if (buffers === undefined) return undefined;
  let nodes = 1;
  if (!field.dictionary()) {
    for (let index = 0; index < field.childrenLength(); index++) {
      const child = fieldLayout(field.children(index)!);
      if (!child) return undefined;
      nodes += child.nodes;
      buffers += child.buffers;
    }
  }
  return { nodes, buffers };
}

/** Where a wanted column's field node and first buffer are in each record batch. */
interface ColumnPlace {
  spec: ColumnSpec;
  node: number;
  buffer: number;
}

/** Checks the schema against `columns` and finds each column's place in the record batches. */
function placeColumns(file: string, schema: SchemaTable, columns: readonly ColumnSpec[]): ColumnPlace[] {
  const fields = new Map<string, { field: FieldTable; node: number; buffer: number }>();
  let node = 0;
  let buffer = 0;
  for (let index = 0; index < schema.fieldsLength(); index++) {
    const field = schema.fields(index)!;
    const name = field.name() ?? '';
    if (!fields.has(name)) fields.set(name, { field, node, buffer });
    const layout = fieldLayout(field);
    if (!layout) {
      // A column after this one could not be found in the batches: only a problem if one is wanted.
      node = buffer = Number.NaN;
      continue;
    }
    node += layout.nodes;
    buffer += layout.buffers;
  }
  return columns.map((spec) => {
    const found = fields.get(spec.name);
    if (!found) throw new RunFormatError(file, `missing column "${spec.name}" (expected ${describeType(spec)})`);
    const type = fieldTypeName(found.field);
    if (type !== describeType(spec))
      throw new RunFormatError(file, `column "${spec.name}" has type ${type}, expected ${describeType(spec)}`);
    if (Number.isNaN(found.node)) throw new RunFormatError(file, `column "${spec.name}" follows a column of a type a run file never holds`);
    return { spec, node: found.node, buffer: found.buffer };
  });
}

const BYTES_PER_VALUE: Record<Exclude<ValueType, 'utf8'>, number> = { float32: 4, int32: 4, int8: 1, uint8: 1 };

const ARRAY_OF: Record<Exclude<ValueType, 'utf8'>, (length: number) => NumericArray> = {
  float32: (length) => new Float32Array(length),
  int32: (length) => new Int32Array(length),
  int8: (length) => new Int8Array(length),
  uint8: (length) => new Uint8Array(length),
};

/** One column of one record batch: its values, and for a nullable one the validity of each row. */
interface ColumnPart {
  values: NumericArray | string[];
  valid?: Uint8Array;
}

/** A record batch's buffers, each checked to lie inside the message body. */
class BatchBuffers {
  constructor(
    readonly batch: RecordBatchTable,
    readonly body: Uint8Array,
  ) {}

  bytes(index: number): Uint8Array {
    // The generated accessors do not check the index: past the vector they read the metadata beyond it.
    const buffer = index < this.batch.buffersLength() ? this.batch.buffers(index) : null;
    if (!buffer) throw new Error(`no buffer ${index}`);
    const offset = Number(buffer.offset());
    const length = Number(buffer.length());
    if (!(offset >= 0 && length >= 0 && offset + length <= this.body.length)) throw new Error(`buffer ${index} lies outside the body`);
    return this.body.subarray(offset, offset + length);
  }

  /** A field node's value count and null count. */
  node(index: number): { length: number; nullCount: number } {
    const node = index < this.batch.nodesLength() ? this.batch.nodes(index) : null;
    if (!node) throw new Error(`no field node ${index}`);
    return { length: Number(node.length()), nullCount: Number(node.nullCount()) };
  }
}

/** `count` values of `type` at the start of `bytes`, or undefined when `bytes` holds fewer. */
function numbersIn(bytes: Uint8Array, type: Exclude<ValueType, 'utf8'>, count: number): NumericArray | undefined {
  const size = BYTES_PER_VALUE[type];
  if (bytes.length < count * size) return undefined;
  // Arrow aligns buffers to 8 bytes; a copy reads one that is not.
  const source = (bytes.byteOffset % size === 0 ? bytes : bytes.slice(0, count * size)).subarray(0, count * size);
  if (type === 'uint8') return source;
  const buffer = source.buffer as ArrayBuffer;
  if (type === 'int8') return new Int8Array(buffer, source.byteOffset, count);
  return type === 'float32' ? new Float32Array(buffer, source.byteOffset, count) : new Int32Array(buffer, source.byteOffset, count);
}

/** A column of one record batch of `rows` rows, or a reason it does not hold them. */
function readColumn(buffers: BatchBuffers, place: ColumnPlace, rows: number): ColumnPart | string {
  const { spec } = place;
  const short = `column "${spec.name}" holds fewer values than its ${rows} rows`;
  const node = buffers.node(place.node);
  if (node.length !== rows) return short;
  if (spec.type === 'utf8') {
    if (rows === 0) return { values: [] };
    const offsets = numbersIn(buffers.bytes(place.buffer + 1), 'int32', rows + 1) as Int32Array | undefined;
    const data = buffers.bytes(place.buffer + 2);
    if (!offsets) return short;
    const strings = new Array<string>(rows);
    const decoder = new TextDecoder();
    for (let row = 0; row < rows; row++) {
      const start = offsets[row]!;
      const end = offsets[row + 1]!;
      if (!(start >= 0 && start <= end && end <= data.length)) return short;
      strings[row] = decoder.decode(data.subarray(start, end));
    }
    return { values: strings };
  }
  const width = columnWidth(spec);
  // A list's child may hold more values than its rows use (the format allows it), never fewer.
  if (spec.shape && buffers.node(place.node + 1).length < rows * width) return short;
  // A fixed-size list: the list's validity, then its child's validity and values.
  const values = numbersIn(buffers.bytes(place.buffer + (spec.shape ? 2 : 1)), spec.type, rows * width);
  if (!values) return short;
  if (!spec.nullable) return { values };
  // Row nulls are the column's own validity; item nulls its list child's (the node and buffer after it).
  const items = spec.nullable === 'item';
  const count = items ? rows * width : rows;
  const nullCount = items ? buffers.node(place.node + 1).nullCount : node.nullCount;
  const valid = new Uint8Array(count);
  // No nulls: every value is there, whatever the bitmap (which may be absent) says.
  if (nullCount === 0) valid.fill(1);
  else {
    const bitmap = buffers.bytes(place.buffer + (items ? 1 : 0));
    if (bitmap.length < Math.ceil(count / 8)) return short;
    for (let index = 0; index < count; index++) valid[index] = (bitmap[index >> 3]! >> (index & 7)) & 1;
  }
  return { values, valid };
}

/** The messages of a stream's whole part (as `scanStream` found it): each one's metadata and body. */
function* messagesOf(bytes: Uint8Array, wholeBytes: number): Generator<{ message: MessageTable; body: Uint8Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  while (position + 8 <= wholeBytes) {
    const metadataLength = view.getInt32(position + 4, true);
    if (metadataLength === 0) return;
    const metadataEnd = position + 8 + metadataLength;
    const message = MessageTable.getRootAsMessage(new ByteBuffer(bytes.subarray(position + 8, metadataEnd)));
    const bodyEnd = metadataEnd + Number(message.bodyLength());
    yield { message, body: bytes.subarray(metadataEnd, bodyEnd) };
    position = bodyEnd;
  }
}

/** Rows a record batch may claim; ours hold 16. */
const MAX_BATCH_ROWS = 1 << 20;

/**
 * A message's body length, after checking the counts in its metadata against the metadata's own
 * size, so that nothing later walks a corrupt count (apache-arrow's reader looped for minutes on a
 * count of 33 million field nodes, found by tests/fuzz): implausible messages are refused here.
 */
function checkedMessage(metadata: Uint8Array): { bodyLength: number; recordBatch: boolean } {
  const message = MessageTable.getRootAsMessage(new ByteBuffer(metadata));
  const bodyLength = Number(message.bodyLength());
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) throw new Error(`implausible body length ${bodyLength}`);
  switch (message.headerType()) {
    case MessageHeader.RecordBatch: {
      const batch = message.header(new RecordBatchTable()) as RecordBatchTable;
      // FieldNode and Buffer are 16-byte structs stored inside the metadata.
      // (Each count on its own: a damaged one can be negative, and a negative one hid a huge one in the sum.)
      const nodes = batch.nodesLength();
      const buffers = batch.buffersLength();
      if (!(nodes >= 0 && buffers >= 0 && (nodes + buffers) * 16 <= metadata.length))
        throw new Error(`implausible ${nodes} nodes and ${buffers} buffers in ${metadata.length} bytes`);
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
      return { bodyLength, recordBatch: true };
    }
    case MessageHeader.Schema: {
      const schema = message.header(new SchemaTable()) as SchemaTable;
      // Every vector holds ≥ 4-byte entries (offsets or 8-byte features) inside the metadata.
      const fits = (count: number) => count >= 0 && count * 4 <= metadata.length;
      if (!fits(schema.fieldsLength()) || !fits(schema.customMetadataLength()) || !fits(schema.featuresLength()))
        throw new Error('implausible schema vector lengths');
      // Fields visited in all: a damaged schema whose children vectors all point at one table would
      // otherwise take k^8 visits for 8 levels of k children (a day for 1.4 kB of metadata).
      let visits = 0;
      const checkField = (field: FieldTable | null, depth: number): void => {
        if (!field) throw new Error('implausible missing field');
        if (++visits * 8 > metadata.length) throw new Error('implausible number of fields');
        if (depth > 8 || !fits(field.childrenLength()) || !fits(field.customMetadataLength()))
          throw new Error('implausible field nesting or lengths');
        for (let child = 0; child < field.childrenLength(); child++) checkField(field.children(child), depth + 1);
      };
      for (let field = 0; field < schema.fieldsLength(); field++) checkField(schema.fields(field), 0);
      return { bodyLength, recordBatch: false };
    }
    default:
      return { bodyLength, recordBatch: false };
  }
}

/** What `scanStream` found. */
export interface StreamScan {
  /** Bytes of whole messages from the start. */
  wholeBytes: number;
  /** An end-of-stream marker was read. */
  ended: boolean;
  /** Why the scan stopped before the end of `bytes`, or why the stream is not whole. */
  problem?: string;
  /**
   * Where the first record batch ends, once its metadata was read: its body may lie beyond the bytes
   * scanned, so a prefix of a file says how many bytes hold that batch.
   */
  firstBatchEnd?: number;
}

/** Where the whole messages of a stream end, found from their framing without decoding them. */
export function scanStream(bytes: Uint8Array): StreamScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  let firstBatchEnd: number | undefined;
  const result = (wholeBytes: number, ended: boolean, problem?: string): StreamScan => ({
    wholeBytes,
    ended,
    ...(problem === undefined ? {} : { problem }),
    ...(firstBatchEnd === undefined ? {} : { firstBatchEnd }),
  });
  while (position + 8 <= bytes.length) {
    if (view.getUint32(position, true) !== 0xffffffff)
      return result(position, false, `byte ${position}: expected a message continuation token`);
    const metadataLength = view.getInt32(position + 4, true);
    if (metadataLength === 0) {
      const after = position + 8;
      return result(after, true, after === bytes.length ? undefined : `${bytes.length - after} bytes after the end-of-stream marker`);
    }
    if (metadataLength < 0 || position + 8 + metadataLength > bytes.length)
      return result(position, false, `byte ${position}: message metadata cut short`);
    let message: { bodyLength: number; recordBatch: boolean };
    try {
      message = checkedMessage(bytes.subarray(position + 8, position + 8 + metadataLength));
    } catch (error) {
      const reason = error instanceof Error && error.message.startsWith('implausible') ? ` (${error.message})` : '';
      return result(position, false, `byte ${position}: unreadable message metadata${reason}`);
    }
    const end = position + 8 + metadataLength + message.bodyLength;
    if (message.recordBatch) firstBatchEnd ??= end;
    if (end > bytes.length) return result(position, false, `byte ${position}: message body cut short`);
    position = end;
  }
  return result(position, false, position === bytes.length ? undefined : `byte ${position}: ${bytes.length - position} stray bytes`);
}

/** Arrow's file format starts with the magic "ARROW1"; a stream starts with a message. */
function isArrowFile(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === 'ARROW1';
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

/**
 * Decodes a stream file against the columns it must have. Extra columns are ignored. A file cut
 * inside a message yields every whole batch before the cut and `truncated: true`; a file that is
 * not an Arrow stream, or whose schema disagrees with `columns`, throws a `RunFormatError`.
 */
export function decodeStream(file: string, bytes: Uint8Array, columns: readonly ColumnSpec[]): DecodedStream {
  if (isArrowFile(bytes)) throw new RunFormatError(file, 'is an Arrow file, expected an Arrow IPC stream');
  const scan = scanStream(bytes);
  const messages = messagesOf(bytes, scan.wholeBytes);
  const first = messages.next();
  if (first.done) throw new RunFormatError(file, `not an Arrow IPC stream (${scan.problem ?? 'no schema message'})`);
  if (first.value.message.headerType() !== MessageHeader.Schema)
    throw new RunFormatError(file, 'not an Arrow IPC stream (could not read its schema)');
  let places: ColumnPlace[];
  try {
    places = placeColumns(file, first.value.message.header(new SchemaTable()) as SchemaTable, columns);
  } catch (error) {
    // Whatever else a damaged schema makes the flatbuffer accessors throw.
    if (error instanceof RunFormatError) throw error;
    throw new RunFormatError(file, 'not an Arrow IPC stream (could not read its schema)', { cause: error });
  }
  const parts = columns.map(() => [] as ColumnPart[]);
  let rows = 0;
  let truncation = scan.problem;
  try {
    for (const { message, body } of messages) {
      if (message.headerType() !== MessageHeader.RecordBatch) continue;
      const batch = message.header(new RecordBatchTable()) as RecordBatchTable;
      if (batch.compression()) throw new Error('compressed record batch');
      const batchRows = Number(batch.length());
      const buffers = new BatchBuffers(batch, body);
      const read = places.map((place) => readColumn(buffers, place, batchRows));
      // A damaged batch can claim more rows than its buffers hold: stop before it.
      const short = read.find((part) => typeof part === 'string');
      if (short !== undefined) {
        truncation = `record batch after row ${rows}: ${short}`;
        break;
      }
      read.forEach((part, index) => parts[index]!.push(part as ColumnPart));
      rows += batchRows;
    }
  } catch (error) {
    truncation = `undecodable record batch after row ${rows} (${error instanceof Error ? error.message : String(error)})`;
  }
  const decoded: Record<string, ColumnValues> = {};
  columns.forEach((spec, index) => {
    const columnParts = parts[index]!;
    if (spec.type === 'utf8') {
      decoded[spec.name] = columnParts.flatMap((part) => part.values as string[]);
      return;
    }
    const values = concat(
      columnParts.map((part) => part.values as NumericArray),
      ARRAY_OF[spec.type],
    );
    decoded[spec.name] = spec.nullable
      ? {
          values: values as Float32Array,
          valid: concat(
            columnParts.map((part) => part.valid!),
            (length) => new Uint8Array(length),
          ),
        }
      : values;
  });
  return { rows, columns: decoded, truncated: truncation !== undefined, ...(truncation ? { truncation } : {}) };
}
