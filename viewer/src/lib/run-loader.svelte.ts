/**
 * Loading one run and, while it records, following it: the manifest, then its step chunks as they
 * stream in (the first one painted from a prefix fetched early), then the weight snapshots and int8
 * link frames of each. A run still recording is read again every second for the chunks it added or
 * grew. Every chunk that arrives goes to `onChunk` whole; what is kept of it is the owner's choice
 * (RunData keeps the statistics here and the probe rows in its ProbeRowCache).
 *
 * Layer 1's snapshots and link frames (784 inputs per neuron: most of a run's weight bytes, drawn
 * only in receptive fields) are read once something asks for them (`loadLayerOne`), then for every
 * chunk; link frames stay int8 codes (784×512×2 bytes a frame) and are decoded when drawn.
 */
import { FILE_NAMES } from '$core/format/columns';
import { fetchFirstBatch, fetchRunSource } from '$core/format/fetch-source';
import type { RunManifest } from '$core/format/manifest';
import { RUN_INDEX_FILE, type RunSummary } from '$core/format/run-index';
import { openRun, type RunReader, type RunSource, type StepChunk } from '$core/format/reader';
import type { EdgeMatrix, Snapshot } from '$core/view/frame';
import { int8Extremes } from '$core/format/int8';
import type { LinkFrame } from '$core/view/links';
import { DomainTracker } from '$core/view/normalize';
import { followState, type FollowState } from '$core/view/live';
import { tooLargeToDraw } from '$core/view/limits';

/**
 * Bytes of the first chunk fetched first to paint from: its schema and first batch, the run's first
 * step alone, for the default network (~35 kB). A larger first batch takes a second Range request.
 */
export const FIRST_PAINT_BYTES = 64 * 1024;

/** How often a recording run's run.json is read again. */
export const FOLLOW_INTERVAL_MS = 1000;

/** Chunks read are handed to the views at most every PUBLISH_MS, plus PUBLISH_MS_PER_STEP for each step loaded (1.25 s at 100,000). */
const PUBLISH_MS = 250;
const PUBLISH_MS_PER_STEP = 0.01;

