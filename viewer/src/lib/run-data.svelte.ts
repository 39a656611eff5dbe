/**
 * One run as the viewer holds it: the manifest, then its step chunks as they stream in, and, for a
 * run still recording, the chunks it adds or grows (`follow`). Large decoded arrays live in
 * `$state.raw`; nothing here touches the DOM.
 */
import { FILE_NAMES, layerColumnName, type PerLayerField } from '$core/format/columns';
import { fetchFirstBatch, fetchRunSource } from '$core/format/fetch-source';
import type { NullableValues } from '$core/format/decode';
import type { RunManifest } from '$core/format/manifest';
import { openRun, type RunReader, type RunSource, type StepChunk, type WeightChunk } from '$core/format/reader';
import type { FrameSource, Snapshot } from '$core/view/frame';
import { followState, type FollowState } from '$core/view/live';
import { DomainTracker } from '$core/view/normalize';
import type { View } from '$core/view/url-state';

/**
 * Bytes of the first chunk fetched first to paint from: its schema and first batch, the run's first
 * step alone, for the default network (~35 kB). A larger first batch takes a second Range request.
 */
const FIRST_PAINT_BYTES = 64 * 1024;

/** How often a recording run's run.json is read again. */
export const FOLLOW_INTERVAL_MS = 1000;

/**
 * Step chunks that keep their probe rows decoded, the ones used last. The probes' per-neuron
 * activations and gradients are most of a step (26 of the default network's 31 kB): a long run
 * keeps everything else of every step, and reads a chunk again when a step in it needs its probes.
 */
export const HOT_CHUNKS = 8;

/** Columns a chunk drops when it leaves the hot set: each probe's per-neuron activations and gradients. */
export function isProbeRowColumn(name: string): boolean {
  return name.endsWith('.probeActivation') || name.endsWith('.probeGradPreActivation');
}

export class RunData implements FrameSource {
  manifest = $state.raw<RunManifest | undefined>(undefined);
  chunks = $state.raw<StepChunk[]>([]);
  /** Steps decoded so far. */
  loadedSteps = $state(0);
  /** A message that stops the run from showing at all. */
  error = $state<string | undefined>(undefined);
  /** Problems with parts of the run; what is readable is still shown. */
  problems = $state<string[]>([]);
  loading = $state(false);
  /** For a run that is recording: whether it is still being written to. */
  live = $state<FollowState | undefined>(undefined);
  /** Training loss of every loaded step. */
  loss = $state.raw(new Float32Array(0));
  /** Held-out loss where it was evaluated. */
  evalLoss = $state.raw<{ step: number; loss: number }[]>([]);
  /** Kept weight snapshots per dense layer (from 2: layer 1's 784 inputs are loaded on demand), in step order. */
  snapshots = $state.raw<Map<number, Snapshot[]>>(new Map());
  /** The run's status, with a `recording` run whose recorder stopped shown as interrupted. */
  readonly status = $derived(this.live?.state === 'finished' ? this.live.status : this.manifest?.status);
  /** Steps the timeline spans: the plan while the run records, else the steps it recorded (and at least those loaded). */
  readonly timelineSteps = $derived(
    Math.max(this.status === 'recording' ? (this.manifest?.plannedSteps ?? 0) : (this.manifest?.stepCount ?? 0), this.loadedSteps),
  );
  readonly layerSizes = $derived(this.manifest ? this.manifest.layers.map((layer) => layer.size) : []);
  readonly activations = new DomainTracker();
  readonly gradients = new DomainTracker();
  #source: RunSource | undefined;
  #reader: RunReader | undefined;
  /** Snapshots per chunk index, then per layer. */
  #chunkSnapshots: Map<number, Snapshot[]>[] = [];
  #probes: Promise<{ inputs: Float32Array; labels: Uint8Array } | undefined> | undefined;
  #layer1: Promise<WeightChunk | undefined>[] = [];
  #stopped = false;
  /** The first chunk as far as the first-paint prefix held it, until the chunk is read whole. */
  #partialPrefix: StepChunk | undefined;
  /** Indices of the chunks whose probe rows are decoded, least recently used first (not reactive). */
  #hot: number[] = [];
  /** Counts chunks whose probe rows were read again: the probe accessors depend on it besides `chunks`. */
  #probeRowsRead = $state(0);
  /** The cold chunk being read again, and the one wanted next: one read at a time, the newest wish wins. */
  #reading: number | undefined;
  #wanted: number | undefined;
  /** Chunks that could not be read again (their problem is shown once): not tried again. */
  #unreadable = new Set<number>();

