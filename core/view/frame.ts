/**
 * What the network picture shows at one step: per-neuron values of every dense layer, the domains
 * that colour them, the input image and the batched edges. Pure: the viewer hands in a data source
 * and draws the result; the compare view subtracts two frames (`differenceFrame`).
 */
import { quantity, VIEW_SPECS, type NeuronQuantity, type ProbeNeuronQuantity, type View } from '../format/quantities.js';
import type { ClassPreference } from './class-selectivity.js';
import { EMPTY_DOMAIN, extendDomain, LINK_LOG_DECADES, normalize, type Domain, type DomainTracker, type ScaleMode } from './normalize.js';

/** One kept snapshot of a layer: W and ∂L/∂W, row-major [input × neuron]. */
export interface Snapshot {
  step: number;
  weight: Float32Array;
  weightGrad: Float32Array;
  /**
   * `int8`: decoded from a link frame, each value off by at most 1/254 of its matrix's largest |value|
   * (core/format/int8.ts), NaN where it was not finite; `float32` or absent: exact as recorded.
   */
  precision?: 'float32' | 'int8';
}

/** What a frame reads from a loaded run (the viewer's RunData implements it). */
export interface FrameSource {
  /** Neurons per layer, the input first. */
  readonly layerSizes: readonly number[];
  neuronValues(step: number, layer: number, quantity: NeuronQuantity): Float32Array | undefined;
  probeLayerValues(step: number, layer: number, quantity: ProbeNeuronQuantity, probe: number): Float32Array | undefined;
  /** Each neuron's preferred class and selectivity around `step`; undefined where the run has no class means. */
  classPreference(step: number, layer: number): ClassPreference | undefined;
  meanInput(step: number): Float32Array | undefined;
  /** The latest kept snapshot of dense layer `layer` (from 2) at or before `step`. */
  snapshotAt(layer: number, step: number): Snapshot | undefined;
  /** Whole-run domains of the view's values (|gradient| for the gradient view). */
  domainTracker(view: View): DomainTracker;
  /** Domains of every kept snapshot's W or ∂L/∂W so far, per dense layer (from 2). */
  edgeDomainTracker(matrix: EdgeMatrix): DomainTracker;
}

export type EdgeMatrix = 'weight' | 'weightGrad';

/** The edges into one dense layer (from 2): the values and the domain that scales them (lod.ts decides which are drawn). */
export interface FrameEdges {
  layer: number;
  /** Row-major [input × neuron]: W or ∂L/∂W of a snapshot, a probe's own flow, or A − B. */
  values: Float32Array;
  /** What the values are, for the legend and the tooltip. */
  kind: 'weight' | 'weightGrad' | 'probeForward' | 'probeGrad' | 'difference';
  domain: Domain;
  mode: ScaleMode;
  /** The step of the snapshot the values come from, when it is older than the frame's step. */
  staleStep: number | undefined;
  /** `int8`: from a link frame, each value within 1/254 of its matrix's largest |value|. */
  precision?: 'float32' | 'int8' | undefined;
}

/** An edge value's strength in [0, 1] on its scale: what its opacity and width show. */
export function edgeStrength(value: number, domain: Domain, mode: ScaleMode): number {
  const position = normalize(value, domain, mode, LINK_LOG_DECADES);
  return typeof position === 'number' ? Math.abs(position) : 1;
}

export interface FrameOptions {
  step: number;
  view: View;
  scale: ScaleMode;
  /** A chosen probe: its own values replace the batch means, and its image the mean input. */
  probe?: { index: number; input: Float32Array } | undefined;
}

export interface Frame {
  step: number;
  /** Per dense layer (index 0 = layer 1): the shown value of every neuron, or undefined while not loaded. */
  values: (Float32Array | undefined)[];
  /** Per dense layer: the domain its values are coloured by. */
  domains: Domain[];
  /** Class view: per dense layer, each neuron's preferred class (its hue; `values` holds its selectivity). */
  preferred: (Uint8Array | undefined)[];
  /** The input image, values in [0, 1]. */
  input: Float32Array | undefined;
  /** Edges into dense layers 2… (layer 1's inputs are the image). */
  edges: FrameEdges[];
  /** Layers whose edges come from an earlier kept step than this one (the budget kept fewer). */
  staleWeights: { layer: number; step: number }[];
}