export class RunLoader {
  manifest = $state.raw<RunManifest | undefined>(undefined);
  /** Decoded step chunks in order, as `onChunk` returned them. */
  chunks = $state.raw<StepChunk[]>([]);
  /** A message that stops the run from showing at all. */
  error = $state<string | undefined>(undefined);
  /** Problems with parts of the run; what is readable is still shown. */
  problems = $state<string[]>([]);
  loading = $state(false);
  /** The run's folder is there but its run.json not yet: its recorder is starting, and the run is waited for. */
  starting = $state(false);
  /** For a run that is recording: whether it is still being written to. */
  live = $state<FollowState | undefined>(undefined);
  /** Kept weight snapshots per dense layer (layer 1's once `loadLayerOne` read them), in step order. */
  snapshots = $state.raw<Map<number, Snapshot[]>>(new Map());
  /** Int8 link frames per dense layer (layer 1's once `loadLayerOne` read them), in step order. */
  links = $state.raw<Map<number, LinkFrame[]>>(new Map());
  /** Whether layer 1's files have been read (`loadLayerOne`), and what went wrong reading them. */
  layerOne = $state<{ read: boolean; problems: string[] }>({ read: false, problems: [] });
  /** Domains of every kept W and ∂L/∂W read so far (snapshots and link frames), per layer from 2: the links' global, log and layer scales. */
  readonly edgeDomains: Record<EdgeMatrix, DomainTracker> = { weight: new DomainTracker(), weightGrad: new DomainTracker() };
  #source: RunSource | undefined;
  #reader: RunReader | undefined;
  /** Snapshots and link frames per chunk index, then per layer; undefined for a chunk not read yet. */
  #chunkSnapshots: Map<number, Snapshot[]>[] = [];
  #chunkLinks: Map<number, LinkFrame[]>[] = [];
  /** Set once layer 1's files are asked for: from then on every chunk's are read with the others. */
  #layerOne: Promise<void> | undefined;
  #stopped = false;
  /** Problems reported by `report`, kept when the chunks are read again. */
  readonly #reported = new Set<string>();
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
      const reader = await this.#openWhenStarted(runUrl);
      const tooLarge = tooLargeToDraw(reader.manifest.layers);
      if (tooLarge) {
        this.error = `${this.where(FILE_NAMES.manifest)}: ${tooLarge}`;
        return;
      }
      this.#reader = reader;
      this.manifest = reader.manifest;
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
   * Opens run.json; while the runs list says the run is `starting` (its folder made, run.json not
   * written yet), tries again every FOLLOW_INTERVAL_MS instead of failing: a run opened in its first
   * seconds appears by itself.
   */
  async #openWhenStarted(runUrl: string): Promise<RunReader> {
    for (;;) {
      try {
        const reader = await openRun(this.#source!);
        this.starting = false;
        return reader;
      } catch (error) {
        if (this.#stopped || !(await listedAsStarting(runUrl))) throw error;
        this.starting = true;
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
      }
    }
  }

  /** Stops waiting for the run to start and following it (the view is closed). */
  stop(): void {
    this.#stopped = true;
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

  /**
   * Reads the chunks that are new or hold more steps than the copy already loaded. The first one is
   * shown at once; the others are handed to the views every PUBLISH_MS and more (longer as the run
   * grows: each hand-over recomputes the charts over every loaded step), and at the end.
   */
  async #readChunks(): Promise<void> {
    const reader = this.#reader!;
    const entries = reader.manifest.chunks;
    const chunks = [...this.chunks];
    const problems: string[] = [];
    let published = performance.now();
    const publish = (force: boolean) => {
      const steps = chunks.reduce((total, chunk) => total + (chunk?.rows ?? 0), 0);
      if (!force && performance.now() - published < PUBLISH_MS + steps * PUBLISH_MS_PER_STEP) return;
      this.chunks = chunks.slice();
      this.#merge();
      published = performance.now();
    };
    for (let index = 0; index < entries.length; index++) {
      const loaded = chunks[index];
      // A partial prefix is read whole even when it holds the steps run.json lists: the file can hold
      // more (run.json is written after the bytes, and a killed recorder never writes it again).
      if (loaded && loaded !== this.#partialPrefix && loaded.rows >= entries[index]!.stepCount && loaded.problems.length === 0) {
        // A chunk whole from the first-paint prefix still needs its weight snapshots.
        if (this.#chunkSnapshots[index] === undefined) {
          await this.#loadSnapshots(index, problems);
          publish(index === 0);
        }
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
      // Steps first, so the network paints at once; the chunk's snapshots (edges) follow.
      if (this.chunks.length === 0 || index === 0) this.chunks = chunks.slice();
      await this.#loadSnapshots(index, problems);
      publish(index === 0);
      // Problems of a chunk still being written are the recorder's next bytes, not damage.
      if (entries[index]!.complete || reader.manifest.status !== 'recording') problems.push(...chunk.problems);
      if (chunk.rows < entries[index]!.stepCount || chunk.rows === 0) break;
    }
    publish(true);
    // Problems reported meanwhile (layer 1's files, the probes) stay: they are not the chunks' to clear.
    this.problems = [...new Set([...problems, ...this.#reported])];
  }

  /**
   * Reads layer 1's snapshots and link frames of every chunk read so far (and, from now on, of every
   * chunk as it is read); resolves when they are in `snapshots` and `links`. Once per run.
   */
  loadLayerOne(): Promise<void> {
    this.#layerOne ??= (async () => {
      const problems: string[] = [];
      for (let index = 0; index < this.#chunkSnapshots.length; index++) {
        if (this.#chunkSnapshots[index] !== undefined) await this.#loadLayers(index, [1], problems);
      }
      this.#merge();
      for (const problem of problems) this.report(problem);
      this.layerOne = { read: true, problems };
    })();
    return this.#layerOne;
  }

  /** Reads a chunk's weight snapshots and link frames of every layer shown (layer 1 once asked for). */
  async #loadSnapshots(chunkIndex: number, problems: string[]): Promise<void> {
    const layers = Array.from({ length: this.manifest!.layers.length - 1 }, (_, index) => index + 1);
    await this.#loadLayers(
      chunkIndex,
      layers.filter((layer) => layer > 1 || this.#layerOne !== undefined),
      problems,
    );
  }

  async #loadLayers(chunkIndex: number, layers: number[], problems: string[]): Promise<void> {
    const manifest = this.manifest!;
    const complete = manifest.chunks[chunkIndex]!.complete;
    const snapshots = (this.#chunkSnapshots[chunkIndex] ??= new Map());
    const links = (this.#chunkLinks[chunkIndex] ??= new Map());
    for (const layer of layers) {
      const width = manifest.layers[layer - 1]!.size * manifest.layers[layer]!.size;
      // Layer 1's links are not drawn as lines: its matrices do not set the links' scales.
      const drawn = layer > 1;
      try {
        const decoded = await this.#reader!.readWeights(chunkIndex, layer);
        if (decoded) {
          const steps = decoded.values.get('snapshotStep')!;
          const weight = decoded.values.get('weight')!;
          const weightGrad = decoded.values.get('weightGrad')!;
          if (drawn) {
            this.edgeDomains.weight.add(layer, weight);
            this.edgeDomains.weightGrad.add(layer, weightGrad);
          }
          snapshots.set(
            layer,
            Array.from({ length: decoded.rows }, (_, row) => ({
              step: steps[row]!,
              weight: weight.subarray(row * width, (row + 1) * width),
              weightGrad: weightGrad.subarray(row * width, (row + 1) * width),
              precision: 'float32' as const,
            })),
          );
          if (complete) for (const problem of decoded.problems) this.#layerProblem(layer, problem, problems);
        }
      } catch (error) {
        this.#layerProblem(layer, messageOf(error), problems);
      }
      try {
        const decoded = await this.#reader!.readLinks(chunkIndex, layer);
        if (decoded) {
          const steps = decoded.values.get('linkStep')!;
          const weightCodes = decoded.values.get('weightCode')!;
          const weightScales = decoded.values.get('weightScale')!;
          const gradCodes = decoded.values.get('weightGradCode')!;
          const gradScales = decoded.values.get('weightGradScale')!;
          const frames = Array.from({ length: decoded.rows }, (_, row): LinkFrame => {
            const frame = {
              step: steps[row]!,
              weightCodes: weightCodes.subarray(row * width, (row + 1) * width),
              weightScale: weightScales[row]!,
              weightGradCodes: gradCodes.subarray(row * width, (row + 1) * width),
              weightGradScale: gradScales[row]!,
            };
            if (drawn) {
              this.edgeDomains.weight.add(layer, int8Extremes(frame.weightCodes, frame.weightScale));
              this.edgeDomains.weightGrad.add(layer, int8Extremes(frame.weightGradCodes, frame.weightGradScale));
            }
            return frame;
          });
          links.set(layer, frames);
          if (complete) for (const problem of decoded.problems) this.#layerProblem(layer, problem, problems);
        }
      } catch (error) {
        this.#layerProblem(layer, messageOf(error), problems);
      }
    }
  }

  /** A layer's file that cannot be read: a problem of the run, and of layer 1's views when it is layer 1's. */
  #layerProblem(layer: number, message: string, problems: string[]): void {
    problems.push(message);
    if (layer === 1 && this.layerOne.read && !this.layerOne.problems.includes(message)) {
      this.layerOne = { read: true, problems: [...this.layerOne.problems, message] };
    }
  }

  /** Every chunk's snapshots and link frames, per layer in step order. */
  #merge(): void {
    const merge = <T>(chunks: Map<number, T[]>[]) => {
      const merged = new Map<number, T[]>();
      for (const chunk of chunks) {
        for (const [layer, list] of chunk ?? []) merged.set(layer, [...(merged.get(layer) ?? []), ...list]);
      }
      return merged;
    };
    this.snapshots = merge(this.#chunkSnapshots);
    this.links = merge(this.#chunkLinks);
  }

  /** Adds a problem found later (a chunk read again, the probes file), once. */
  report(message: string): void {
    this.#reported.add(message);
    if (!this.problems.includes(message)) this.problems = [...this.problems, message];
  }
}

/** Whether the runs list beside `runUrl` (`…/runs/<name>`) lists the run as starting. */
async function listedAsStarting(runUrl: string): Promise<boolean> {
  const slash = runUrl.lastIndexOf('/');
  const name = decodeURIComponent(runUrl.slice(slash + 1));
  try {
    const response = await fetch(`${runUrl.slice(0, slash)}/${RUN_INDEX_FILE}`, { cache: 'no-store' });
    if (!response.ok) return false;
    const runs: unknown = await response.json();
    return Array.isArray(runs) && runs.some((run: Partial<RunSummary> | null) => run?.name === name && run.status === 'starting');
  } catch {
    return false;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