  /** Opens `runUrl` (a run folder's URL) and streams its chunks in order. */
  async load(runUrl: string): Promise<void> {
    this.loading = true;
    try {
      this.#source = fetchRunSource(runUrl);
      // The first chunk's name is fixed by the format: while run.json is read and checked, fetch the
      // chunk's first record batch (Range requests) to paint from, then the whole chunk.
      const firstChunk = FILE_NAMES.steps(0);
      const prefix = fetchFirstBatch(runUrl, firstChunk, FIRST_PAINT_BYTES).catch(() => undefined);
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
      const chunk = this.#reader!.decodeStepsPrefix(0, bytes);
      if (chunk.rows === 0) return;
      if (!whole) this.#partialPrefix = chunk;
      this.#track(chunk);
      this.#use(chunk, [chunk]);
      this.chunks = [chunk];
      this.#rebuildSeries();
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
      let chunk: StepChunk;
      try {
        chunk = await reader.readSteps(index);
      } catch (error) {
        problems.push(messageOf(error));
        break;
      }
      if (loaded === this.#partialPrefix) this.#partialPrefix = undefined;
      this.#track(chunk);
      chunks[index] = chunk;
      this.#use(chunk, chunks);
      this.chunks = chunks.slice();
      this.#rebuildSeries();
      // Steps first, so the network paints at once; the chunk's snapshots (edges) follow.
      await this.#loadSnapshots(index, problems);
      // Problems of a chunk still being written are the recorder's next bytes, not damage.
      if (entries[index]!.complete || reader.manifest.status !== 'recording') problems.push(...chunk.problems);
      if (chunk.rows < entries[index]!.stepCount || chunk.rows === 0) break;
    }
    this.problems = problems;
  }

  #track(chunk: StepChunk): void {
    const layers = (this.manifest?.layers.length ?? 1) - 1;
    for (let layer = 1; layer <= layers; layer++) {
      this.activations.add(layer, chunk.columns[layerColumnName(layer, 'meanActivation')] as Float32Array);
      this.gradients.add(layer, absolute(chunk.columns[layerColumnName(layer, 'gradPreActivation')] as Float32Array));
    }
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
      const steps = decoded.columns.step as Int32Array;
      const weight = decoded.columns.weight as Float32Array;
      const weightGrad = decoded.columns.weightGrad as Float32Array;
      const list: Snapshot[] = [];
      for (let row = 0; row < decoded.rows; row++) {
        list.push({
          step: steps[row]!,
          weight: weight.subarray(row * width, (row + 1) * width),
          weightGrad: weightGrad.subarray(row * width, (row + 1) * width),
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

  domainTracker(view: View): DomainTracker {
    return view === 'activation' ? this.activations : this.gradients;
  }

  /** The latest kept snapshot of `layer` at or before `step`. */
  snapshotAt(layer: number, step: number): Snapshot | undefined {
    const list = this.snapshots.get(layer);
    if (!list || list.length === 0 || list[0]!.step > step) return undefined;
    let low = 0;
    let high = list.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (list[middle]!.step <= step) low = middle;
      else high = middle - 1;
    }
    return list[low];
  }

  #rebuildSeries(): void {
    let steps = 0;
    for (const chunk of this.chunks) steps += chunk?.rows ?? 0;
    const loss = new Float32Array(steps);
    const points: { step: number; loss: number }[] = [];
    let offset = 0;
    for (const chunk of this.chunks) {
      if (!chunk) continue;
      loss.set((chunk.columns.loss as Float32Array).subarray(0, chunk.rows), offset);
      const evaluated = chunk.columns.evalLoss as NullableValues;
      for (let row = 0; row < chunk.rows; row++)
        if (evaluated.valid[row]) points.push({ step: chunk.firstStep + row, loss: evaluated.values[row]! });
      offset += chunk.rows;
    }
    this.loss = loss;
    this.evalLoss = points;
    this.loadedSteps = steps;
  }

  /**
   * Marks `chunk` used last; the chunk used longest ago beyond HOT_CHUNKS drops its probe rows.
   * Plain bookkeeping, no reactive state: it runs while the view computes a frame.
   */
  #use(chunk: StepChunk, chunks: readonly StepChunk[]): void {
    const hot = this.#hot;
    const at = hot.indexOf(chunk.index);
    if (at === hot.length - 1 && at >= 0) return;
    if (at >= 0) hot.splice(at, 1);
    hot.push(chunk.index);
    while (hot.length > HOT_CHUNKS) {
      const cold = chunks[hot.shift()!];
      if (!cold) continue;
      for (const name of Object.keys(cold.columns)) if (isProbeRowColumn(name)) delete cold.columns[name];
    }
  }

  /** Whether `chunk` holds its probe rows; if not, asks for them to be read again (the view updates when they arrive). */
  #hasProbeRows(chunk: StepChunk): boolean {
    if (this.#hot.includes(chunk.index)) {
      this.#use(chunk, this.chunks);
      return true;
    }
    if (!this.#unreadable.has(chunk.index)) {
      this.#wanted = chunk.index;
      this.#readWanted();
    }
    return false;
  }