/** The class view's values, selectivity, lie in [0, 1] whatever the run. */
const SELECTIVITY_DOMAIN: Domain = { min: 0, max: 1, minMagnitude: 0.001 };

export function computeFrame(source: FrameSource, options: FrameOptions): Frame {
  const { step, view, probe } = options;
  const spec = VIEW_SPECS[view];
  const denseLayers = source.layerSizes.length - 1;
  const edges = edgesAt(source, options);
  const input = probe ? probe.input : source.meanInput(step);
  if (spec.encoding === 'class') {
    const preferences = Array.from({ length: denseLayers }, (_, index) => source.classPreference(step, index + 1));
    return {
      step,
      values: preferences.map((preference) => preference?.selectivity),
      domains: preferences.map(() => SELECTIVITY_DOMAIN),
      preferred: preferences.map((preference) => preference?.preferred),
      input,
      ...edges,
    };
  }
  // Per-neuron views: the quantity of the view, or for a chosen probe that quantity's probe twin.
  const shown = spec.quantity as NeuronQuantity;
  const twin = quantity(shown).probeTwin as ProbeNeuronQuantity | undefined;
  const values: (Float32Array | undefined)[] = [];
  for (let layer = 1; layer <= denseLayers; layer++) {
    const raw = probe ? twin && source.probeLayerValues(step, layer, twin, probe.index) : source.neuronValues(step, layer, shown);
    values.push(raw && spec.encoding === 'magnitude' ? raw.map(Math.abs) : raw);
  }
  const stepDomain = values.reduce((domain, layer) => (layer ? extendDomain(domain, layer) : domain), EMPTY_DOMAIN);
  const tracker = source.domainTracker(view);
  const { scale } = options;
  // A probe's values are one sample's, not batch means: its colours follow this step's values.
  const domains = values.map((layerValues, index) =>
    probe
      ? scale === 'layer'
        ? extendDomain(EMPTY_DOMAIN, layerValues ?? [])
        : stepDomain
      : scale === 'step'
        ? stepDomain
        : tracker.domain(scale, index + 1, []),
  );
  return { step, values, domains, preferred: values.map(() => undefined), input, ...edges };
}

/**
 * The edges into dense layers 2…: each layer's latest snapshot at or before the step (W or ∂L/∂W), or
 * with a probe chosen that probe's own flow — forward a_i·W_ij, backward a_i·∂ℓ/∂z_j (its own ∂ℓ/∂W).
 * Global and log scale share one domain over every layer and the whole run, so that the same
 * magnitude looks the same in every layer; a probe's flow, one sample's, is scaled by this step.
 */
function edgesAt(source: FrameSource, options: FrameOptions): Pick<Frame, 'edges' | 'staleWeights'> {
  const { step, probe } = options;
  const matrix = VIEW_SPECS[options.view].edges;
  const flows = probe !== undefined && VIEW_SPECS[options.view].encoding !== 'class';
  const found: Omit<FrameEdges, 'domain' | 'mode'>[] = [];
  for (let layer = 2; layer < source.layerSizes.length; layer++) {
    const snapshot = source.snapshotAt(layer, step);
    if (flows) {
      const flow = probeFlow(source, step, layer, matrix, probe.index, snapshot);
      if (flow) found.push(flow);
    } else if (snapshot) {
      found.push({
        layer,
        values: snapshot[matrix],
        kind: matrix,
        staleStep: snapshot.step === step ? undefined : snapshot.step,
        precision: snapshot.precision,
      });
    }
  }
  const tracker = source.edgeDomainTracker(matrix);
  const mode = options.scale;
  const stepDomain = found.reduce((domain, { values }) => extendDomain(domain, values), EMPTY_DOMAIN);
  const layerDomain = (edges: (typeof found)[number]) =>
    flows ? extendDomain(EMPTY_DOMAIN, edges.values) : tracker.domain('layer', edges.layer, []);
  const edges = found.map((edges): FrameEdges => {
    const domain = mode === 'layer' ? layerDomain(edges) : mode === 'step' || flows ? stepDomain : tracker.domain(mode, edges.layer, []);
    return { ...edges, domain, mode };
  });
  return {
    edges,
    staleWeights: edges.flatMap(({ layer, staleStep }) => (staleStep === undefined ? [] : [{ layer, step: staleStep }])),
  };
}

