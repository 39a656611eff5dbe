/**
 * The file side of recording (the reader is `openRun`): appends step rows, weight snapshots and
 * link frames to the chunk files of a run folder and keeps `run.json` in step with what is on disk. A step row
 * reaches its file in a record batch of `flushSteps` rows (the run's first step in one of its own);
 * `run.json` is replaced (temp file + rename) at chunk boundaries and at most every
 * MANIFEST_INTERVAL_MS between them, and only ever after the bytes it lists, so at any moment it
 * describes files that hold at least what it says.
 */
import { closeSync, ftruncateSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  columnNameOf,
  FILE_NAMES,
  linkColumns,
  stepColumns,
  weightColumns,
  type ColumnSpec,
  type SnapshotReason,
} from '../../core/format/columns.js';
import { quantizeInt8 } from '../../core/format/int8.js';
import { linkFrameBytes, snapshotBytes } from '../../core/snapshots.js';
import { encodeBatchMessage, encodeSchemaMessage, encodeStream, STREAM_END, type BatchValues } from '../../core/format/ipc.js';
import { runShapeOf, type ChunkEntry, type LinkFileEntry, type RunManifest, type WeightFileEntry } from '../../core/format/manifest.js';
import { RowBuffer } from './row-buffer.js';

export function writeJsonAtomic(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new RunWriteError(path, error);
  }
}

/** Each column set's schema message, encoded once: every chunk's files start with the same one. */
const schemaMessages = new WeakMap<readonly ColumnSpec[], Uint8Array>();
function schemaMessage(columns: readonly ColumnSpec[]): Uint8Array {
  let message = schemaMessages.get(columns);
  if (!message) schemaMessages.set(columns, (message = encodeSchemaMessage(columns)));
  return message;
}

/** A file of the run could not be written: names the file and the reason (e.g. the disk is full). */
export class RunWriteError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(
      `cannot write ${path}: ${REASONS[code ?? ''] ?? (cause instanceof Error ? cause.message : String(cause))}${code ? ` (${code})` : ''}`,
      {
        cause,
      },
    );
    this.name = 'RunWriteError';
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
};

/**
 * Bytes kept free in the run folder (a file deleted on failure), so that a full disk still leaves
 * room to mark the run failed in run.json.
 */
export const SPACE_RESERVE_BYTES = 256 * 1024;
export const SPACE_RESERVE_FILE = 'space-reserve.tmp';

/**
 * Tests only: a disk that holds this many bytes of the run (tests/faults.test.ts). As on a real disk,
 * the write that crosses it comes back short, and the next fails with ENOSPC.
 */
const DISK_LIMIT = Number(process.env.NV_TEST_DISK_LIMIT_BYTES ?? Infinity);

interface OpenStream {
  fd: number;
  columns: readonly ColumnSpec[];
  path: string;
  /** Link frame files' bytes are counted apart: they are an allowance of their own, beside the budget. */
  counted: 'links' | 'other';
  /** Bytes of whole messages in the file: what an append that fails is cut back to. */
  size: number;
}

/** A layer's weight snapshots or link frames, waiting to be written as one record batch. */
interface FrameStream extends OpenStream {
  rows: RowBuffer;
  /** The run.json entry that lists the rows on disk; a weights file's also says why each was kept. */
  entry: WeightFileEntry | LinkFileEntry;
  /** Rows buffered but not yet on disk: their steps (and for snapshots, why they were kept). */
  waiting: { step: number; reason?: SnapshotReason }[];
}

/** Buffered bytes per layer and file before a record batch is written (1 MiB, at most 16 rows). */
const FRAME_BATCH_BYTES = 1024 * 1024;
/** run.json is replaced at most this often between chunk boundaries (a live viewer polls it). */
export const MANIFEST_INTERVAL_MS = 250;

export interface Snapshot {
  step: number;
  reason: SnapshotReason;
  weight: Float32Array;
  bias: Float32Array;
  weightGrad: Float32Array;
  biasGrad: Float32Array;
}