  /** Reads the wanted cold chunk again for its probe rows, unless a read is under way (it reads the newest wish when done). */
  #readWanted(): void {
    const index = this.#wanted;
    const reader = this.#reader;
    if (this.#reading !== undefined || index === undefined || !reader) return;
    this.#wanted = undefined;
    const chunk = this.chunks[index];
    if (!chunk || this.#hot.includes(index)) return;
    this.#reading = index;
    reader
      .readSteps(index)
      .then((again) => {
        // A chunk replaced meanwhile was read whole (live); one whose file now holds more rows gives its first ones.
        if (this.chunks[index] !== chunk) return;
        if (again.rows < chunk.rows)
          throw new Error(`${this.manifest?.chunks[index]?.file ?? `chunk ${index}`}: fewer steps than when first read`);
        for (const [name, values] of Object.entries(again.columns)) {
          if (!isProbeRowColumn(name)) continue;
          const numbers = values as Float32Array;
          chunk.columns[name] = again.rows === chunk.rows ? numbers : numbers.slice(0, (numbers.length / again.rows) * chunk.rows);
        }
        this.#use(chunk, this.chunks);
        this.#probeRowsRead++;
      })
      .catch((error: unknown) => {
        this.#unreadable.add(index);
        const message = messageOf(error);
        if (!this.problems.includes(message)) this.problems = [...this.problems, message];
      })
      .finally(() => {
        this.#reading = undefined;
        this.#readWanted();
      });
  }

  /** `#locate`, for the columns a chunk drops when it goes cold: undefined while they are read again. */
  #locateProbeRows(step: number): { chunk: StepChunk; row: number } | undefined {
    void this.#probeRowsRead;
    const found = this.#locate(step);
    return found && this.#hasProbeRows(found.chunk) ? found : undefined;
  }