/** One probe's flow through the edges into `layer`: forward a_i·W_ij (W from a snapshot), or a_i·∂ℓ/∂z_j. */
function probeFlow(
  source: FrameSource,
  step: number,
  layer: number,
  matrix: EdgeMatrix,
  probe: number,
  snapshot: Snapshot | undefined,
): Omit<FrameEdges, 'domain' | 'mode'> | undefined {
  const inputs = source.probeLayerValues(step, layer - 1, 'probeActivation', probe);
  const outputs = matrix === 'weightGrad' ? source.probeLayerValues(step, layer, 'probeGradPreActivation', probe) : snapshot?.weight;
  if (!inputs || !outputs) return undefined;
  const fanOut = source.layerSizes[layer]!;
  const values = new Float32Array(inputs.length * fanOut);
  for (let from = 0; from < inputs.length; from++) {
    const activation = inputs[from]!;
    for (let to = 0; to < fanOut; to++)
      values[from * fanOut + to] = activation * (matrix === 'weightGrad' ? outputs[to]! : outputs[from * fanOut + to]!);
  }
  const stale = matrix === 'weight' && snapshot!.step !== step ? snapshot!.step : undefined;
  const precision = matrix === 'weight' ? snapshot!.precision : undefined;
  return { layer, values, kind: matrix === 'weightGrad' ? 'probeGrad' : 'probeForward', staleStep: stale, precision };
}

/**
 * A − B of two frames of networks with the same shape, neuron by neuron and (where both have
 * snapshots) edge by edge; one symmetric domain per layer so that zero is the middle colour.
 */
export function differenceFrame(a: Frame, b: Frame, source: { a: FrameSource; b: FrameSource }, view: View): Frame {
  const matrix = VIEW_SPECS[view].edges;
  const values = a.values.map((layerA, index) => {
    const layerB = b.values[index];
    if (!layerA || !layerB || layerA.length !== layerB.length) return undefined;
    return layerA.map((value, neuron) => value - layerB[neuron]!);
  });
  const domains = values.map((layer) => symmetric(extendDomain(EMPTY_DOMAIN, layer ?? [])));
  const edges: Frame['edges'] = [];
  for (let layer = 2; layer < source.a.layerSizes.length; layer++) {
    const snapshotA = source.a.snapshotAt(layer, a.step);
    const snapshotB = source.b.snapshotAt(layer, b.step);
    if (!snapshotA || !snapshotB) continue;
    const matrixA = snapshotA[matrix];
    const matrixB = snapshotB[matrix];
    if (matrixA.length !== matrixB.length) continue;
    const difference = matrixA.map((value, edge) => value - matrixB[edge]!);
    const domain = symmetric(extendDomain(EMPTY_DOMAIN, difference));
    edges.push({ layer, values: difference, kind: 'difference', domain, mode: 'layer', staleStep: undefined });
  }
  return {
    step: a.step,
    values,
    domains,
    preferred: values.map(() => undefined),
    // The two batches' mean inputs differ by sampling, not by learning: show A's.
    input: a.input,
    edges,
    staleWeights: [...a.staleWeights, ...b.staleWeights],
  };
}

/** Why two runs cannot be subtracted neuron by neuron, or undefined when they can. */
export function differenceUnavailable(a: readonly number[], b: readonly number[]): string | undefined {
  if (a.length === b.length && a.every((size, index) => size === b[index])) return undefined;
  return `The difference view needs the same network shape; these runs are ${a.join('-')} and ${b.join('-')}.`;
}

function symmetric(domain: Domain): Domain {
  if (!Number.isFinite(domain.min)) return domain;
  const largest = Math.max(Math.abs(domain.min), Math.abs(domain.max));
  // min < 0 < max makes normalize map the layer to [−1, 1] around zero even when A − B is one-signed.
  return { min: -largest || -Number.MIN_VALUE, max: largest || Number.MIN_VALUE, minMagnitude: domain.minMagnitude };
}
