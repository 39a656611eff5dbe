/**
 * One run as the viewer holds it: a RunLoader streams (and follows) it; RowCaches hold the large rows
 * of the chunks used last — the per-neuron values, the probes' per-neuron values, the mean
 * activations by class, the batch's mean input — while every chunk keeps its scalars and a summary
 * (core/view/chunk-summary.ts: percentile bands every step, each neuron's history in blocks, class
 * means in blocks), so that a 100,000-step run fits in a page. The queries the views ask are answered
 * from these (core/view/run-series.ts). Large decoded arrays live in `$state.raw`; nothing here
 * touches the DOM, and nothing here starts a read from a derivation: views call the `want*` methods
 * from effects.
 */
import {
  NEURON_QUANTITIES,
  quantity,
  recordedIn,
  type LayerScalarQuantity,
  type NeuronQuantity,
  type ProbeNeuronQuantity,
  type View,
} from '$core/format/quantities';
import { absentOf, dropoutLabel, type DenseLayer } from '$core/format/manifest';
import type { StepChunk } from '$core/format/reader';
import { ACTIVATION_FUNCTIONS, type Activation } from '$core/nn/activation';
import { DISTRIBUTION_PERCENTILES } from '$core/view/chart-series';
import {
  CLASS_BLOCK_STEPS,
  distributionHistory,
  HISTORY_BLOCKS,
  neuronHistory,
  summarizeChunk,
  summaryBlockSteps,
  StepSeries,
  type ChunkSummary,
  type NeuronHistory,
} from '$core/view/chunk-summary';
import { classPreference, type ClassPreference } from '$core/view/class-selectivity';
import type { EdgeMatrix, FrameSource, Snapshot } from '$core/view/frame';
import { freshestAt, linkColumn, linkSnapshot, type LinkFrame } from '$core/view/links';
import { DomainTracker } from '$core/view/normalize';
import * as series from '$core/view/run-series';
import { HOT_CHUNKS, RowCache } from './row-cache.svelte';
import { messageOf, RunLoader } from './run-loader.svelte';

export { FOLLOW_INTERVAL_MS } from './run-loader.svelte';
export { HOT_CHUNKS } from './row-cache.svelte';

/** Steps whose per-class means the class view averages: one batch holds a handful of each class. */
export const CLASS_WINDOW = 25;

/** Decoded link frames kept per layer: the frame drawn and its neighbours while scrubbing (a 512×256 frame decodes to 1 MiB). */
const DECODED_LINK_FRAMES = 3;

/** A neuron's incoming weights of layer 1 and their gradients, each in the input's shape. */
export interface IncomingWeights {
  step: number;
  weights: Float32Array;
  weightGrads: Float32Array;
  /** `int8`: from a link frame, each value within 1/254 of the layer's largest |value| at that step. */
  precision: 'float32' | 'int8';
}

export interface ProbeSet {
  inputs: Float32Array;
  labels: Uint8Array;
}

/** Steps whose mean input is held (about 3 kB a step for MNIST): every step of most runs. */
export const INPUT_STEPS = 2048;

/** Bytes of per-neuron rows held (the default network's 2.4 kB a step: 3,400 steps; 784-512-256-128-10's 11 kB: 750). */
export const NEURON_ROW_BYTES = 8 * 1024 ** 2;

/** What a test may shrink to see a long run's behaviour on a short one. */
export interface RunDataLimits {
  /** Blocks a neuron's history holds at most (core/view/chunk-summary.ts). */
  historyBlocks?: number;
  /** Bytes of per-neuron rows held. */
  neuronRowBytes?: number;
}

