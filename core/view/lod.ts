/**
 * Zoom and level of detail. The layout (layout.ts) places every neuron for the whole picture at
 * zoom 1; a view transform zooms and pans it onto the screen. Where neurons would sit closer than
 * MIN_ITEM_SPACING screen pixels, a column shows bins of neighbouring neurons instead (a power of two
 * per bin), and the links between two binned columns become bundles that carry their bins' values:
 * the bundle's |value| is the mean |value| of its links (on the same scale as single links), its sign
 * the sign of their sum. Zooming in opens the bins until every neuron is a dot of its own.
 */
import { bucketStrengths, drawableEdges, edgeStrengths, type EdgeBuckets } from './edges.js';
import { edgeStrength, type Frame, type FrameEdges } from './frame.js';
import type { LayerColumn, NetworkLayout } from './layout.js';

/** screen = world × zoom + (x, y). */
export interface ViewTransform {
  zoom: number;
  x: number;
  y: number;
}

export const IDENTITY: ViewTransform = { zoom: 1, x: 0, y: 0 };
export const MAX_ZOOM = 64;
/** Neurons closer than this on screen are binned… */
export const MIN_ITEM_SPACING = 3.5;
/** …into bins at least this far apart, big enough to see and to click. */
export const BIN_SPACING = 10;
/** The largest dot when zoomed in. */
const MAX_ZOOMED_RADIUS = 14;

/** A column on screen: its items are single neurons (`bin` 1) or bins of `bin` neighbouring neurons. */
export interface DisplayColumn extends LayerColumn {
  /** Neurons per item; the last item may hold fewer. */
  bin: number;
  /** Neurons in the layer. */
  neurons: number;
}

export interface DisplayLayout extends NetworkLayout {
  columns: DisplayColumn[];
  transform: ViewTransform;
}

/** Neurons per item: 1 where neurons sit MIN_ITEM_SPACING apart on screen, else bins of 2, 4, 8… at least BIN_SPACING apart. */
export function binSize(screenSpacing: number, neurons: number): number {
  if (screenSpacing >= MIN_ITEM_SPACING) return 1;
  let bin = 2;
  while (bin < neurons && screenSpacing * bin < BIN_SPACING) bin *= 2;
  return bin;
}

/** The layout as drawn on screen under a transform, with bins where neurons would crowd. */
export function displayLayout(layout: NetworkLayout, transform: ViewTransform): DisplayLayout {
  const { zoom } = transform;
  const toX = (x: number) => x * zoom + transform.x;
  const toY = (y: number) => y * zoom + transform.y;
  const columns = layout.columns.map((column): DisplayColumn => {
    const neurons = column.y.length;
    const bin = binSize(column.spacing * zoom, neurons);
    const items = Math.ceil(neurons / bin);
    const y = new Float32Array(items);
    for (let item = 0; item < items; item++) {
      const first = item * bin;
      const last = Math.min(neurons, first + bin) - 1;
      y[item] = toY((column.y[first]! + column.y[last]!) / 2);
    }
    const spacing = column.spacing * zoom * bin;
    const radius = bin > 1 ? spacing * 0.4 : Math.min(MAX_ZOOMED_RADIUS, Math.max(column.radius, column.spacing * zoom * 0.4));
    return { layer: column.layer, x: toX(column.x), y, spacing, radius, bin, neurons };
  });
  const { input } = layout;
  return {
    width: layout.width,
    height: layout.height,
    input: { x: toX(input.x), y: toY(input.y), side: input.side * zoom },
    columns,
    transform,
  };
}

/** The transform after zooming by `factor` about a screen point, within [1, MAX_ZOOM]. */
export function zoomAbout(transform: ViewTransform, factor: number, at: { x: number; y: number }): ViewTransform {
  const zoom = Math.min(MAX_ZOOM, Math.max(1, transform.zoom * factor));
  const scale = zoom / transform.zoom;
  return { zoom, x: at.x - (at.x - transform.x) * scale, y: at.y - (at.y - transform.y) * scale };
}

/** Keeps some of the picture on screen: the pan is bounded by the zoomed picture's size. */
export function clampPan(transform: ViewTransform, width: number, height: number): ViewTransform {
  const clamp = (value: number, size: number) => Math.min(size * 0.5, Math.max(size * (0.5 - transform.zoom), value));
  return { zoom: transform.zoom, x: clamp(transform.x, width), y: clamp(transform.y, height) };
}

