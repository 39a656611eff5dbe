/**
 * `writeRun`'s file side: appends step rows and weight snapshots to the chunk files of a run
 * folder and keeps `run.json` in step with what is on disk. A step row reaches its file in a
 * record batch of `flushSteps` rows; `run.json` is replaced (temp file + rename) after every
 * flush, so at any moment it describes files that hold at least what it says.
 */
import { closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_NAMES, stepColumns, weightColumns, type ColumnSpec, type SnapshotReason } from '../../core/format/columns.js';
import { encodeBatchMessage, encodeSchemaMessage, encodeStream, STREAM_END, type BatchValues } from '../../core/format/ipc.js';
import { runShapeOf, type ChunkEntry, type RunManifest } from '../../core/format/manifest.js';
import { RowBuffer } from './row-buffer.js';

export function writeJsonAtomic(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, path);
}

interface OpenStream {
  fd: number;
  columns: readonly ColumnSpec[];
}

export interface Snapshot {
  step: number;
  reason: SnapshotReason;
  weight: Float32Array;
  bias: Float32Array;
  weightGrad: Float32Array;
  biasGrad: Float32Array;
}

export class RunWriter {
  readonly manifest: RunManifest;
  readonly rows: RowBuffer;
  readonly #directory: string;
  readonly #stepColumns: ColumnSpec[];
  readonly #flushSteps: number;
  #chunk: { entry: ChunkEntry; stream: OpenStream; weights: Map<number, OpenStream> } | undefined;
  #bytesWritten = 0;

  constructor(directory: string, manifest: RunManifest, flushSteps: number) {
    this.#directory = directory;
    this.manifest = manifest;
    this.#flushSteps = flushSteps;
    this.#stepColumns = stepColumns(runShapeOf(manifest));
    this.rows = new RowBuffer(this.#stepColumns, flushSteps);
    this.writeManifest();
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  writeManifest(): void {
    this.manifest.updatedAt = new Date().toISOString();
    writeJsonAtomic(join(this.#directory, FILE_NAMES.manifest), this.manifest);
  }

  writeWholeFile(file: string, columns: readonly ColumnSpec[], values: BatchValues, rows: number): void {
    const bytes = encodeStream(columns, values, rows);
    writeFileSync(join(this.#directory, file), bytes);
    this.#bytesWritten += bytes.length;
  }

  #open(file: string, columns: readonly ColumnSpec[]): OpenStream {
    const fd = openSync(join(this.#directory, file), 'wx');
    const stream = { fd, columns };
    this.#append(stream, encodeSchemaMessage(columns));
    return stream;
  }

  #append(stream: OpenStream, bytes: Uint8Array): void {
    writeSync(stream.fd, bytes);
    this.#bytesWritten += bytes.length;
  }

  #close(stream: OpenStream): void {
    this.#append(stream, STREAM_END);
    closeSync(stream.fd);
  }

  /** Starts a row for `step`; rolls over to a new chunk file at chunk boundaries and flushes full buffers. */
  beginRow(step: number): number {
    const chunkIndex = Math.floor(step / this.manifest.chunkSteps);
    if (this.#chunk && this.#chunk.entry.index !== chunkIndex) this.#finishChunk();
    if (!this.#chunk) this.#startChunk(chunkIndex);
    if (this.rows.full) this.flush();
    return this.rows.addRow();
  }

  #startChunk(index: number): void {
    const file = FILE_NAMES.steps(index);
    const entry: ChunkEntry = { index, file, firstStep: index * this.manifest.chunkSteps, stepCount: 0, complete: false, weights: [] };
    const stream = this.#open(file, this.#stepColumns);
    this.#chunk = { entry, stream, weights: new Map() };
    this.manifest.chunks.push(entry);
    this.writeManifest();
  }

  /** Writes the buffered rows as one record batch, then updates run.json. */
  flush(): void {
    if (!this.#chunk || this.rows.rows === 0) return;
    const { values, rows } = this.rows.take();
    this.#append(this.#chunk.stream, encodeBatchMessage(this.#stepColumns, values, rows));
    this.#chunk.entry.stepCount += rows;
    this.manifest.stepCount += rows;
    this.writeManifest();
  }

  /** Appends one layer's snapshot to the weight file of the current chunk (listed in run.json at the next flush). */
  addSnapshot(layer: number, snapshot: Snapshot): void {
    const chunk = this.#chunk;
    if (!chunk) throw new Error('RunWriter.addSnapshot: no open chunk');
    let stream = chunk.weights.get(layer);
    if (!stream) {
      const file = FILE_NAMES.weights(layer, chunk.entry.index);
      const fanIn = this.manifest.layers[layer - 1]!.size;
      const fanOut = this.manifest.layers[layer]!.size;
      stream = this.#open(file, weightColumns(fanIn, fanOut));
      chunk.weights.set(layer, stream);
      chunk.entry.weights.push({ layer, file, steps: [], reasons: [] });
      chunk.entry.weights.sort((a, b) => a.layer - b.layer);
    }
    const { step, reason, weight, bias, weightGrad, biasGrad } = snapshot;
    this.#append(
      stream,
      encodeBatchMessage(stream.columns, { step: Int32Array.of(step), reason: [reason], weight, bias, weightGrad, biasGrad }, 1),
    );
    const entry = chunk.entry.weights.find((weights) => weights.layer === layer)!;
    entry.steps.push(step);
    entry.reasons.push(reason);
  }

  #finishChunk(): void {
    const chunk = this.#chunk;
    if (!chunk) return;
    this.flush();
    this.#close(chunk.stream);
    for (const stream of chunk.weights.values()) this.#close(stream);
    chunk.entry.complete = true;
    this.#chunk = undefined;
    this.writeManifest();
  }

  /** Flushes and closes every file; the caller sets the final status and writes the manifest. */
  close(): void {
    this.#finishChunk();
  }

  get flushSteps(): number {
    return this.#flushSteps;
  }
}
