/**
 * The network picture as one description, drawn twice: on the canvas (viewer/src/lib/paint-scene.ts)
 * and as a standalone SVG for export (svg.ts). Everything that decides what the picture shows —
 * colours of neurons and edges, which edges, their opacity, the marks of findings and the selected
 * neuron, the legend — is decided here, once; the two painters only put it on their surface.
 */
import { VIEW_SPECS, type View } from '../format/quantities.js';
import { classColorOf, classColors, colorOf, divergingColorOf, EDGE_COLORS, FINDING_COLOR, NON_FINITE_COLORS } from './colors.js';
import { bucketAlpha, edgeDensity } from './edges.js';
import type { Frame } from './frame.js';
import type { NetworkLayout } from './layout.js';
import { legendStops, normalize, type Domain, type ScaleMode } from './normalize.js';

/** A batch of straight lines with one colour and opacity: x1, y1, x2, y2 per line. */
export interface StrokeBatch {
  lines: Float32Array;
  color: string;
  alpha: number;
}

export interface SceneColumn {
  x: number;
  y: Float32Array;
  radius: number;
  /** Fill of every neuron ('' while not loaded). */
  colors: string[];
  /** A faint ring keeps dark (low) values visible on a dark background; only where dots are big enough. */
  ring: boolean;
}

export interface NetworkScene {
  width: number;
  height: number;
  /** The input as an image: values in [0, 1], row-major `rows × columns`, drawn in the square at x, y. */
  input: { x: number; y: number; side: number; pixels: Float32Array | undefined; rows: number; columns: number };
  edges: StrokeBatch[];
  columns: SceneColumn[];
  /** Neurons a finding names: rings around big dots, ticks left of dense columns. */
  findingMarks: { x: number; y: number; radius: number }[];
  selected: { x: number; y: number; radius: number } | undefined;
}

export const SCENE_COLORS = {
  ring: 'rgba(128, 128, 128, 0.55)',
  inputFrame: 'rgba(128, 128, 128, 0.6)',
  finding: FINDING_COLOR,
  selected: '#4da3ff',
  missing: '#444',
};

/** `magnitude` for one run's values, `diverging` for A − B of two runs. */
export type ScenePalette = 'magnitude' | 'diverging';

export interface SceneOptions {
  view: View;
  scale: ScaleMode;
  palette: ScenePalette;
  /** The run's class names (the class view's hues). */
  classNames: readonly string[];
  /** One sample's rows and columns (the input layer's shape; a flat input is drawn as a near-square grid). */
  inputShape: readonly number[];
  marked: ReadonlyMap<number, ReadonlySet<number>>;
  selected: { layer: number; index: number } | undefined;
}

/** A − B has no meaningful log or per-run-global domain: its layers are always scaled symmetrically. */
function modeOf(options: Pick<SceneOptions, 'palette' | 'scale'>): ScaleMode {
  return options.palette === 'diverging' ? 'layer' : options.scale;
}

/** The fill of every neuron of every dense layer. */
function neuronColors(frame: Frame, options: Pick<SceneOptions, 'palette' | 'scale' | 'classNames'>): string[][] {
  const hues = classColors(options.classNames.length);
  const paint = options.palette === 'diverging' ? divergingColorOf : colorOf;
  const mode = modeOf(options);
  return frame.values.map((values, index) => {
    if (!values) return [];
    const preferred = frame.preferred[index];
    if (preferred)
      return Array.from(values, (selectivity, neuron) => classColorOf(hues[preferred[neuron]!] ?? SCENE_COLORS.missing, selectivity));
    const domain = frame.domains[index]!;
    return Array.from(values, (value) => paint(normalize(value, domain, mode)));
  });
}

export function buildScene(layout: NetworkLayout, frame: Frame, options: SceneOptions): NetworkScene {
  const colors = neuronColors(frame, options);
  const [rows, columns] = gridOf(options.inputShape, frame.input?.length ?? 0);
  const findingMarks: NetworkScene['findingMarks'] = [];
  for (const [layer, neurons] of options.marked) {
    const column = layout.columns[layer - 1];
    if (!column) continue;
    for (const neuron of neurons) {
      const y = column.y[neuron];
      if (y !== undefined) findingMarks.push({ x: column.x, y, radius: column.radius });
    }
  }
  const selectedColumn = options.selected ? layout.columns[options.selected.layer - 1] : undefined;
  const selectedY = options.selected ? selectedColumn?.y[options.selected.index] : undefined;
  return {
    width: layout.width,
    height: layout.height,
    input: { ...layout.input, pixels: frame.input, rows, columns },
    edges: edgeStrokes(layout, frame),
    columns: layout.columns.map((column) => ({
      x: column.x,
      y: column.y,
      radius: column.radius,
      colors: colors[column.layer - 1] ?? [],
      ring: column.radius >= 2,
    })),
    findingMarks,
    selected: selectedColumn && selectedY !== undefined ? { x: selectedColumn.x, y: selectedY, radius: selectedColumn.radius } : undefined,
  };
}