/** A layer's W and ∂L/∂W at one step, to be kept as an int8 link frame. */
export interface LinkFrame {
  step: number;
  weight: Float32Array;
  weightGrad: Float32Array;
}

export class RunWriter {
  readonly manifest: RunManifest;
  readonly rows: RowBuffer;
  readonly #directory: string;
  readonly #stepColumns: ColumnSpec[];
  #chunk: { entry: ChunkEntry; stream: OpenStream; weights: Map<number, FrameStream>; links: Map<number, FrameStream> } | undefined;
  #bytesWritten = 0;
  #linkBytesWritten = 0;
  #manifestWrittenAt = 0;
  /** Row buffers of the weights and links files by kind and layer (FrameStream rows), reused by each chunk. */
  readonly #frameBuffers = new Map<string, { columns: readonly ColumnSpec[]; rows: RowBuffer }>();
  /** Called just before each write of run.json, to bring fields kept elsewhere up to date. */
  beforeManifestWrite: (() => void) | undefined;

  /** @param options.deferManifest leave the first run.json to the caller (files it lists must be written first) */
  constructor(directory: string, manifest: RunManifest, flushSteps: number, options: { deferManifest?: boolean } = {}) {
    this.#directory = directory;
    this.manifest = manifest;
    this.#stepColumns = stepColumns(runShapeOf(manifest));
    this.rows = new RowBuffer(this.#stepColumns, flushSteps);
    const reserve = join(directory, SPACE_RESERVE_FILE);
    try {
      writeFileSync(reserve, new Uint8Array(SPACE_RESERVE_BYTES));
    } catch (error) {
      rmSync(reserve, { force: true });
      throw new RunWriteError(reserve, error);
    }
    if (!options.deferManifest) this.writeManifest();
  }

  /** Frees the reserved space: after a write failed (to mark the run failed), or when the run ends. */
  releaseReserve(): void {
    rmSync(join(this.#directory, SPACE_RESERVE_FILE), { force: true });
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Bytes of link frame files, part of `bytesWritten`. */
  get linkBytesWritten(): number {
    return this.#linkBytesWritten;
  }

  /** Replaces run.json; unless `force`, at most every MANIFEST_INTERVAL_MS. */
  writeManifest(force = true): void {
    const now = Date.now();
    if (!force && now - this.#manifestWrittenAt < MANIFEST_INTERVAL_MS) return;
    this.#manifestWrittenAt = now;
    this.beforeManifestWrite?.();
    this.manifest.updatedAt = new Date(now).toISOString();
    writeJsonAtomic(join(this.#directory, FILE_NAMES.manifest), this.manifest);
  }

  writeWholeFile(file: string, columns: readonly ColumnSpec[], values: BatchValues, rows: number): void {
    const bytes = encodeStream(columns, values, rows);
    const path = join(this.#directory, file);
    try {
      this.#io(path, bytes.length, () => writeFileSync(path, bytes));
    } catch (error) {
      // Not listed in run.json until written: a part of it on a full disk is only in the way.
      rmSync(path, { force: true });
      throw error;
    }
    this.#bytesWritten += bytes.length;
  }

  #open(file: string, columns: readonly ColumnSpec[], counted: OpenStream['counted'] = 'other'): OpenStream {
    const path = join(this.#directory, file);
    const fd = this.#io(path, 0, () => openSync(path, 'wx'));
    const stream = { fd, columns, path, counted, size: 0 };
    this.#append(stream, schemaMessage(columns));
    return stream;
  }

  /**
   * Appends one whole message, or nothing: a write that comes back short (a disk filling up) is
   * continued until every byte is written or a write fails; then the file is cut back to its whole
   * messages, so that no record batch is half on disk and run.json lists only steps the file holds.
   */
  #append(stream: OpenStream, bytes: Uint8Array): void {
    try {
      this.#io(stream.path, 0, () => {
        for (let offset = 0; offset < bytes.length;) offset += this.#writeSome(stream.fd, bytes, offset);
      });
    } catch (error) {
      try {
        ftruncateSync(stream.fd, stream.size);
      } catch {
        // The reader still stops at the last whole message; run.json does not list the cut one.
      }
      throw error;
    }
    stream.size += bytes.length;
    this.#bytesWritten += bytes.length;
    if (stream.counted === 'links') this.#linkBytesWritten += bytes.length;
  }

  /** One write from `offset`; how many bytes it took (fewer than asked on a filling disk). */
  #writeSome(fd: number, bytes: Uint8Array, offset: number): number {
    let length = bytes.length - offset;
    if (Number.isFinite(DISK_LIMIT)) {
      const room = DISK_LIMIT - this.#bytesWritten - offset;
      if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      length = Math.min(length, room);
    }
    const written = writeSync(fd, bytes, offset, length);
    if (written === 0) throw Object.assign(new Error('EIO: a write took no bytes'), { code: 'EIO' });
    return written;
  }

  #close(stream: OpenStream): void {
    this.#append(stream, STREAM_END);
    this.#io(stream.path, 0, () => closeSync(stream.fd));
  }

  /** One file operation of `bytes` bytes on `path`; its failure names the file. */
  #io<T>(path: string, bytes: number, operation: () => T): T {
    try {
      if (this.#bytesWritten + bytes > DISK_LIMIT)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return operation();
    } catch (error) {
      throw error instanceof RunWriteError ? error : new RunWriteError(path, error);
    }
  }

  /** Starts a row for `step`; rolls over to a new chunk file at chunk boundaries and flushes full buffers. */
  beginRow(step: number): number {
    const chunkIndex = Math.floor(step / this.manifest.chunkSteps);
    // run.json is written at a roll-over by #startChunk, listing the finished chunk and the new one (the
    // finishing flush writes it too only if its 250 ms interval is up).
    if (this.#chunk && this.#chunk.entry.index !== chunkIndex) this.#finishChunk(false);
    if (!this.#chunk) this.#startChunk(chunkIndex);
    // The run's first step is a record batch of its own: the viewer paints it from a small Range request
    // (FIRST_PAINT_BYTES in viewer/src/lib/run-data.svelte.ts), not from a whole 16-step batch (~0.5 MiB).
    if (this.rows.full || (this.manifest.stepCount === 0 && this.rows.rows === 1)) this.flush();
    return this.rows.addRow();
  }

  #startChunk(index: number): void {
    const file = FILE_NAMES.steps(index);
    const entry: ChunkEntry = {
      index,
      file,
      firstStep: index * this.manifest.chunkSteps,
      stepCount: 0,
      complete: false,
      weights: [],
      links: [],
    };
    const stream = this.#open(file, this.#stepColumns);
    this.#chunk = { entry, stream, weights: new Map(), links: new Map() };
    this.manifest.chunks.push(entry);
    this.writeManifest();
  }

  /** Writes the buffered rows as one record batch, and buffered snapshots, then updates run.json. */
  flush(): void {
    if (!this.#chunk) return;
    for (const stream of [...this.#chunk.weights.values(), ...this.#chunk.links.values()]) this.#flushFrames(stream);
    if (this.rows.rows === 0) return;
    const { values, rows } = this.rows.take();
    this.#append(this.#chunk.stream, encodeBatchMessage(this.#stepColumns, values, rows));
    this.#chunk.entry.stepCount += rows;
    this.manifest.stepCount += rows;
    this.writeManifest(false);
  }

  /** Buffers one layer's snapshot for the weight file of the current chunk (listed in run.json once written). */
  addSnapshot(layer: number, snapshot: Snapshot): void {
    const stream = this.#frameStream('weights', layer);
    const { rows } = stream;
    const row = rows.addRow();
    rows.quantityCell('snapshotStep', row)[0] = snapshot.step;
    rows.setText(columnNameOf('reason'), row, snapshot.reason);
    rows.quantityCell('weight', row).set(snapshot.weight);
    rows.quantityCell('bias', row).set(snapshot.bias);
    rows.quantityCell('weightGrad', row).set(snapshot.weightGrad);
    rows.quantityCell('biasGrad', row).set(snapshot.biasGrad);
    stream.waiting.push({ step: snapshot.step, reason: snapshot.reason });
    if (rows.full) this.#flushFrames(stream);
  }

  /** Quantises one layer's W and ∂L/∂W into a link frame of the current chunk's links file (core/format/int8.ts). */
  addLinkFrame(layer: number, frame: LinkFrame): void {
    const stream = this.#frameStream('links', layer);
    const { rows } = stream;
    const row = rows.addRow();
    rows.quantityCell('linkStep', row)[0] = frame.step;
    rows.quantityCell('weightScale', row)[0] = quantizeInt8(frame.weight, rows.quantityCell('weightCode', row));
    rows.quantityCell('weightGradScale', row)[0] = quantizeInt8(frame.weightGrad, rows.quantityCell('weightGradCode', row));
    stream.waiting.push({ step: frame.step });
    if (rows.full) this.#flushFrames(stream);
  }

  /** The current chunk's weights or links file of `layer`, opened (and listed in the chunk's entry) on first use. */
  #frameStream(kind: 'weights' | 'links', layer: number): FrameStream {
    const chunk = this.#chunk;
    if (!chunk) throw new Error(`RunWriter: no open chunk for layer ${layer}'s ${kind}`);
    const open = chunk[kind];
    let stream = open.get(layer);
    if (stream) return stream;
    const { columns, rows } = this.#frameRows(kind, layer);
    const file = FILE_NAMES[kind](layer, chunk.entry.index);
    const entry = kind === 'weights' ? { layer, file, steps: [], reasons: [] } : { layer, file, steps: [] };
    stream = {
      ...this.#open(file, columns, kind === 'links' ? 'links' : 'other'),
      rows,
      entry,
      waiting: [],
    };
    open.set(layer, stream);
    const entries: (WeightFileEntry | LinkFileEntry)[] = chunk.entry[kind];
    entries.push(entry);
    entries.sort((a, b) => a.layer - b.layer);
    return stream;
  }

  /** The columns and row buffer of `layer`'s weights or links files, made once and used by every chunk (empty between chunks). */
  #frameRows(kind: 'weights' | 'links', layer: number): { columns: readonly ColumnSpec[]; rows: RowBuffer } {
    const key = `${kind} ${layer}`;
    let made = this.#frameBuffers.get(key);
    if (made) return made;
    const fanIn = this.manifest.layers[layer - 1]!.size;
    const fanOut = this.manifest.layers[layer]!.size;
    const [columns, rowBytes] =
      kind === 'weights'
        ? [weightColumns(fanIn, fanOut), snapshotBytes(fanIn, fanOut)]
        : [linkColumns(fanIn, fanOut), linkFrameBytes(fanIn, fanOut)];
    const capacity = Math.max(1, Math.min(16, Math.floor(FRAME_BATCH_BYTES / rowBytes)));
    made = { columns, rows: new RowBuffer(columns, capacity) };
    this.#frameBuffers.set(key, made);
    return made;
  }

  #flushFrames(stream: FrameStream): void {
    if (stream.rows.rows === 0) return;
    const { values, rows } = stream.rows.take();
    this.#append(stream, encodeBatchMessage(stream.columns, values, rows));
    for (const { step, reason } of stream.waiting) {
      stream.entry.steps.push(step);
      if ('reasons' in stream.entry && reason) stream.entry.reasons.push(reason);
    }
    stream.waiting = [];
  }

  #finishChunk(writeManifest = true): void {
    const chunk = this.#chunk;
    if (!chunk) return;
    this.flush();
    this.#close(chunk.stream);
    for (const stream of [...chunk.weights.values(), ...chunk.links.values()]) this.#close(stream);
    chunk.entry.complete = true;
    this.#chunk = undefined;
    if (writeManifest) this.writeManifest();
  }

  /** Flushes and closes every file; the caller sets the final status and writes the manifest. */
  close(): void {
    this.#finishChunk();
  }
}
