/**
 * Every column of every Arrow file in a run, declared once. The recorder's writer and the
 * viewer's reader both build their schemas from these declarations, and docs/run-format.md is
 * generated from them (`npm run docs:format`).
 */

export const VALUE_TYPES = ['float32', 'int32', 'uint8', 'utf8'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export interface ColumnSpec {
  name: string;
  type: ValueType;
  /** Absent for a scalar per row; otherwise a FixedSizeList of product(shape) values per row, row-major. */
  shape?: number[];
  /** Null where the value was not computed on that row (e.g. held-out evaluation between intervals). */
  nullable?: boolean;
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
}

/** Dense layers are numbered from 1; layer 0 is the input. */
export function layerColumnName(layer: number, field: PerLayerField): string {
  return `layer${layer}.${field}`;
}

const PER_LAYER = {
  meanActivation: {
    perNeuron: true,
    unit: 'activation',
    doc: 'Mean over the batch of the neuron output f(z); softmax probability for the output layer.',
  },
  fractionActive: {
    perNeuron: true,
    unit: 'fraction 0–1',
    doc: 'Fraction of the batch with z > 0; for the output layer, fraction of the batch predicted as this class.',
  },
  gradPreActivation: {
    perNeuron: true,
    unit: 'loss per unit z',
    doc: '∂L/∂z summed over the batch, where L is the batch-mean loss: the mean over samples of each sample’s ∂ℓ/∂z (equals the bias gradient).',
  },
  weightNorm: { perNeuron: false, unit: 'L2 norm', doc: 'Frobenius norm of the weight matrix (bias excluded) before this step’s update.' },
  gradNorm: { perNeuron: false, unit: 'L2 norm', doc: 'Frobenius norm of ∂L/∂W for this step’s batch.' },
  updateRatio: {
    perNeuron: false,
    unit: 'ratio',
    doc: '‖ΔW‖ / ‖W‖: norm of the update the optimizer applied at this step over the weight norm before it.',
  },
  probeActivation: {
    perNeuron: true,
    unit: 'activation',
    doc: 'f(z) of every neuron for every probe sample, shape [probe, neuron], with the weights this step’s batch saw.',
  },
  probeGradPreActivation: {
    perNeuron: true,
    unit: 'loss per unit z',
    doc: '∂ℓ_p/∂z of every neuron for every probe p, of that probe’s own cross-entropy loss, shape [probe, neuron].',
  },
} as const;

export type PerLayerField = keyof typeof PER_LAYER;
export const PER_LAYER_FIELDS = Object.keys(PER_LAYER) as PerLayerField[];

/** Columns of `steps-NNNN.arrows`: one row per training step. */
export function stepColumns(shape: RunShape): ColumnSpec[] {
  const columns: ColumnSpec[] = [
    { name: 'step', type: 'int32', unit: 'index', doc: 'Training step, from 0. One step = one batch and one update.' },
    { name: 'epoch', type: 'int32', unit: 'index', doc: 'Epoch the step belongs to, from 0.' },
    { name: 'loss', type: 'float32', unit: 'nats', doc: 'Mean cross-entropy over the batch, before the update.' },
    { name: 'accuracy', type: 'float32', unit: 'fraction 0–1', doc: 'Fraction of the batch classified correctly, before the update.' },
    {
      name: 'batchIndices',
      type: 'int32',
      shape: [shape.batchSize],
      unit: 'index',
      doc: 'Indices into the training split of the samples in this batch, in order.',
    },
    {
      name: 'meanInput',
      type: 'float32',
      shape: [shape.inputSize],
      unit: 'pixel 0–1',
      doc: 'Mean over the batch of the input (the input layer’s activation), row-major 28×28.',
    },
  ];
  shape.layerSizes.forEach((neurons, index) => {
    const layer = index + 1;
    for (const field of PER_LAYER_FIELDS) {
      const spec = PER_LAYER[field];
      const isProbe = field === 'probeActivation' || field === 'probeGradPreActivation';
      if (isProbe && shape.probeCount === 0) continue;
      columns.push({
        name: layerColumnName(layer, field),
        type: 'float32',
        ...(spec.perNeuron ? { shape: isProbe ? [shape.probeCount, neurons] : [neurons] } : {}),
        unit: spec.unit,
        doc: spec.doc,
      });
    }
  });
  if (shape.probeCount > 0) {
    columns.push(
      {
        name: 'probePredicted',
        type: 'uint8',
        shape: [shape.probeCount],
        unit: 'class',
        doc: 'Predicted class of each probe sample.',
      },
      { name: 'probeLoss', type: 'float32', shape: [shape.probeCount], unit: 'nats', doc: 'Cross-entropy of each probe sample.' },
    );
  }
  columns.push(
    {
      name: 'evalLoss',
      type: 'float32',
      nullable: true,
      unit: 'nats',
      doc: 'Mean cross-entropy over the held-out split with this step’s weights; null between evaluations.',
    },
    {
      name: 'evalAccuracy',
      type: 'float32',
      nullable: true,
      unit: 'fraction 0–1',
      doc: 'Held-out accuracy with this step’s weights; null between evaluations.',
    },
  );
  return columns;
}

/** Why a weight snapshot was kept. */
export const SNAPSHOT_REASONS = ['first', 'stride', 'anomaly', 'last'] as const;
export type SnapshotReason = (typeof SNAPSHOT_REASONS)[number];

/** Columns of `weights-layerK-NNNN.arrows`: one row per kept step of dense layer K. */
export function weightColumns(fanIn: number, fanOut: number): ColumnSpec[] {
  return [
    { name: 'step', type: 'int32', unit: 'index', doc: 'Training step of the snapshot.' },
    { name: 'reason', type: 'utf8', unit: 'text', doc: `Why this step was kept: ${SNAPSHOT_REASONS.join(', ')}.` },
    {
      name: 'weight',
      type: 'float32',
      shape: [fanIn, fanOut],
      unit: 'weight',
      doc: 'W before this step’s update; weight[i][j] connects input i to neuron j.',
    },
    { name: 'bias', type: 'float32', shape: [fanOut], unit: 'weight', doc: 'b before this step’s update.' },
    { name: 'weightGrad', type: 'float32', shape: [fanIn, fanOut], unit: 'loss per unit weight', doc: '∂L/∂W for this step’s batch.' },
    { name: 'biasGrad', type: 'float32', shape: [fanOut], unit: 'loss per unit weight', doc: '∂L/∂b for this step’s batch.' },
  ];
}

/** Columns of `probes.arrows`: the fixed probe samples, written once. */
export function probeColumns(inputSize: number): ColumnSpec[] {
  return [
    { name: 'probe', type: 'int32', unit: 'index', doc: 'Probe number, the row index used by the probe columns of the step files.' },
    { name: 'testIndex', type: 'int32', unit: 'index', doc: 'Index of the sample in the held-out split.' },
    { name: 'label', type: 'uint8', unit: 'class', doc: 'True class.' },
    { name: 'input', type: 'float32', shape: [inputSize], unit: 'pixel 0–1', doc: 'The input, row-major 28×28.' },
  ];
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
} as const;