/** The rows and columns an input of `values` values is drawn as: its own for 2-D shapes, a near-square grid otherwise. */
export function gridOf(shape: readonly number[], values: number): [number, number] {
  if (shape.length >= 2 && shape[0]! * shape[1]! === values) return [shape[0]!, shape[1]!];
  const columns = Math.max(1, Math.ceil(Math.sqrt(values)));
  return [Math.max(1, Math.ceil(values / columns)), columns];
}

/** Each layer's edges as one batch per sign and strength bucket, weakest first, then the non-finite ones. */
function edgeStrokes(layout: NetworkLayout, frame: Frame): StrokeBatch[] {
  const batches: StrokeBatch[] = [];
  for (const { layer, buckets } of frame.edges) {
    const from = layout.columns[layer - 2];
    const to = layout.columns[layer - 1];
    if (!from || !to) continue;
    const fanOut = to.y.length;
    const add = (indices: number[], color: string, alpha: number) => {
      if (indices.length === 0) return;
      const lines = new Float32Array(indices.length * 4);
      indices.forEach((edge, line) => lines.set([from.x, from.y[Math.floor(edge / fanOut)]!, to.x, to.y[edge % fanOut]!], line * 4));
      batches.push({ lines, color, alpha });
    };
    const density = edgeDensity(from.y.length, fanOut);
    buckets.positive.forEach((_, bucket) => {
      add(buckets.negative[bucket]!, EDGE_COLORS.negative, bucketAlpha(bucket) * density);
      add(buckets.positive[bucket]!, EDGE_COLORS.positive, bucketAlpha(bucket) * density);
    });
    add(buckets.nonFinite, EDGE_COLORS.nonFinite, 1);
  }
  return batches;
}

export interface LegendStop {
  label: string;
  color: string;
  /** A ring, not a swatch (findings). */
  ring?: boolean;
}

export interface SceneLegend {
  /** What the colours show, e.g. "layer 2, mean activation (global scale)". */
  caption: string;
  stops: LegendStop[];
}

const NON_FINITE_STOPS: LegendStop[] = [
  { label: 'NaN', color: NON_FINITE_COLORS.nan },
  { label: '+Inf', color: NON_FINITE_COLORS.inf },
  { label: '−Inf', color: NON_FINITE_COLORS['-inf'] },
];

/**
 * The legend of a frame: for value views the stops of `layer`'s domain; for the class view each
 * class's hue and the selectivity ramp. `quantity` names what the values are ("A − B of …").
 */
export function sceneLegend(
  frame: Frame,
  layer: number,
  options: Omit<SceneOptions, 'inputShape' | 'selected'>,
  quantity: string,
): SceneLegend {
  const marked = options.marked.size > 0 ? [{ label: 'named by a finding', color: FINDING_COLOR, ring: true }] : [];
  if (VIEW_SPECS[options.view].encoding === 'class' && options.palette !== 'diverging') {
    const hues = classColors(options.classNames.length);
    return {
      caption: `${quantity}: hue = preferred class, brightness = selectivity`,
      stops: [
        ...options.classNames.map((name, index) => ({ label: name, color: hues[index]! })),
        { label: 'selectivity 0', color: classColorOf(hues[0]!, 0) },
        { label: '0.5', color: classColorOf(hues[0]!, 0.5) },
        { label: '1', color: classColorOf(hues[0]!, 1) },
        { label: 'too few classes', color: NON_FINITE_COLORS.nan },
        ...marked,
      ],
    };
  }
  const mode = modeOf(options);
  const domain: Domain | undefined = frame.domains[layer - 1];
  const paint = options.palette === 'diverging' ? divergingColorOf : colorOf;
  const stops = domain
    ? legendStops(domain, mode).map((stop) => ({ label: stop.toPrecision(2), color: paint(normalize(stop, domain, mode)) }))
    : [];
  return {
    caption: `layer ${layer}, ${quantity}${mode === 'layer' ? '' : ` (${mode} scale)`}`,
    stops: [...stops, ...NON_FINITE_STOPS, ...marked],
  };
}
