/**
 * The Arrow columns of a run's files, derived from the vocabulary (quantities.ts): the recorder's
 * writer and the viewer's reader build their schemas from these, and docs/run-format.md is
 * generated from them (`npm run docs:format`).
 */
import { QUANTITIES, QUANTITY_NAMES, QUANTITY_SHAPES, recordedIn, type FileKind, type QuantityName, type ValueType } from './quantities.js';

export { VALUE_TYPES, type ValueType } from './quantities.js';

export interface ColumnSpec {
  name: string;
  /** The vocabulary entry the column records (every run column has one; test streams may not). */
  quantity?: QuantityName;
  /** Dense layer (from 1) of a per-layer quantity's column. */
  layer?: number;
  type: ValueType;
  /** Absent for a scalar per row; otherwise a FixedSizeList of product(shape) values per row, row-major. */
  shape?: number[];
  /** `row`: null where the value was not computed on that row; `item`: single list items may be null. */
  nullable?: 'row' | 'item';
  unit: string;
  doc: string;
}

/** What decides the widths of a run's columns. */
export interface RunShape {
  /** Input values per sample (784 for 28×28 images). */
  inputSize: number;
  /** Neurons per dense layer, hidden layers first, the output layer last. */
  layerSizes: number[];
  batchSize: number;
  probeCount: number;
  /** Classes: the output layer's size. */
  classCount: number;
  /** The run's schemaVersion: quantities recorded since a later one are not in its files. */
  schemaVersion: number;
}

/** Dense layers are numbered from 1; layer 0 is the input. */
export function layerColumnName(layer: number, quantity: QuantityName): string {
  return `layer${layer}.${quantity}`;
}

/** The column a quantity is stored in: `layerK.<name>` for per-layer quantities. */
export function columnNameOf(name: QuantityName, layer?: number): string {
  // A weights file's step column kept the name every weights file has had; a links file's follows it.
  if (name === 'snapshotStep' || name === 'linkStep') return 'step';
  return QUANTITY_SHAPES[QUANTITIES[name].shape].perLayer ? layerColumnName(layer ?? 0, name) : name;
}

function column(name: QuantityName, shape: number[] | undefined, layer?: number): ColumnSpec {
  const spec = QUANTITIES[name];
  return {
    name: columnNameOf(name, layer),
    quantity: name,
    ...(layer === undefined ? {} : { layer }),
    type: spec.type,
    ...(shape ? { shape } : {}),
    ...('nullable' in spec ? { nullable: spec.nullable } : {}),
    unit: spec.unit,
    doc: spec.meaning,
  };
}

function fileQuantities(file: FileKind, schemaVersion: number): QuantityName[] {
  return QUANTITY_NAMES.filter((name) => QUANTITIES[name].file === file && recordedIn(name, schemaVersion));
}

/** Columns of `steps-NNNN.arrows`: one row per training step. */
export function stepColumns(shape: RunShape): ColumnSpec[] {
  const names = fileQuantities('steps', shape.schemaVersion).filter(
    (name) => shape.probeCount > 0 || !['probe', 'probeNeuron'].includes(QUANTITIES[name].shape),
  );
  const dimensions = (name: QuantityName, neurons: number): number[] | undefined => {
    switch (QUANTITIES[name].shape) {
      case 'batch':
        return [shape.batchSize];
      case 'input':
        return [shape.inputSize];
      case 'probe':
        return [shape.probeCount];
      case 'neuron':
        return [neurons];
      case 'neuronClass':
        return [neurons, shape.classCount];
      case 'probeNeuron':
        return [shape.probeCount, neurons];
      default:
        return undefined;
    }
  };
  // Declaration order: the run-level quantities declared before the per-layer ones, then each layer's
  // block, then the rest (the order files have always had).
  const isPerLayer = (name: QuantityName) => QUANTITY_SHAPES[QUANTITIES[name].shape].perLayer;
  const firstPerLayer = names.findIndex(isPerLayer);
  const runLevel = (from: number, to: number) => names.slice(from, to).filter((name) => !isPerLayer(name));
  return [
    ...runLevel(0, firstPerLayer).map((name) => column(name, dimensions(name, 0))),
    ...shape.layerSizes.flatMap((neurons, index) =>
      names.filter(isPerLayer).map((name) => column(name, dimensions(name, neurons), index + 1)),
    ),
    ...runLevel(firstPerLayer, names.length).map((name) => column(name, dimensions(name, 0))),
  ];
}

/** Why a weight snapshot was kept. */
export const SNAPSHOT_REASONS = ['first', 'stride', 'anomaly', 'last'] as const;
export type SnapshotReason = (typeof SNAPSHOT_REASONS)[number];

/** Columns of `weights-layerK-NNNN.arrows`: one row per kept step of dense layer K. */
export function weightColumns(fanIn: number, fanOut: number): ColumnSpec[] {
  const dimensions = { edge: [fanIn, fanOut], bias: [fanOut] } as Partial<Record<string, number[]>>;
  return fileQuantities('weights', Infinity).map((name) => column(name, dimensions[QUANTITIES[name].shape]));
}

/**
 * Columns of `links-layerK-NNNN.arrows`: one row per link frame of dense layer K, its W and ∂L/∂W
 * as int8 codes with one scale each (core/format/int8.ts), for drawing (schemaVersion 3+).
 */
export function linkColumns(fanIn: number, fanOut: number): ColumnSpec[] {
  return fileQuantities('links', Infinity).map((name) => column(name, QUANTITIES[name].shape === 'edge' ? [fanIn, fanOut] : undefined));
}

/** Columns of `probes.arrows`: the fixed probe samples, written once. */
export function probeColumns(inputSize: number): ColumnSpec[] {
  return fileQuantities('probes', Infinity).map((name) => column(name, QUANTITIES[name].shape === 'input' ? [inputSize] : undefined));
}

/** Values per row of a column: 1 for scalars. */
export function columnWidth(spec: ColumnSpec): number {
  return spec.shape ? spec.shape.reduce((product, size) => product * size, 1) : 1;
}

export const FILE_NAMES = {
  manifest: 'run.json',
  probes: 'probes.arrows',
  steps: (chunk: number) => `steps-${String(chunk).padStart(4, '0')}.arrows`,
  weights: (layer: number, chunk: number) => `weights-layer${layer}-${String(chunk).padStart(4, '0')}.arrows`,
  links: (layer: number, chunk: number) => `links-layer${layer}-${String(chunk).padStart(4, '0')}.arrows`,
} as const;