  #locate(step: number): { chunk: StepChunk; row: number } | undefined {
    for (const chunk of this.chunks) {
      if (step >= chunk.firstStep && step < chunk.firstStep + chunk.rows) return { chunk, row: step - chunk.firstStep };
    }
    return undefined;
  }

  /** A per-neuron field of dense layer `layer` at `step`, or undefined while it has not loaded. */
  neuronValues(step: number, layer: number, field: PerLayerField): Float32Array | undefined {
    const found = this.#locate(step);
    const size = this.manifest?.layers[layer]?.size;
    if (!found || size === undefined) return undefined;
    const values = found.chunk.columns[layerColumnName(layer, field)] as Float32Array | undefined;
    return values?.subarray(found.row * size, (found.row + 1) * size);
  }

  meanInput(step: number): Float32Array | undefined {
    const found = this.#locate(step);
    const size = this.manifest?.layers[0]?.size;
    if (!found || size === undefined) return undefined;
    return (found.chunk.columns.meanInput as Float32Array).subarray(found.row * size, (found.row + 1) * size);
  }

  /** One neuron's per-step values of a field over every loaded step. */
  neuronHistory(layer: number, neuron: number, field: PerLayerField): Float32Array {
    const size = this.manifest?.layers[layer]?.size ?? 0;
    const history = new Float32Array(this.loadedSteps);
    let offset = 0;
    for (const chunk of this.chunks) {
      const values = chunk.columns[layerColumnName(layer, field)] as Float32Array | undefined;
      for (let row = 0; row < chunk.rows; row++) history[offset + row] = values ? values[row * size + neuron]! : Number.NaN;
      offset += chunk.rows;
    }
    return history;
  }

  /** A neuron's exact recorded values at `step`, one line each, for tooltips. */
  neuronSummary(step: number, neuron: { layer: number; index: number }): string[] {
    const value = (field: 'meanActivation' | 'fractionActive' | 'gradPreActivation') =>
      this.neuronValues(step, neuron.layer, field)?.[neuron.index]?.toPrecision(6) ?? '–';
    return [
      `mean activation ${value('meanActivation')}`,
      `fraction active ${value('fractionActive')}`,
      `∂L/∂z ${value('gradPreActivation')}`,
    ];
  }

  /** A per-layer scalar (weightNorm, gradNorm, updateRatio) of every loaded step. */
  layerHistory(layer: number, field: 'weightNorm' | 'gradNorm' | 'updateRatio'): Float32Array {
    const history = new Float32Array(this.loadedSteps);
    let offset = 0;
    for (const chunk of this.chunks) {
      history.set((chunk.columns[layerColumnName(layer, field)] as Float32Array).subarray(0, chunk.rows), offset);
      offset += chunk.rows;
    }
    return history;
  }

  /** Fraction of a layer's neurons inactive on the whole batch (fraction active 0), per loaded step. */
  inactiveHistory(layer: number): Float32Array {
    const size = this.manifest?.layers[layer]?.size ?? 1;
    const history = new Float32Array(this.loadedSteps);
    let offset = 0;
    for (const chunk of this.chunks) {
      const active = chunk.columns[layerColumnName(layer, 'fractionActive')] as Float32Array;
      for (let row = 0; row < chunk.rows; row++) {
        let inactive = 0;
        for (let neuron = 0; neuron < size; neuron++) if (active[row * size + neuron] === 0) inactive++;
        history[offset + row] = inactive / size;
      }
      offset += chunk.rows;
    }
    return history;
  }

  /** One probe's per-neuron values of dense layer `layer` at `step`. */
  probeLayerValues(
    step: number,
    layer: number,
    field: 'probeActivation' | 'probeGradPreActivation',
    probe: number,
  ): Float32Array | undefined {
    const found = this.#locateProbeRows(step);
    const size = this.manifest?.layers[layer]?.size;
    const count = this.manifest?.probes?.count ?? 0;
    const values = found?.chunk.columns[layerColumnName(layer, field)] as Float32Array | undefined;
    if (!found || size === undefined || !values || probe >= count) return undefined;
    const start = (found.row * count + probe) * size;
    return values.subarray(start, start + size);
  }

  /** The class the network predicted for `probe` at `step`. */
  probePredicted(step: number, probe: number): number | undefined {
    const found = this.#locate(step);
    const count = this.manifest?.probes?.count ?? 0;
    return found && probe < count ? (found.chunk.columns.probePredicted as Uint8Array)[found.row * count + probe] : undefined;
  }

  /** Probe activations of one neuron at a step, [probe]. */
  probeValues(step: number, layer: number, neuron: number): Float32Array | undefined {
    const found = this.#locateProbeRows(step);
    const size = this.manifest?.layers[layer]?.size;
    const count = this.manifest?.probes?.count ?? 0;
    const values = found?.chunk.columns[layerColumnName(layer, 'probeActivation')] as Float32Array | undefined;
    if (!found || size === undefined || !values) return undefined;
    const rowStart = found.row * count * size;
    return Float32Array.from({ length: count }, (_, probe) => values[rowStart + probe * size + neuron]!);
  }

  /** The probe inputs and labels (loaded once, on first use); a probes file that cannot be read is a problem shown, not an error. */
  async probes(): Promise<{ inputs: Float32Array; labels: Uint8Array } | undefined> {
    this.#probes ??= this.#reader
      ?.readProbes()
      .then((decoded) =>
        decoded ? { inputs: decoded.columns.input as Float32Array, labels: decoded.columns.label as Uint8Array } : undefined,
      )
      .catch((error: unknown) => {
        this.problems = [...this.problems, messageOf(error)];
        return undefined;
      });
    return this.#probes;
  }

  /**
   * Layer 1's incoming weights of one neuron and their gradients ∂L/∂W, at the nearest kept step at
   * or before `step`, each as a 28×28 image.
   */
  async incomingWeights(
    neuron: number,
    step: number,
  ): Promise<{ step: number; weights: Float32Array; weightGrads: Float32Array } | undefined> {
    const manifest = this.manifest;
    if (!manifest || !this.#reader) return undefined;
    const fanIn = manifest.layers[0]!.size;
    const fanOut = manifest.layers[1]!.size;
    let best: { chunk: WeightChunk; row: number; step: number } | undefined;
    for (let index = 0; index < manifest.chunks.length && manifest.chunks[index]!.firstStep <= step; index++) {
      const entry = manifest.chunks[index]!.weights.find((weights) => weights.layer === 1);
      if (!entry || !entry.steps.some((kept) => kept <= step)) continue;
      this.#layer1[index] ??= this.#reader.readWeights(index, 1);
      const decoded = await this.#layer1[index];
      if (!decoded) continue;
      const steps = decoded.columns.step as Int32Array;
      for (let row = 0; row < decoded.rows && steps[row]! <= step; row++) best = { chunk: decoded, row, step: steps[row]! };
    }
    if (!best) return undefined;
    const { chunk, row } = best;
    const column = (matrix: Float32Array) =>
      Float32Array.from({ length: fanIn }, (_, input) => matrix[row * fanIn * fanOut + input * fanOut + neuron]!);
    return {
      step: best.step,
      weights: column(chunk.columns.weight as Float32Array),
      weightGrads: column(chunk.columns.weightGrad as Float32Array),
    };
  }

  scalar(step: number, column: 'loss' | 'accuracy'): number | undefined {
    const found = this.#locate(step);
    return found ? (found.chunk.columns[column] as Float32Array)[found.row] : undefined;
  }
}

function absolute(values: Float32Array): Float32Array {
  return values.map(Math.abs);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
