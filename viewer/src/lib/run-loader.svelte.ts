/**
 * Loading one run and, while it records, following it: the manifest, then its step chunks as they
 * stream in (the first one painted from a prefix fetched early), then the weight snapshots of each.
 * A run still recording is read again every second for the chunks it added or grew. Every chunk
 * that arrives goes to `onChunk` whole; what is kept of it is the owner's choice (RunData keeps the
 * statistics here and the probe rows in its ProbeRowCache).
 */
import { FILE_NAMES } from '$core/format/columns';
import { fetchFirstBatch, fetchRunSource } from '$core/format/fetch-source';
import type { RunManifest } from '$core/format/manifest';
import { openRun, type RunReader, type RunSource, type StepChunk } from '$core/format/reader';
import type { EdgeMatrix, Snapshot } from '$core/view/frame';
import { DomainTracker } from '$core/view/normalize';
import { followState, type FollowState } from '$core/view/live';

/**
 * Bytes of the first chunk fetched first to paint from: its schema and first batch, the run's first
 * step alone, for the default network (~35 kB). A larger first batch takes a second Range request.
 */
export const FIRST_PAINT_BYTES = 64 * 1024;

/** How often a recording run's run.json is read again. */
export const FOLLOW_INTERVAL_MS = 1000;

export class RunLoader {
  manifest = $state.raw<RunManifest | undefined>(undefined);
  /** Decoded step chunks in order, as `onChunk` returned them. */
  chunks = $state.raw<StepChunk[]>([]);
  /** A message that stops the run from showing at all. */
  error = $state<string | undefined>(undefined);
  /** Problems with parts of the run; what is readable is still shown. */
  problems = $state<string[]>([]);
  loading = $state(false);
  /** For a run that is recording: whether it is still being written to. */
  live = $state<FollowState | undefined>(undefined);
  /** Kept weight snapshots per dense layer (from 2: layer 1's 784 inputs are loaded on demand), in step order. */
  snapshots = $state.raw<Map<number, Snapshot[]>>(new Map());
  /** Domains of every kept W and ∂L/∂W read so far, per layer: the links' global, log and layer scales. */
  readonly edgeDomains: Record<EdgeMatrix, DomainTracker> = { weight: new DomainTracker(), weightGrad: new DomainTracker() };
  #source: RunSource | undefined;
  #reader: RunReader | undefined;
  /** Snapshots per chunk index, then per layer. */
  #chunkSnapshots: Map<number, Snapshot[]>[] = [];
  #stopped = false;
  /** The first chunk as far as the first-paint prefix held it, until the chunk is read whole. */
  #partialPrefix: StepChunk | undefined;
  readonly #onChunk: (chunk: StepChunk) => StepChunk;

  /** @param onChunk takes each decoded chunk and returns what the loader keeps of it */
  constructor(onChunk: (chunk: StepChunk) => StepChunk = (chunk) => chunk) {
    this.#onChunk = onChunk;
  }

  get reader(): RunReader | undefined {
    return this.#reader;
  }

  /** Where a file of the run is, for messages: `<run URL>/<file>`. */
  where(file: string): string {
    return `${this.#source?.label ?? 'run'}/${file}`;
  }

  /** Opens `runUrl` (a run folder's URL) and streams its chunks in order. */
  async load(runUrl: string): Promise<void> {
    this.loading = true;
    try {
      this.#source = fetchRunSource(runUrl);
      // The first chunk's name is fixed by the format: while run.json is read and checked, fetch the
      // chunk's first record batch (Range requests) to paint from, then the whole chunk.
      const prefix = fetchFirstBatch(runUrl, FILE_NAMES.steps(0), FIRST_PAINT_BYTES).catch(() => undefined);
      this.#reader = await openRun(this.#source);
      this.manifest = this.#reader.manifest;
      const head = await prefix;
      if (head?.partial && this.manifest.chunks.length > 0) this.#showPrefix(head.bytes, head.wholeFile);
      await this.#readChunks();
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.loading = false;
    }
  }

