/**
 * The network picture as one description, drawn twice: on the canvas (viewer/src/lib/paint-scene.ts)
 * and as a standalone SVG for export (svg.ts). Everything that decides what the picture shows —
 * colours of neurons and edges, their opacity and width, which edges stand out, the marks of
 * findings and the selected neuron, the labels, the legend — is decided here, once; the two
 * painters only put it on their surface. The encoding is in colors.ts and edges.ts.
 */
import { quantity, VIEW_SPECS, type View } from '../format/quantities.js';
import {
  classColorOf,
  classColors,
  FINDING_COLOR,
  magnitudeColorOf,
  NON_FINITE_COLORS,
  SELECTED_COLOR,
  SIGN_COLORS,
  signedColorOf,
  STAGE_COLOR,
  STAGE_INK,
} from './colors.js';
import { inputGrid, inputKindOf, inputPixels, type InputKind, type InputPixels } from './input-image.js';
import { bucketStyle, EDGE_BUCKETS, edgeDensity } from './edges.js';
import { edgeStrength, type Frame, type FrameEdges } from './frame.js';
import { MAX_LINKS_PER_GAP, type DisplayEdges, type DisplayFrame, type DisplayLayout } from './lod.js';
import { legendStops, LINK_LOG_DECADES, normalize, type Domain, type ScaleMode } from './normalize.js';

/** A batch of straight lines with one colour, opacity and width: x1, y1, x2, y2 per line. */
export interface StrokeBatch {
  lines: Float32Array;
  color: string;
  alpha: number;
  width: number;
}

export interface SceneColumn {
  x: number;
  /** Centre of each item: a neuron, or a bin of `bin` neurons (drawn as a bar as tall as its neurons). */
  y: Float32Array;
  radius: number;
  bin: number;
  /** Distance between items' centres. */
  spacing: number;
  /** Fill of every neuron ('' while not loaded). */
  colors: string[];
  /** A faint ring keeps dark (low) values visible on the dark stage; only where dots are big enough. */
  ring: boolean;
}

/** A line of text on the picture: class names beside the output neurons, the age of stale links. */
export interface SceneText {
  x: number;
  y: number;
  text: string;
  align: 'start' | 'middle' | 'end';
  color: string;
  /** Font size in pixels (12 when left out). */
  size?: number;
}

export interface NetworkScene {
  width: number;
  height: number;
  background: string;
  /**
   * The input in the square at x, y: its pixels (core/view/input-image.ts: a grey or colour image, or a
   * strip of features), `rows × columns` RGBA, drawn without smoothing in the rectangle `drawn`.
   */
  input: {
    x: number;
    y: number;
    side: number;
    pixels: InputPixels | undefined;
    drawn: { x: number; y: number; width: number; height: number };
  };
  edges: StrokeBatch[];
  columns: SceneColumn[];
  /** Neurons a finding names: rings around big dots, ticks left of dense columns. */
  findingMarks: { x: number; y: number; radius: number }[];
  selected: { x: number; y: number; radius: number } | undefined;
  texts: SceneText[];
}

export const SCENE_COLORS = {
  ring: 'rgba(160, 165, 175, 0.45)',
  inputFrame: 'rgba(160, 165, 175, 0.6)',
  finding: FINDING_COLOR,
  selected: SELECTED_COLOR,
  missing: '#3a3d45',
  ink: STAGE_INK,
};

/** `magnitude` for one run's values, `diverging` for A − B of two runs. */
export type ScenePalette = 'magnitude' | 'diverging';

export interface SceneOptions {
  view: View;
  scale: ScaleMode;
  palette: ScenePalette;
  /** The run's class names (the class view's hues, the output neurons' labels). */
  classNames: readonly string[];
  /** One sample's shape (the input layer's): an image, a colour image or a strip of features (input-image.ts). */
  inputShape: readonly number[];
  /** A name per input feature, drawn beside the strip where there is room. */
  featureNames?: readonly string[] | undefined;
  marked: ReadonlyMap<number, ReadonlySet<number>>;
  selected: { layer: number; index: number } | undefined;
  /**
   * Links at most this many steps older than the step shown are drawn at full strength (the run's
   * link frames keep every layer within it: run.json `linkFrames.maxAge`); older ones are dimmed.
   * Every older link still carries its "weights of step k" label.
   */
  freshAge?: number | undefined;
}