/** The item under a screen point: a neuron, or a bin of neurons, of a dense layer. */
export function itemAt(
  layout: DisplayLayout,
  x: number,
  y: number,
): { layer: number; item: number; first: number; count: number; bin: number } | undefined {
  for (const column of layout.columns) {
    const reach = Math.max(column.radius, 4);
    if (Math.abs(x - column.x) > reach) continue;
    const item = Math.round((y - column.y[0]!) / column.spacing);
    if (item < 0 || item >= column.y.length) return undefined;
    if (Math.abs(y - column.y[item]!) > Math.max(column.radius, column.spacing / 2)) return undefined;
    const first = item * column.bin;
    return { layer: column.layer, item, first, count: Math.min(column.bin, column.neurons - first), bin: column.bin };
  }
  return undefined;
}

/** Means over bins of `bin` values (NaN for a bin that holds a non-finite value: a problem must not be averaged away). */
function binMeans(values: Float32Array, bin: number): Float32Array {
  if (bin === 1) return values;
  const items = Math.ceil(values.length / bin);
  const means = new Float32Array(items);
  for (let item = 0; item < items; item++) {
    let sum = 0;
    const end = Math.min(values.length, (item + 1) * bin);
    for (let index = item * bin; index < end; index++) sum += values[index]!;
    means[item] = Number.isFinite(sum) ? sum / (end - item * bin) : Number.NaN;
  }
  return means;
}

/** The most frequent value in each bin (the class view's preferred class of a bin). */
function binModes(values: Uint8Array, bin: number): Uint8Array {
  if (bin === 1) return values;
  const items = Math.ceil(values.length / bin);
  const modes = new Uint8Array(items);
  const counts = new Map<number, number>();
  for (let item = 0; item < items; item++) {
    counts.clear();
    for (let index = item * bin; index < Math.min(values.length, (item + 1) * bin); index++)
      counts.set(values[index]!, (counts.get(values[index]!) ?? 0) + 1);
    modes[item] = [...counts].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
  }
  return modes;
}

/** Bundles of a [fanIn × fanOut] matrix into [fanIn/binIn × fanOut/binOut]: sign of the sum × mean |value|. */
export function bundle(values: Float32Array, fanOut: number, binIn: number, binOut: number): Float32Array {
  if (binIn === 1 && binOut === 1) return values;
  const fanIn = values.length / fanOut;
  const rows = Math.ceil(fanIn / binIn);
  const columns = Math.ceil(fanOut / binOut);
  const sums = new Float64Array(rows * columns);
  const magnitudes = new Float64Array(rows * columns);
  const counts = new Uint32Array(rows * columns);
  for (let from = 0; from < fanIn; from++) {
    const row = Math.floor(from / binIn) * columns;
    for (let to = 0; to < fanOut; to++) {
      const value = values[from * fanOut + to]!;
      const cell = row + Math.floor(to / binOut);
      sums[cell]! += value;
      magnitudes[cell]! += Math.abs(value);
      counts[cell]!++;
    }
  }
  const bundled = new Float32Array(rows * columns);
  for (let cell = 0; cell < bundled.length; cell++) {
    const mean = magnitudes[cell]! / counts[cell]!;
    bundled[cell] = Number.isFinite(sums[cell]!) ? (sums[cell]! < 0 ? -mean : mean) : Number.NaN;
  }
  return bundled;
}

/** The links of one gap as drawn: per pair of items, those strong enough and on screen, in buckets. */
export interface DisplayEdges extends FrameEdges {
  buckets: EdgeBuckets;
}

/** A frame as the screen shows it: one value per item, the links drawn per gap, and how many were left out. */
export interface DisplayFrame extends Omit<Frame, 'edges'> {
  edges: DisplayEdges[];
  /** Links strong enough to draw that were left out (the level of detail while scrubbing, the cap per gap). */
  edgesOmitted: number;
}

/** At most this many links per gap are drawn, strongest first: more would be a slab, and slow. */
export const MAX_LINKS_PER_GAP = 8192;
/**
 * At most this many screen pixels of links are drawn in the whole picture (the sum of the drawn
 * lines' widths across the screen): a software canvas rasters about that many per frame in the
 * time a scrub step has (bench/viewer.ts). Zoomed in, links run across the whole screen and fewer
 * of them fit; gaps share the budget alike, a gap needing less giving the rest to the others.
 */
export const LINK_INK_BUDGET = 1_200_000;

/** The items of a column within [0, height] on screen: [first, end), their y being in increasing order. */
function onScreen(y: Float32Array, height: number): [number, number] {
  let first = 0;
  while (first < y.length && y[first]! < 0) first++;
  let end = first;
  while (end < y.length && y[end]! <= height) end++;
  return [first, end];
}