export class RunData implements FrameSource {
  readonly loader = new RunLoader((chunk) => this.#keep(chunk));
  /** Chunks being read again, shared by both caches. */
  #rereads = new Map<number, Promise<StepChunk>>();
  readonly #reread = (index: number): Promise<StepChunk> => {
    let reading = this.#rereads.get(index);
    if (!reading) {
      reading = this.loader
        .reader!.readSteps(index)
        .then((again) => {
          const before = this.chunks[index]?.rows ?? 0;
          const file = this.loader.where(this.manifest?.chunks[index]?.file ?? `chunk ${index}`);
          if (again.rows < before) throw new Error(`${file}: holds ${again.rows} steps, fewer than the ${before} read before`);
          return again;
        })
        .finally(() => this.#rereads.delete(index));
      this.#rereads.set(index, reading);
    }
    return reading;
  };
  // With each probe's loss, which no view shows yet: 6 MB over 100,000 steps.
  readonly probeRows = new RowCache(['probeActivation', 'probeGradPreActivation', 'probeLoss'], this.#reread, (message) =>
    this.loader.report(message),
  );
  readonly classRows = new RowCache(['classActivation'], this.#reread, (message) => this.loader.report(message));
  /**
   * The batch's mean input and sample indices (3.4 kB of the default network's ~6 kB a step kept): only
   * the picture's step needs them, so a long run holds them for the chunks used last.
   */
  readonly inputRows = new RowCache(
    ['meanInput', 'batchIndices'],
    this.#reread,
    (message) => this.loader.report(message),
    // INPUT_STEPS steps' worth of chunks: a big network's chunks hold a dozen steps, and re-reading a whole chunk for its inputs is slow.
    () => Math.max(HOT_CHUNKS, Math.ceil(INPUT_STEPS / (this.manifest?.chunkSteps ?? INPUT_STEPS))),
  );
  /** Each neuron's mean activation, fraction active and ∂L/∂z, for the picture's step: NEURON_ROW_BYTES' worth of chunks. */
  readonly neuronRows = new RowCache(
    NEURON_QUANTITIES,
    this.#reread,
    (message) => this.loader.report(message),
    () => {
      const perStep = this.layerSizes.slice(1).reduce((total, size) => total + size, 0) * NEURON_QUANTITIES.length * 4;
      return Math.max(HOT_CHUNKS, Math.floor(this.#limits.neuronRowBytes / Math.max(1, perStep * (this.manifest?.chunkSteps ?? 1))));
    },
  );
  /**
   * Per chunk index: what is kept of it for every step (core/view/chunk-summary.ts). Not reactive: a
   * chunk is summarised before the loader hands it to the views, and readers follow `chunks`.
   */
  readonly #summaries: (ChunkSummary | undefined)[] = [];
  readonly #summaryOf = (chunk: StepChunk) => this.#summaries[chunk.index];
  /** Every step's percentile bands of each layer's per-neuron quantities. */
  readonly #bands = new StepSeries();
  readonly #limits: Required<RunDataLimits>;

  constructor(limits: RunDataLimits = {}) {
    this.#limits = {
      historyBlocks: limits.historyBlocks ?? HISTORY_BLOCKS,
      neuronRowBytes: limits.neuronRowBytes ?? NEURON_ROW_BYTES,
    };
  }
  readonly activations = new DomainTracker();
  readonly gradients = new DomainTracker();
  #probes: Promise<ProbeSet | undefined> | undefined;
  /** Link frames decoded for drawing, per layer, most recently used last (a cache, not state). */
  readonly #decoded = new Map<number, { frame: LinkFrame; snapshot: Snapshot }[]>();

  readonly manifest = $derived(this.loader.manifest);
  readonly chunks = $derived(this.loader.chunks);
  readonly error = $derived(this.loader.error);
  readonly problems = $derived(this.loader.problems);
  readonly loading = $derived(this.loader.loading);
  readonly live = $derived(this.loader.live);
  readonly loadedSteps = $derived(series.loadedStepCount(this.chunks));
  readonly #lossSeries = $derived(series.lossSeries(this.chunks));
  /** Training loss of every loaded step. */
  readonly loss = $derived(this.#lossSeries.loss);
  /** Held-out loss where it was evaluated. */
  readonly evalLoss = $derived(this.#lossSeries.evalLoss);
  /** The run's status, with a `recording` run whose recorder stopped shown as interrupted. */
  readonly status = $derived(this.live?.state === 'finished' ? this.live.status : this.manifest?.status);
  /** Steps the timeline spans: the plan while the run records, else the steps it recorded (and at least those loaded). */
  readonly timelineSteps = $derived(
    Math.max(this.status === 'recording' ? (this.manifest?.plannedSteps ?? 0) : (this.manifest?.stepCount ?? 0), this.loadedSteps),
  );
  readonly layerSizes = $derived(this.manifest ? this.manifest.layers.map((layer) => layer.size) : []);
  readonly classNames = $derived(this.manifest?.dataset.classNames ?? []);

  load(runUrl: string): Promise<void> {
    return this.loader.load(runUrl);
  }

  /** Whether the run is waited for: its folder is there, its run.json not yet. */
  get starting(): boolean {
    return this.loader.starting;
  }

  /** Stops waiting for the run and following it. */
  stop(): void {
    this.loader.stop();
  }

  follow(interval?: number, now?: () => number): () => void {
    return this.loader.follow(interval, now);
  }

  /** Steps per block of the neuron histories and of the class means, fixed when the first chunk arrives. */
  #blocks: { blockSteps: number; classBlockSteps: number } | undefined;

  /**
   * What is kept of a decoded chunk: its scalars here (its values' domains tracked), its large rows in
   * the caches, and its summary (core/view/chunk-summary.ts).
   */
  #keep(chunk: StepChunk): StepChunk {
    const manifest = this.loader.manifest;
    const sizes = manifest?.layers.map((layer) => layer.size) ?? [];
    for (let layer = 1; layer < sizes.length; layer++) {
      this.activations.add(layer, chunk.values.get('meanActivation', layer) ?? []);
      this.gradients.add(layer, (chunk.values.get('gradPreActivation', layer) ?? new Float32Array(0)).map(Math.abs));
    }
    if (manifest) {
      // From the plan: a recording run's blocks are as long at its first chunk as at its last.
      const planned = Math.max(manifest.plannedSteps, manifest.stepCount);
      this.#blocks ??= {
        blockSteps: summaryBlockSteps(planned, manifest.chunkSteps, this.#limits.historyBlocks),
        classBlockSteps: summaryBlockSteps(planned, manifest.chunkSteps, this.#limits.historyBlocks, CLASS_BLOCK_STEPS),
      };
      this.#summaries[chunk.index] = summarizeChunk(
        chunk,
        {
          sizes,
          classes: manifest.dataset.classNames.length,
          ...this.#blocks,
          inactiveRule: ACTIVATION_FUNCTIONS[manifest.config.activation].inactiveRule,
        },
        this.#bands,
      );
    }
    const caches = [this.neuronRows, this.probeRows, this.classRows, this.inputRows];
    for (const cache of caches) {
      const rows = chunk.values.only(cache.quantities);
      if (!rows.empty) cache.put(chunk.index, rows);
    }
    return { ...chunk, values: chunk.values.without(caches.flatMap((cache) => cache.quantities)) };
  }

  domainTracker(view: View): DomainTracker {
    return view === 'gradient' ? this.gradients : this.activations;
  }

  edgeDomainTracker(matrix: EdgeMatrix): DomainTracker {
    return this.loader.edgeDomains[matrix];
  }

  /** Asks for the probe rows of the chunk holding `step` (from an effect: it may start a read). */
  wantProbeRows(step: number): void {
    const found = series.locateStep(this.chunks, step);
    if (found) this.probeRows.want([found.chunk]);
  }

  /** Asks for the class means of every chunk the class view's window at `step` spans (from an effect). */
  wantClassRows(step: number): void {
    this.classRows.want(series.chunksSpanning(this.chunks, step - CLASS_WINDOW + 1, step));
  }

  /**
   * What `layer`'s links are drawn from at `step`: its latest exact snapshot at or before the step, or
   * its latest link frame where that is newer (marked `precision: 'int8'`). Layer 1's once
   * `loader.loadLayerOne()` has read them.
   */
  snapshotAt(layer: number, step: number): Snapshot | undefined {
    const found = freshestAt(this.loader.snapshots.get(layer), this.loader.links.get(layer), step);
    if (!found || 'exact' in found) return found?.exact;
    // The same frame gives the same Snapshot, decoded once, while it stays among the last few drawn.
    const recent = this.#decoded.get(layer) ?? [];
    const index = recent.findIndex((entry) => entry.frame === found.link);
    const entry = index >= 0 ? recent.splice(index, 1)[0]! : { frame: found.link, snapshot: linkSnapshot(found.link) };
    recent.push(entry);
    if (recent.length > DECODED_LINK_FRAMES) recent.shift();
    this.#decoded.set(layer, recent);
    return entry.snapshot;
  }

  #size(layer: number): number {
    return this.layerSizes[layer] ?? 0;
  }

  /** A layer's per-neuron values at `step`, once its chunk's rows are held (`wantNeuronRows`). */
  neuronValues(step: number, layer: number, quantity: NeuronQuantity): Float32Array | undefined {
    return series.neuronValuesAt(this.chunks, (chunk) => this.neuronRows.get(chunk.index), {
      step,
      layer,
      size: this.#size(layer),
      quantity,
    });
  }

  /**
   * Asks for the per-neuron rows of the chunk holding `step` (from an effect). It reads the cache, so
   * the effect runs again as chunks arrive and keeps the shown chunk's rows from being dropped.
   */
  wantNeuronRows(step: number): void {
    const found = series.locateStep(this.chunks, step);
    if (!found) return;
    void this.neuronRows.get(found.chunk.index);
    this.neuronRows.want([found.chunk]);
  }

  /**
   * One neuron's history of a per-neuron quantity, a value per loaded step: exact for a run of up to
   * HISTORY_BLOCKS planned steps, else each step's block mean, min and max (`blockSteps` steps a block).
   */
  neuronHistory(layer: number, neuron: number, quantity: NeuronQuantity): NeuronHistory {
    return neuronHistory(this.chunks, this.#summaryOf, { layer, size: this.#size(layer), neuron, quantity });
  }

  layerHistory(layer: number, quantity: LayerScalarQuantity): Float32Array {
    return series.layerHistory(this.chunks, layer, quantity);
  }

  /** Training loss or batch accuracy of every loaded step. */
  scalarHistory(quantity: 'loss' | 'accuracy'): Float32Array {
    return series.scalarHistory(this.chunks, quantity);
  }

  /** Held-out loss or accuracy where the run evaluated, NaN between. */
  evalHistory(quantity: 'evalLoss' | 'evalAccuracy'): Float32Array {
    return series.evalHistory(this.chunks, quantity);
  }

  /** Percentile bands of a per-neuron quantity over the layer's neurons, every loaded step. */
  distributionHistory(layer: number, quantity: NeuronQuantity): Float32Array[] {
    return distributionHistory(this.#bands, this.loadedSteps, layer, quantity, DISTRIBUTION_PERCENTILES.length);
  }

  /** Percentile bands of the layer's weights at its kept snapshots (layer 1's once `wantLayerOne` has them read). */
  weightDistribution(layer: number): { steps: Float64Array; bands: Float32Array[] } {
    return series.weightDistribution(this.loader.snapshots.get(layer) ?? []);
  }

  /** Fraction of a hidden layer's neurons inactive by its activation's rule, every loaded step (NaN where not recorded). */
  inactiveHistory(layer: number): Float32Array {
    const activation = this.manifest?.config.activation;
    return series.inactiveHistory(
      this.chunks,
      this.#summaryOf,
      layer,
      activation ? ACTIVATION_FUNCTIONS[activation].inactiveRule : 'never',
    );
  }

  /** The hidden layers' activations, once each in layer order (a user's model may mix them). */
  get hiddenActivations(): Activation[] {
    const layers = this.manifest?.layers.slice(1, -1) ?? [];
    return [...new Set(layers.map((layer) => (layer as DenseLayer).activation as Activation))];
  }

  /** The hidden activation for headers: "relu", or "relu/tanh" when the layers differ. */
  get activationLabel(): string {
    return this.hiddenActivations.join('/') || (this.manifest?.config.activation ?? '');
  }

  /** ", dropout 0.1 after layer 1" for a user's model with Dropout; '' otherwise. */
  get dropoutLabel(): string {
    const label = this.manifest ? dropoutLabel(this.manifest.layers) : '';
    return label && `, ${label}`;
  }

  /** What "inactive" means for this run's hidden activations, with its thresholds. */
  get inactiveMeans(): string {
    const config = this.manifest?.config;
    if (!config) return '';
    const activations = this.hiddenActivations;
    if (activations.length <= 1)
      return ACTIVATION_FUNCTIONS[activations[0] ?? config.activation].inactiveMeans(config.diagnostics.saturation);
    return activations.map((name) => `${name}, ${ACTIVATION_FUNCTIONS[name].inactiveMeans(config.diagnostics.saturation)}`).join('; ');
  }

  /** The step columns this run does not record, each with why (core/format/manifest.ts: absentOf). */
  readonly absent = $derived(this.manifest ? absentOf(this.manifest) : new Map<string, string>());

  /** Whether the run records mean activations by class (runs of format version 1 do not). */
  readonly recordsClasses = $derived(this.manifest !== undefined && recordedIn('classActivation', this.manifest.schemaVersion));

  /** Each neuron's preferred class and selectivity around `step`; undefined while the rows are read, or not recorded. */
  classPreference(step: number, layer: number): ClassPreference | undefined {
    const at = { step, layer, size: this.#size(layer), classes: this.classNames.length, window: CLASS_WINDOW };
    const means = series.classMeansOver(this.chunks, (chunk) => this.classRows.get(chunk.index), at);
    return means && classPreference(means.means, means.valid, this.#size(layer));
  }

  /** Steps per block of `classHistory`. */
  get classBlockSteps(): number {
    return this.#blocks?.classBlockSteps ?? CLASS_BLOCK_STEPS;
  }

  /** One neuron's mean activation by class over the run, [block × class] in blocks of `classBlockSteps` steps. */
  classHistory(layer: number, neuron: number): Float32Array | undefined {
    const blocks = this.chunks.map((chunk) => this.#summaries[chunk.index]?.classBlocks[layer - 1]);
    return series.classHistory(blocks, this.#size(layer), this.classNames.length, neuron);
  }

  /** The batch's mean input at `step`, once `wantInputRows` has its chunk's rows held. */
  meanInput(step: number): Float32Array | undefined {
    const found = series.locateStep(this.chunks, step);
    const size = this.#size(0);
    const rows = found && this.inputRows.get(found.chunk.index);
    return rows?.get('meanInput')?.subarray(found!.row * size, (found!.row + 1) * size);
  }

  /**
   * Asks for the mean input of the chunk holding `step` (from an effect). It reads the cache, so the
   * effect runs again as chunks arrive and keeps the shown chunk's rows from being dropped.
   */
  wantInputRows(step: number): void {
    const found = series.locateStep(this.chunks, step);
    if (!found) return;
    void this.inputRows.get(found.chunk.index);
    this.inputRows.want([found.chunk]);
  }

  scalar(step: number, quantity: 'loss' | 'accuracy'): number | undefined {
    const found = series.locateStep(this.chunks, step);
    return found ? found.chunk.values.get(quantity)?.[found.row] : undefined;
  }

  /** A neuron's exact recorded values at `step`, one line each, for tooltips. */
  neuronSummary(step: number, neuron: { layer: number; index: number }): string[] {
    const value = (name: NeuronQuantity) => this.neuronValues(step, neuron.layer, name)?.[neuron.index]?.toPrecision(6) ?? '–';
    return NEURON_QUANTITIES.map((name) => `${quantity(name).label} ${value(name)}`);
  }

  /** One probe's per-neuron values of dense layer `layer` at `step`; undefined while its chunk's rows are not held. */
  probeLayerValues(step: number, layer: number, quantity: ProbeNeuronQuantity, probe: number): Float32Array | undefined {
    const found = series.locateStep(this.chunks, step);
    const count = this.manifest?.probes?.count ?? 0;
    const size = this.#size(layer);
    const values = found && this.probeRows.get(found.chunk.index)?.get(quantity, layer);
    if (!found || !values || probe >= count) return undefined;
    const start = (found.row * count + probe) * size;
    return values.subarray(start, start + size);
  }

  /** The class the network predicted for `probe` at `step`. */
  probePredicted(step: number, probe: number): number | undefined {
    const found = series.locateStep(this.chunks, step);
    const count = this.manifest?.probes?.count ?? 0;
    return found && probe < count ? found.chunk.values.get('probePredicted')?.[found.row * count + probe] : undefined;
  }

  /** Probe activations of one neuron at a step, [probe]. */
  probeValues(step: number, layer: number, neuron: number): Float32Array | undefined {
    const count = this.manifest?.probes?.count ?? 0;
    const rows = Array.from({ length: count }, (_, probe) => this.probeLayerValues(step, layer, 'probeActivation', probe));
    if (rows.some((row) => row === undefined)) return undefined;
    return Float32Array.from(rows, (row) => row![neuron]!);
  }

  /** The probe inputs and labels (loaded once, on first use); a probes file that cannot be read is a problem shown, not an error. */
  probes(): Promise<ProbeSet | undefined> {
    this.#probes ??= this.loader.reader
      ?.readProbes()
      .then((decoded) => {
        const inputs = decoded?.values.get('input');
        const labels = decoded?.values.get('label');
        return inputs && labels ? { inputs, labels } : undefined;
      })
      .catch((error: unknown) => {
        this.loader.report(messageOf(error));
        return undefined;
      });
    return this.#probes ?? Promise.resolve(undefined);
  }

  /**
   * Asks for layer 1's snapshots and link frames (from an effect: it starts their reads, once per run):
   * until they are read, `snapshotAt(1, …)` and `incomingWeights` have nothing.
   */
  wantLayerOne(): void {
    void this.loader.loadLayerOne();
  }

  /** Whether layer 1's files have been read since `wantLayerOne`, and the problems of those that could not be. */
  get layerOne(): { read: boolean; problems: string[] } {
    return this.loader.layerOne;
  }

  /**
   * Layer 1's incoming weights of one neuron and their gradients ∂L/∂W, from what `snapshotAt(1, step)`
   * draws, each in the input's shape; undefined until `wantLayerOne` has them read.
   */
  incomingWeights(neuron: number, step: number): IncomingWeights | undefined {
    const manifest = this.manifest;
    const found = freshestAt(this.loader.snapshots.get(1), this.loader.links.get(1), step);
    if (!manifest || !found) return undefined;
    const fanOut = manifest.layers[1]!.size;
    if ('link' in found) {
      const { link } = found;
      return {
        step: link.step,
        weights: linkColumn(link.weightCodes, link.weightScale, fanOut, neuron),
        weightGrads: linkColumn(link.weightGradCodes, link.weightGradScale, fanOut, neuron),
        precision: 'int8',
      };
    }
    const fanIn = manifest.layers[0].size;
    const column = (matrix: Float32Array) => Float32Array.from({ length: fanIn }, (_, input) => matrix[input * fanOut + neuron]!);
    return {
      step: found.exact.step,
      weights: column(found.exact.weight),
      weightGrads: column(found.exact.weightGrad),
      precision: 'float32',
    };
  }
}