  /**
   * Shows the whole batches of the first chunk's prefix; anything wrong is for the full read to report.
   * `whole`: the prefix is the whole file (it ended within the bytes asked for), and is not read again.
   */
  #showPrefix(bytes: Uint8Array, whole: boolean): void {
    try {
      const decoded = this.#reader!.decodeStepsPrefix(0, bytes);
      if (decoded.rows === 0) return;
      const chunk = this.#onChunk(decoded);
      if (!whole) this.#partialPrefix = chunk;
      this.chunks = [chunk];
    } catch {
      return;
    }
  }

  /**
   * Follows a run that is recording: reads run.json every `interval` ms and loads the chunks that
   * were added or grew, until the run ends or the view stops it. Returns the stop function.
   */
  follow(interval = FOLLOW_INTERVAL_MS, now: () => number = Date.now): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // From run.json's own time stamp at first (a run killed long ago is stopped at once), then by our clock.
    const stamped = Date.parse(this.manifest?.updatedAt ?? '');
    let lastChange = Number.isFinite(stamped) ? Math.min(now(), stamped) : now();
    let lastSeen = this.manifest?.updatedAt;
    const poll = async () => {
      if (this.#stopped || !this.#source) return;
      try {
        const reader = await openRun(this.#source);
        if (reader.manifest.updatedAt !== lastSeen) {
          lastSeen = reader.manifest.updatedAt;
          lastChange = now();
          this.#reader = reader;
          this.manifest = reader.manifest;
          await this.#readChunks();
        }
        this.live = followState(reader.manifest.status, now() - lastChange, reader.manifest.updatedAt);
      } catch (error) {
        // The server went away or run.json became unreadable: say so, and try again at the next tick.
        this.live = { state: 'unreachable', message: `Cannot follow the run: ${messageOf(error)}` };
      }
      if (this.live?.state === 'recording' || this.live?.state === 'stalled' || this.live?.state === 'unreachable')
        timer = setTimeout(() => void poll(), interval);
    };
    if (this.manifest?.status === 'recording') {
      this.live = followState('recording', now() - lastChange, this.manifest.updatedAt);
      if (this.live.state !== 'finished') timer = setTimeout(() => void poll(), interval);
    }
    return () => {
      this.#stopped = true;
      clearTimeout(timer);
    };
  }

  /** Reads the chunks that are new or hold more steps than the copy already loaded. */
  async #readChunks(): Promise<void> {
    const reader = this.#reader!;
    const entries = reader.manifest.chunks;
    const chunks = [...this.chunks];
    const problems: string[] = [];
    for (let index = 0; index < entries.length; index++) {
      const loaded = chunks[index];
      // A partial prefix is read whole even when it holds the steps run.json lists: the file can hold
      // more (run.json is written after the bytes, and a killed recorder never writes it again).
      if (loaded && loaded !== this.#partialPrefix && loaded.rows >= entries[index]!.stepCount && loaded.problems.length === 0) {
        // A chunk whole from the first-paint prefix still needs its weight snapshots.
        if (this.#chunkSnapshots[index] === undefined) await this.#loadSnapshots(index, problems);
        continue;
      }
      let decoded: StepChunk;
      try {
        decoded = await reader.readSteps(index);
      } catch (error) {
        problems.push(messageOf(error));
        break;
      }
      if (loaded === this.#partialPrefix) this.#partialPrefix = undefined;
      const chunk = this.#onChunk(decoded);
      chunks[index] = chunk;
      this.chunks = chunks.slice();
      // Steps first, so the network paints at once; the chunk's snapshots (edges) follow.
      await this.#loadSnapshots(index, problems);
      // Problems of a chunk still being written are the recorder's next bytes, not damage.
      if (entries[index]!.complete || reader.manifest.status !== 'recording') problems.push(...chunk.problems);
      if (chunk.rows < entries[index]!.stepCount || chunk.rows === 0) break;
    }
    this.problems = problems;
  }

  async #loadSnapshots(chunkIndex: number, problems: string[]): Promise<void> {
    const manifest = this.manifest!;
    const byLayer = new Map<number, Snapshot[]>();
    for (let layer = 2; layer < manifest.layers.length; layer++) {
      let decoded;
      try {
        decoded = await this.#reader!.readWeights(chunkIndex, layer);
      } catch (error) {
        problems.push(messageOf(error));
        continue;
      }
      if (!decoded) continue;
      const width = manifest.layers[layer - 1]!.size * manifest.layers[layer]!.size;
      const steps = decoded.values.get('snapshotStep')!;
      const weight = decoded.values.get('weight')!;
      const weightGrad = decoded.values.get('weightGrad')!;
      const list: Snapshot[] = [];
      this.edgeDomains.weight.add(layer, weight);
      this.edgeDomains.weightGrad.add(layer, weightGrad);
      for (let row = 0; row < decoded.rows; row++) {
        const cells = { start: row * width, end: (row + 1) * width };
        list.push({
          step: steps[row]!,
          weight: weight.subarray(cells.start, cells.end),
          weightGrad: weightGrad.subarray(cells.start, cells.end),
        });
      }
      byLayer.set(layer, list);
      if (decoded.problems.length > 0 && manifest.chunks[chunkIndex]!.complete) problems.push(...decoded.problems);
    }
    this.#chunkSnapshots[chunkIndex] = byLayer;
    const merged = new Map<number, Snapshot[]>();
    for (const chunk of this.#chunkSnapshots) {
      for (const [layer, list] of chunk ?? []) merged.set(layer, [...(merged.get(layer) ?? []), ...list]);
    }
    this.snapshots = merged;
  }

  /** Adds a problem found later (a chunk read again, the probes file), once. */
  report(message: string): void {
    if (!this.problems.includes(message)) this.problems = [...this.problems, message];
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