/** Per gap, how many links fit in `budget` pixels: equal shares, what a gap does not need going to the others. */
export function shareInk(gaps: readonly { links: number; length: number }[], budget = LINK_INK_BUDGET): number[] {
  const limits = gaps.map(() => 0);
  const order = gaps.map((_, index) => index).sort((a, b) => gaps[a]!.links * gaps[a]!.length - gaps[b]!.links * gaps[b]!.length);
  let left = budget;
  order.forEach((index, rank) => {
    const { links, length } = gaps[index]!;
    const share = left / (order.length - rank);
    const granted = Math.min(links * length, share);
    limits[index] = length > 0 ? Math.min(links, Math.floor(granted / length)) : links;
    left -= limits[index]! * length;
  });
  return limits;
}

/**
 * The frame as the display layout shows it: values per item (bin means), links per pair of items
 * (bundles between bins), zoomed in only those between items on screen; per gap the strongest, at
 * most `edgeLimit` (while scrubbing), MAX_LINKS_PER_GAP and the gap's share of LINK_INK_BUDGET.
 */
export function displayFrame(frame: Frame, layout: DisplayLayout, edgeLimit = Infinity): DisplayFrame {
  const bins = layout.columns.map((column) => column.bin);
  const gaps = frame.edges.flatMap((edges) => {
    const from = layout.columns[edges.layer - 2];
    const to = layout.columns[edges.layer - 1];
    if (!from || !to) return [];
    const values = bundle(edges.values, to.neurons, from.bin, to.bin);
    const fanOut = to.y.length;
    const length = Math.max(0, Math.min(to.x, layout.width) - Math.max(from.x, 0));
    // Zoomed in, the links between neurons on screen: those to neurons out of view would cross the
    // picture as a haze of long lines that say nothing about what is in view.
    const zoomed = layout.transform.zoom > 1;
    const [fromStart, fromEnd] = length > 0 ? (zoomed ? onScreen(from.y, layout.height) : [0, from.y.length]) : [0, 0];
    const [toStart, toEnd] = zoomed ? onScreen(to.y, layout.height) : [0, fanOut];
    const strengths = edgeStrengths(values, (value) => edgeStrength(value, edges.domain, edges.mode), fanOut, {
      fromStart,
      fromEnd,
      toStart,
      toEnd,
    });
    return [{ edges, values, strengths, length, links: drawableEdges(strengths) }];
  });
  const inkLimits = shareInk(gaps);
  const edges = gaps.map(({ edges, values, strengths }, gap): DisplayEdges => {
    const limit = Math.min(edgeLimit, MAX_LINKS_PER_GAP, inkLimits[gap]!);
    return { ...edges, values, buckets: bucketStrengths(values, strengths, limit) };
  });
  return {
    ...frame,
    values: frame.values.map((values, index) => values && binMeans(values, bins[index] ?? 1)),
    preferred: frame.preferred.map((preferred, index) => preferred && binModes(preferred, bins[index] ?? 1)),
    edges,
    edgesOmitted: edges.reduce((total, { buckets }) => total + buckets.omitted, 0),
  };
}

/** The link under a screen point, of the links drawn (strong enough to show): the strongest within `reach` pixels. */
export function linkAt(
  layout: DisplayLayout,
  frame: DisplayFrame,
  x: number,
  y: number,
  reach = 3,
): { layer: number; from: number; to: number; value: number } | undefined {
  for (const edges of frame.edges) {
    const from = layout.columns[edges.layer - 2];
    const to = layout.columns[edges.layer - 1];
    if (!from || !to || x <= from.x + from.radius || x >= to.x - to.radius) continue;
    const t = (x - from.x) / (to.x - from.x);
    const fanOut = to.y.length;
    let best: { layer: number; from: number; to: number; value: number } | undefined;
    const drawn = [...edges.buckets.positive.flat(), ...edges.buckets.negative.flat(), ...edges.buckets.nonFinite];
    for (const edge of drawn) {
      const source = Math.floor(edge / fanOut);
      const target = edge % fanOut;
      const lineY = from.y[source]! + (to.y[target]! - from.y[source]!) * t;
      if (Math.abs(lineY - y) > reach) continue;
      const value = edges.values[edge]!;
      if (!best || !(Math.abs(value) <= Math.abs(best.value))) best = { layer: edges.layer, from: source, to: target, value };
    }
    return best;
  }
  return undefined;
}