/** Links not touching the selected neuron keep this share of their opacity. */
export const RECEDED = 0.22;
/** Stale links (older than the step shown by more than `freshAge`) keep this share. */
export const STALE = 0.5;
/** Class names are written beside output neurons at least this far apart. */
const LABEL_SPACING = 9;

/** A − B has no meaningful log or per-run-global domain: its layers are always scaled symmetrically. */
function modeOf(options: Pick<SceneOptions, 'palette' | 'scale'>): ScaleMode {
  return options.palette === 'diverging' ? 'layer' : options.scale;
}

/** Signed quantities (activations, A − B) by sign and brightness; magnitudes (|∂L/∂z|) by brightness alone. */
function neuronPaint(options: Pick<SceneOptions, 'palette' | 'view'>): typeof signedColorOf {
  return options.palette === 'diverging' || VIEW_SPECS[options.view].encoding === 'value' ? signedColorOf : magnitudeColorOf;
}

/** The fill of every neuron of every dense layer. */
function neuronColors(
  frame: Pick<Frame, 'values' | 'preferred' | 'domains'>,
  options: Pick<SceneOptions, 'palette' | 'scale' | 'classNames' | 'view'>,
): string[][] {
  const hues = classColors(options.classNames.length);
  const paint = neuronPaint(options);
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

/**
 * The scene of a frame on a display layout (lod.ts): in screen pixels, items being neurons or bins of
 * them; `frame` holds one value per item (displayFrame). The selection and the finding marks name neurons
 * and land on the items that hold them.
 */
export function buildScene(layout: DisplayLayout, frame: DisplayFrame, options: SceneOptions): NetworkScene {
  const colors = neuronColors(frame, options);
  const pixels = frame.input ? inputPixels(frame.input, options.inputShape) : undefined;
  const drawn = inputRect(layout.input, pixels ?? { kind: inputKindOf(options.inputShape), ...gridSize(options.inputShape, frame.input) });
  const findingMarks: NetworkScene['findingMarks'] = [];
  for (const [layer, neurons] of options.marked) {
    const column = layout.columns[layer - 1];
    if (!column) continue;
    for (const item of new Set([...neurons].map((neuron) => Math.floor(neuron / column.bin)))) {
      const y = column.y[item];
      if (y !== undefined) findingMarks.push({ x: column.x, y, radius: column.radius });
    }
  }
  const selectedColumn = options.selected ? layout.columns[options.selected.layer - 1] : undefined;
  const selectedItem =
    options.selected && selectedColumn
      ? { layer: options.selected.layer, index: Math.floor(options.selected.index / selectedColumn.bin) }
      : undefined;
  const selectedY = selectedItem ? selectedColumn?.y[selectedItem.index] : undefined;
  const selected = selectedColumn && selectedY !== undefined ? selectedItem : undefined;
  return {
    width: layout.width,
    height: layout.height,
    background: STAGE_COLOR,
    input: { ...layout.input, pixels, drawn },
    edges: edgeStrokes(layout, frame, selected, options.freshAge ?? 0),
    columns: layout.columns.map((column) => ({
      x: column.x,
      y: column.y,
      radius: column.radius,
      bin: column.bin,
      spacing: column.spacing,
      colors: colors[column.layer - 1] ?? [],
      ring: column.radius >= 2,
    })),
    findingMarks,
    selected: selectedColumn && selectedY !== undefined ? { x: selectedColumn.x, y: selectedY, radius: selectedColumn.radius } : undefined,
    texts: [
      ...classLabels(layout, options.classNames),
      ...staleLabels(layout, frame),
      ...columnLabels(layout),
      ...featureLabels(drawn, pixels, options.featureNames),
    ],
  };
}

/** A bin of neurons is drawn as a bar as tall as its neurons' share of the column (a neuron as a dot). */
export function binBar(column: SceneColumn): { width: number; height: number } | undefined {
  return column.bin > 1 ? { width: Math.max(3, column.radius * 1.6), height: Math.max(1, column.spacing * 0.85) } : undefined;
}

function gridSize(shape: readonly number[], input: Float32Array | undefined): { rows: number; columns: number } {
  const [rows, columns] = inputGrid(shape, input?.length ?? shape.reduce((product, size) => product * size, 1));
  return { rows, columns };
}

/** A strip of features is a quarter of the square wide, at its right (near the first layer); an image fills it, square cells. */
const FEATURE_STRIP = 0.25;

function inputRect(
  square: { x: number; y: number; side: number },
  grid: { kind: InputKind; rows: number; columns: number },
): NetworkScene['input']['drawn'] {
  if (grid.kind === 'features') {
    const width = square.side * FEATURE_STRIP;
    return { x: square.x + square.side - width, y: square.y, width, height: square.side };
  }
  const cell = square.side / Math.max(grid.rows, grid.columns);
  return { x: square.x, y: square.y, width: grid.columns * cell, height: grid.rows * cell };
}

/** Smallest cell height a feature name is written beside. */
const FEATURE_LABEL_SPACING = 9;

/** Feature names left of the strip, right-aligned, when each cell is tall enough for one. */
function featureLabels(
  drawn: NetworkScene['input']['drawn'],
  pixels: InputPixels | undefined,
  names: readonly string[] | undefined,
): SceneText[] {
  if (!pixels || pixels.kind !== 'features' || !names || names.length !== pixels.rows) return [];
  const cell = drawn.height / pixels.rows;
  if (cell < FEATURE_LABEL_SPACING) return [];
  const size = Math.min(12, Math.floor(cell * 0.9));
  return names.map((name, index) => ({
    x: drawn.x - 4,
    y: drawn.y + (index + 0.5) * cell,
    text: name.length > 18 ? `${name.slice(0, 17)}…` : name,
    align: 'end' as const,
    color: SCENE_COLORS.ink,
    size,
  }));
}

/** Under each column: its size, and its bins when neurons are binned. */
function columnLabels(layout: DisplayLayout): SceneText[] {
  return layout.columns.map((column) => ({
    x: column.x,
    y: layout.height - 10,
    text: column.bin > 1 ? `${column.neurons} · bins of ${column.bin}` : String(column.neurons),
    align: 'middle',
    color: SCENE_COLORS.ink,
  }));
}

/** Class names right of the output neurons, where the dots are far enough apart to label. */
function classLabels(layout: DisplayLayout, classNames: readonly string[]): SceneText[] {
  const output = layout.columns.at(-1);
  if (!output || output.spacing < LABEL_SPACING || output.bin > 1 || output.y.length !== classNames.length) return [];
  return classNames.map((name, index) => ({
    x: output.x + output.radius + 6,
    y: output.y[index]!,
    text: name,
    align: 'start',
    color: SCENE_COLORS.ink,
  }));
}

/** Over each gap whose links are older than the step shown: "weights of step k". */
function staleLabels(layout: DisplayLayout, frame: DisplayFrame): SceneText[] {
  return frame.edges.flatMap(({ layer, staleStep, kind }) => {
    const from = layout.columns[layer - 2];
    const to = layout.columns[layer - 1];
    if (staleStep === undefined || !from || !to) return [];
    const what = kind === 'weightGrad' ? '∂L/∂W' : 'weights';
    return [{ x: (from.x + to.x) / 2, y: 12, text: `${what} of step ${staleStep}`, align: 'middle' as const, color: FINDING_COLOR }];
  });
}

/**
 * Every layer's edges as one batch per sign and strength bucket, weakest first; the non-finite ones;
 * then, above all of them, the selected neuron's incoming and outgoing edges, while the rest recede.
 */
function edgeStrokes(layout: DisplayLayout, frame: DisplayFrame, selected: SceneOptions['selected'], freshAge: number): StrokeBatch[] {
  const gaps = frame.edges.flatMap(({ layer }) => {
    const from = layout.columns[layer - 2];
    const to = layout.columns[layer - 1];
    return from && to ? [{ from: from.y.length, to: to.y.length }] : [];
  });
  const density = edgeDensity(gaps, MAX_LINKS_PER_GAP);
  const batches: StrokeBatch[] = [];
  const highlighted: StrokeBatch[] = [];
  for (const edges of frame.edges) {
    const from = layout.columns[edges.layer - 2];
    const to = layout.columns[edges.layer - 1];
    if (!from || !to) continue;
    const fanOut = to.y.length;
    const lineOf = (edge: number) => [from.x, from.y[Math.floor(edge / fanOut)]!, to.x, to.y[edge % fanOut]!];
    const stale = edges.staleStep !== undefined && frame.step - edges.staleStep > freshAge;
    const dim = (selected ? RECEDED : 1) * (stale ? STALE : 1);
    const add = (indices: number[], color: string, style: { alpha: number; width: number }) => {
      if (indices.length === 0) return;
      // Written in place: this runs for every drawn link of every frame while scrubbing.
      const lines = new Float32Array(indices.length * 4);
      indices.forEach((edge, line) => {
        lines[line * 4] = from.x;
        lines[line * 4 + 1] = from.y[Math.floor(edge / fanOut)]!;
        lines[line * 4 + 2] = to.x;
        lines[line * 4 + 3] = to.y[edge % fanOut]!;
      });
      batches.push({ lines, color, alpha: style.alpha * dim, width: style.width });
    };
    const { buckets } = edges;
    for (let bucket = 0; bucket < EDGE_BUCKETS; bucket++) {
      add(buckets.negative[bucket]!, SIGN_COLORS.negative, bucketStyle(bucket, density));
      add(buckets.positive[bucket]!, SIGN_COLORS.positive, bucketStyle(bucket, density));
    }
    add(buckets.nonFinite, NON_FINITE_COLORS.nan, { alpha: 1, width: 1 });
    if (selected) highlighted.push(...selectedEdges(edges, selected, fanOut, lineOf));
  }
  return [...batches, ...highlighted];
}

/**
 * The selected neuron's edges in this gap (into it, or out of it), each at full strength-coded width
 * and at least half opacity, so they stand out of the receded rest even when weak.
 */
function selectedEdges(
  edges: DisplayEdges,
  selected: { layer: number; index: number },
  fanOut: number,
  lineOf: (edge: number) => number[],
): StrokeBatch[] {
  const fanIn = edges.values.length / fanOut;
  let indices: number[];
  if (selected.layer === edges.layer) indices = Array.from({ length: fanIn }, (_, from) => from * fanOut + selected.index);
  else if (selected.layer === edges.layer - 1) indices = Array.from({ length: fanOut }, (_, to) => selected.index * fanOut + to);
  else return [];
  return indices.map((edge) => {
    const value = edges.values[edge]!;
    const strength = Number.isFinite(value) ? edgeStrength(value, edges.domain, edges.mode) : 1;
    const color = !Number.isFinite(value) ? NON_FINITE_COLORS.nan : value < 0 ? SIGN_COLORS.negative : SIGN_COLORS.positive;
    return { lines: Float32Array.from(lineOf(edge)), color, alpha: 0.5 + 0.5 * strength, width: 1 + 2 * strength };
  });
}

export interface LegendStop {
  label: string;
  color: string;
  /** A ring, not a swatch (findings). */
  ring?: boolean;
}

export interface SceneLegend {
  /** What the neuron colours show: quantity, unit, scale, e.g. "mean activation f(z) (activation), global scale". */
  caption: string;
  stops: LegendStop[];
  /** Each layer's domain, when layers have domains of their own (layer scale, a probe's layer scale). */
  domains: string[];
  /** What the links show, and their scale. */
  links: { caption: string; stops: LegendStop[] } | undefined;
}

const NON_FINITE_STOPS: LegendStop[] = [
  { label: 'NaN', color: NON_FINITE_COLORS.nan },
  { label: '+Inf', color: NON_FINITE_COLORS.inf },
  { label: '−Inf', color: NON_FINITE_COLORS['-inf'] },
];

const SCALE_WORDS: Record<ScaleMode, string> = {
  global: 'global scale: one domain for every layer and step',
  log: 'log scale: one domain for every layer and step',
  layer: 'layer scale: each layer its own domain over the run',
  step: 'step scale: one domain for every layer at this step',
};

const format = (value: number) => (value === 0 ? '0' : value.toPrecision(2));

/**
 * The legend of a frame. For value views: the neuron quantity with its unit and scale, the stops of
 * the domain of `layer` (every layer's domain listed when they differ), and what the links show on
 * which scale. For the class view: each class's hue and the selectivity ramp. `label` names what the
 * values are ("mean activation", "A − B of …").
 */
export function sceneLegend(
  frame: Frame,
  layer: number,
  options: Omit<SceneOptions, 'inputShape' | 'selected'>,
  label: string,
): SceneLegend {
  const marked = options.marked.size > 0 ? [{ label: 'named by a finding', color: FINDING_COLOR, ring: true }] : [];
  const links = linkLegend(frame);
  if (VIEW_SPECS[options.view].encoding === 'class' && options.palette !== 'diverging') {
    const hues = classColors(options.classNames.length);
    return {
      caption: `${label}: hue = preferred class, brightness = selectivity`,
      stops: [
        ...options.classNames.map((name, index) => ({ label: name, color: hues[index]! })),
        { label: 'selectivity 0', color: classColorOf(hues[0]!, 0) },
        { label: '0.5', color: classColorOf(hues[0]!, 0.5) },
        { label: '1', color: classColorOf(hues[0]!, 1) },
        { label: 'too few classes', color: NON_FINITE_COLORS.nan },
        ...marked,
      ],
      domains: [],
      links,
    };
  }
  const mode = modeOf(options);
  const paint = neuronPaint(options);
  const unit = quantity(VIEW_SPECS[options.view].quantity).unit;
  const domains = frame.domains;
  const shared = domains.every((domain) => sameDomain(domain, domains[0]));
  const domain: Domain | undefined = shared ? domains[0] : domains[layer - 1];
  const stops = domain
    ? legendStops(domain, mode).map((stop) => ({ label: format(stop), color: paint(normalize(stop, domain, mode)) }))
    : [];
  return {
    caption: `Neurons: ${label} (${unit}), ${options.palette === 'diverging' ? 'each layer symmetric around 0' : SCALE_WORDS[mode]}${shared ? '' : `; colours below for layer ${layer}`}`,
    stops: [...stops, ...NON_FINITE_STOPS, ...marked],
    domains: shared ? [] : domains.map((each, index) => `layer ${index + 1}: ${domainText(each)}`),
    links,
  };
}

function sameDomain(a: Domain, b: Domain | undefined): boolean {
  return b !== undefined && a.min === b.min && a.max === b.max && a.minMagnitude === b.minMagnitude;
}

function domainText(domain: Domain): string {
  if (!Number.isFinite(domain.min)) return 'not loaded';
  return domain.min === domain.max ? format(domain.min) : `${format(domain.min)} … ${format(domain.max)}`;
}

const LINK_WORDS: Record<FrameEdges['kind'], string> = {
  weight: `${quantity('weight').label} ${quantity('weight').symbol}`,
  weightGrad: `weight gradient ${quantity('weightGrad').symbol}`,
  probeForward: 'this probe’s forward flow a·W',
  probeGrad: 'this probe’s own ∂ℓ/∂W = a·∂ℓ/∂z',
  difference: 'A − B',
};

/** What the links show: their quantity, the sign colours, and the scale with its largest magnitude. */
function linkLegend(frame: Frame): SceneLegend['links'] {
  const first = frame.edges[0];
  if (!first) return undefined;
  const { mode } = first;
  const largest = (domain: Domain) => Math.max(Math.abs(domain.min), Math.abs(domain.max));
  const perLayer = mode === 'layer' || frame.edges.some((edges) => !sameDomain(edges.domain, first.domain));
  const scale = perLayer
    ? `each layer on its own scale (largest |value|: ${frame.edges.map((edges) => `layer ${edges.layer} ${format(largest(edges.domain))}`).join(', ')})`
    : `one ${mode} scale for every layer (largest |value| ${format(largest(first.domain))}${mode === 'log' ? `, ${LINK_LOG_DECADES} decades` : ''})`;
  const coded = frame.edges.filter((edges) => edges.precision === 'int8').map((edges) => edges.layer);
  const precision = coded.length > 0 ? `; layer ${coded.join(', ')} from 8-bit link frames (within 0.4% of the largest |value|)` : '';
  return {
    caption: `Links: ${LINK_WORDS[first.kind]}; width and brightness = |value|, ${scale}${precision}`,
    stops: [
      { label: 'positive', color: SIGN_COLORS.positive },
      { label: 'negative', color: SIGN_COLORS.negative },
    ],
  };
}
