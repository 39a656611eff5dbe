/**
 * The vocabulary: every quantity a run records, declared once — its name, label, symbol, unit,
 * meaning, shape, whether it is signed, its probe twin, the edges drawn with it and the view that
 * shows it. The Arrow columns (columns.ts), docs/run-format.md, the writer's row cells, the
 * viewer's views, legend, tooltip, inspector and URL state all derive from this table. Adding a
 * quantity is an entry here, its computation, and its tests.
 */

export const VALUE_TYPES = ['float32', 'int32', 'int8', 'uint8', 'utf8'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/**
 * How many values a quantity has per row of its file. Per-layer shapes repeat for every dense
 * layer K (column `layerK.<name>`); n_K is the layer's neurons, C the classes, P the probes, B the
 * batch size, D the input's values.
 */
export const QUANTITY_SHAPES = {
  scalar: { perLayer: false, symbols: [] },
  batch: { perLayer: false, symbols: ['B'] },
  input: { perLayer: false, symbols: ['D'] },
  probe: { perLayer: false, symbols: ['P'] },
  layer: { perLayer: true, symbols: [] },
  neuron: { perLayer: true, symbols: ['n_K'] },
  neuronClass: { perLayer: true, symbols: ['n_K', 'C'] },
  probeNeuron: { perLayer: true, symbols: ['P', 'n_K'] },
  /** In a layer's weights or links file: [n_(K−1), n_K]. */
  edge: { perLayer: false, symbols: ['n_(K−1)', 'n_K'] },
  /** In a layer's weights file: [n_K]. */
  bias: { perLayer: false, symbols: ['n_K'] },
} as const;
export type QuantityShape = keyof typeof QUANTITY_SHAPES;

export const FILE_KINDS = ['steps', 'weights', 'links', 'probes'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** The views of the network picture; each shows one per-neuron quantity (its `view`). */
export const VIEWS = ['activation', 'gradient', 'class'] as const;
export type View = (typeof VIEWS)[number];

/**
 * How a view turns a neuron's values into a colour: `value` as recorded (signed or not), `magnitude`
 * as |value| (gradients: how much flows, whatever the sign), `class` as the preferred class (hue) and
 * how selective the neuron is (brightness), from its per-class values.
 */
export type ViewEncoding = 'value' | 'magnitude' | 'class';

export interface ViewSpec {
  name: View;
  /** The view's name in menus and legends. */
  label: string;
  encoding: ViewEncoding;
  /** The snapshot matrix the view draws as edges: W, or ∂L/∂W. */
  edges: 'weight' | 'weightGrad';
  /** Key that selects it. */
  key: string;
}

export interface QuantitySpec {
  file: FileKind;
  shape: QuantityShape;
  type: ValueType;
  /** `row`: a row may have no value (held-out loss between evaluations); `item`: single values may be null. */
  nullable?: 'row' | 'item';
  /** Short name in tooltips, axes and legends. */
  label: string;
  /** Its mathematical symbol. */
  symbol: string;
  unit: string;
  /** One sentence: what the number is. */
  meaning: string;
  /** Whether values can be negative: decides a diverging or a sequential colour scale. */
  signed: boolean;
  /** The per-probe version of a batch-mean quantity, [probe, neuron]. */
  probeTwin?: QuantityName;
  /** The view of the network picture that shows this quantity, if any. */
  view?: ViewSpec;
  /** The first schemaVersion whose runs record it (absent in older runs). */
  since: number;
}

/** Declaration order is column order within a file (per-layer quantities in each layer's block). */
export const QUANTITIES = {
  step: {
    file: 'steps',
    shape: 'scalar',
    type: 'int32',
    label: 'step',
    symbol: 't',
    unit: 'index',
    meaning: 'Training step, from 0. One step = one batch and one update.',
    signed: false,
    since: 1,
  },
  epoch: {
    file: 'steps',
    shape: 'scalar',
    type: 'int32',
    label: 'epoch',
    symbol: 'e',
    unit: 'index',
    meaning: 'Epoch the step belongs to, from 0.',
    signed: false,
    since: 1,
  },
  loss: {
    file: 'steps',
    shape: 'scalar',
    type: 'float32',
    label: 'loss',
    symbol: 'L',
    unit: 'nats',
    meaning: 'Mean cross-entropy over the batch, before the update.',
    signed: false,
    since: 1,
  },
  accuracy: {
    file: 'steps',
    shape: 'scalar',
    type: 'float32',
    label: 'batch accuracy',
    symbol: 'acc',
    unit: 'fraction 0–1',
    meaning: 'Fraction of the batch classified correctly, before the update.',
    signed: false,
    since: 1,
  },
  batchIndices: {
    file: 'steps',
    shape: 'batch',
    type: 'int32',
    label: 'batch indices',
    symbol: 'i',
    unit: 'index',
    meaning: 'Indices into the training split of the samples in this batch, in order.',
    signed: false,
    since: 1,
  },
  meanInput: {
    file: 'steps',
    shape: 'input',
    type: 'float32',
    label: 'mean input',
    symbol: 'x̄',
    unit: 'input value',
    meaning: 'Mean over the batch of the input (the input layer’s activation), row-major in the input’s shape.',
    signed: true,
    since: 1,
  },
  meanActivation: {
    file: 'steps',
    shape: 'neuron',
    type: 'float32',
    label: 'mean activation',
    symbol: 'f(z)',
    unit: 'activation',
    meaning: 'Mean over the batch of the neuron output f(z); softmax probability for the output layer.',
    signed: true,
    probeTwin: 'probeActivation',
    view: { name: 'activation', label: 'activation', encoding: 'value', edges: 'weight', key: 'a' },
    since: 1,
  },
  fractionActive: {
    file: 'steps',
    shape: 'neuron',
    type: 'float32',
    label: 'fraction active',
    symbol: 'P(z>0)',
    unit: 'fraction 0–1',
    meaning: 'Fraction of the batch with z > 0; for the output layer, fraction of the batch predicted as this class.',
    signed: false,
    since: 1,
  },
  gradPreActivation: {
    file: 'steps',
    shape: 'neuron',
    type: 'float32',
    label: '∂L/∂z',
    symbol: '∂L/∂z',
    unit: 'loss per unit z',
    meaning:
      '∂L/∂z summed over the batch, where L is the batch-mean loss: the mean over samples of each sample’s ∂ℓ/∂z (equals the bias gradient).',
    signed: true,
    probeTwin: 'probeGradPreActivation',
    view: { name: 'gradient', label: 'gradient |∂L/∂z|', encoding: 'magnitude', edges: 'weightGrad', key: 'g' },
    since: 1,
  },
  classActivation: {
    file: 'steps',
    shape: 'neuronClass',
    type: 'float32',
    nullable: 'item',
    label: 'mean activation by class',
    symbol: 'f̄_c(z)',
    unit: 'activation',
    meaning:
      'Mean of f(z) over the batch’s samples of each class, [neuron, class] (softmax probability for the output layer); null for a class absent from the batch.',
    signed: true,
    view: { name: 'class', label: 'class', encoding: 'class', edges: 'weight', key: 'c' },
    since: 2,
  },
  weightNorm: {
    file: 'steps',
    shape: 'layer',
    type: 'float32',
    label: 'weight norm',
    symbol: '‖W‖',
    unit: 'L2 norm',
    meaning: 'Frobenius norm of the weight matrix (bias excluded) before this step’s update.',
    signed: false,
    since: 1,
  },
  gradNorm: {
    file: 'steps',
    shape: 'layer',
    type: 'float32',
    label: 'gradient norm',
    symbol: '‖∂L/∂W‖',
    unit: 'L2 norm',
    meaning: 'Frobenius norm of ∂L/∂W for this step’s batch.',
    signed: false,
    since: 1,
  },
  updateRatio: {
    file: 'steps',
    shape: 'layer',
    type: 'float32',
    label: 'update ratio',
    symbol: '‖ΔW‖/‖W‖',
    unit: 'ratio',
    meaning: '‖ΔW‖ / ‖W‖: norm of the update the optimizer applied at this step over the weight norm before it.',
    signed: false,
    since: 1,
  },
  fractionInactive: {
    file: 'steps',
    shape: 'layer',
    type: 'float32',
    label: 'fraction inactive',
    symbol: 'inactive',
    unit: 'fraction 0–1',
    meaning:
      'Fraction of the layer’s neurons inactive on the batch by its activation function’s rule: ReLU and leaky ReLU z ≤ 0 on every sample; sigmoid and tanh saturated, f′(z) below config.diagnostics.saturation.derivativeFraction of its maximum on at least sampleFraction of the samples; linear never (0). Hidden layers only: NaN for the output layer.',
    signed: false,
    since: 4,
  },
  probeActivation: {
    file: 'steps',
    shape: 'probeNeuron',
    type: 'float32',
    label: 'activation',
    symbol: 'f(z)',
    unit: 'activation',
    meaning: 'f(z) of every neuron for every probe sample, shape [probe, neuron], with the weights this step’s batch saw.',
    signed: true,
    since: 1,
  },
  probeGradPreActivation: {
    file: 'steps',
    shape: 'probeNeuron',
    type: 'float32',
    label: '∂ℓ/∂z',
    symbol: '∂ℓ/∂z',
    unit: 'loss per unit z',
    meaning: '∂ℓ_p/∂z of every neuron for every probe p, of that probe’s own cross-entropy loss, shape [probe, neuron].',
    signed: true,
    since: 1,
  },
  probePredicted: {
    file: 'steps',
    shape: 'probe',
    type: 'uint8',
    label: 'predicted class',
    symbol: 'ŷ',
    unit: 'class',
    meaning: 'Predicted class of each probe sample.',
    signed: false,
    since: 1,
  },
  probeLoss: {
    file: 'steps',
    shape: 'probe',
    type: 'float32',
    label: 'probe loss',
    symbol: 'ℓ_p',
    unit: 'nats',
    meaning: 'Cross-entropy of each probe sample.',
    signed: false,
    since: 1,
  },
  evalLoss: {
    file: 'steps',
    shape: 'scalar',
    type: 'float32',
    nullable: 'row',
    label: 'held-out loss',
    symbol: 'L_test',
    unit: 'nats',
    meaning: 'Mean cross-entropy over the held-out split with this step’s weights; null between evaluations.',
    signed: false,
    since: 1,
  },
  evalAccuracy: {
    file: 'steps',
    shape: 'scalar',
    type: 'float32',
    nullable: 'row',
    label: 'held-out accuracy',
    symbol: 'acc_test',
    unit: 'fraction 0–1',
    meaning: 'Held-out accuracy with this step’s weights; null between evaluations.',
    signed: false,
    since: 1,
  },
  snapshotStep: {
    file: 'weights',
    shape: 'scalar',
    type: 'int32',
    label: 'step',
    symbol: 't',
    unit: 'index',
    meaning: 'Training step of the snapshot.',
    signed: false,
    since: 1,
  },
  reason: {
    file: 'weights',
    shape: 'scalar',
    type: 'utf8',
    label: 'why kept',
    symbol: '',
    unit: 'text',
    meaning: 'Why this step was kept: first, stride, anomaly, last.',
    signed: false,
    since: 1,
  },
  weight: {
    file: 'weights',
    shape: 'edge',
    type: 'float32',
    label: 'weight',
    symbol: 'W',
    unit: 'weight',
    meaning: 'W before this step’s update; weight[i][j] connects input i to neuron j.',
    signed: true,
    since: 1,
  },
  bias: {
    file: 'weights',
    shape: 'bias',
    type: 'float32',
    label: 'bias',
    symbol: 'b',
    unit: 'weight',
    meaning: 'b before this step’s update.',
    signed: true,
    since: 1,
  },
  weightGrad: {
    file: 'weights',
    shape: 'edge',
    type: 'float32',
    label: '∂L/∂W',
    symbol: '∂L/∂W',
    unit: 'loss per unit weight',
    meaning: '∂L/∂W for this step’s batch.',
    signed: true,
    since: 1,
  },
  biasGrad: {
    file: 'weights',
    shape: 'bias',
    type: 'float32',
    label: '∂L/∂b',
    symbol: '∂L/∂b',
    unit: 'loss per unit weight',
    meaning: '∂L/∂b for this step’s batch.',
    signed: true,
    since: 1,
  },
  linkStep: {
    file: 'links',
    shape: 'scalar',
    type: 'int32',
    label: 'step',
    symbol: 't',
    unit: 'index',
    meaning: 'Training step of the link frame.',
    signed: false,
    since: 3,
  },
  weightScale: {
    file: 'links',
    shape: 'scalar',
    type: 'float32',
    label: 'W scale',
    symbol: 's_W',
    unit: 'weight per code',
    meaning: 'Largest finite |W| of this frame over 127: W ≈ code × scale; 0 when no value is finite and non-zero.',
    signed: false,
    since: 3,
  },
  weightCode: {
    file: 'links',
    shape: 'edge',
    type: 'int8',
    label: 'W (int8)',
    symbol: 'q_W',
    unit: 'code',
    meaning:
      'W before this step’s update as round(W / scale), −127…127, off by at most scale / 2 (1/254 of the largest |W|); −128 where W was NaN or ±Inf.',
    signed: true,
    since: 3,
  },
  weightGradScale: {
    file: 'links',
    shape: 'scalar',
    type: 'float32',
    label: '∂L/∂W scale',
    symbol: 's_∂W',
    unit: 'loss per unit weight per code',
    meaning: 'Largest finite |∂L/∂W| of this frame over 127: ∂L/∂W ≈ code × scale; 0 when no value is finite and non-zero.',
    signed: false,
    since: 3,
  },
  weightGradCode: {
    file: 'links',
    shape: 'edge',
    type: 'int8',
    label: '∂L/∂W (int8)',
    symbol: 'q_∂W',
    unit: 'code',
    meaning: '∂L/∂W for this step’s batch as round(∂L/∂W / scale), −127…127, off by at most scale / 2; −128 where it was NaN or ±Inf.',
    signed: true,
    since: 3,
  },
  probe: {
    file: 'probes',
    shape: 'scalar',
    type: 'int32',
    label: 'probe',
    symbol: 'p',
    unit: 'index',
    meaning: 'Probe number, the row index used by the probe columns of the step files.',
    signed: false,
    since: 1,
  },
  testIndex: {
    file: 'probes',
    shape: 'scalar',
    type: 'int32',
    label: 'held-out index',
    symbol: 'i',
    unit: 'index',
    meaning: 'Index of the sample in the held-out split.',
    signed: false,
    since: 1,
  },
  label: {
    file: 'probes',
    shape: 'scalar',
    type: 'uint8',
    label: 'true class',
    symbol: 'y',
    unit: 'class',
    meaning: 'True class.',
    signed: false,
    since: 1,
  },
  input: {
    file: 'probes',
    shape: 'input',
    type: 'float32',
    label: 'input',
    symbol: 'x',
    unit: 'input value',
    meaning: 'The input, row-major in the input’s shape.',
    signed: true,
    since: 1,
  },
} as const satisfies Record<string, Omit<QuantitySpec, 'probeTwin'> & { probeTwin?: string }>;

export type QuantityName = keyof typeof QUANTITIES;
type Spec<Q extends QuantityName> = (typeof QUANTITIES)[Q];

/** The quantities of one kind of file, in column order. */
export type QuantityOf<F extends FileKind> = { [Q in QuantityName]: Spec<Q>['file'] extends F ? Q : never }[QuantityName];
/** Step-file quantities with one column per dense layer. */
export type LayerQuantity = {
  [Q in QuantityName]: Spec<Q>['shape'] extends 'layer' | 'neuron' | 'neuronClass' | 'probeNeuron' ? Q : never;
}[QuantityName];
/** Step-file quantities with one column for the whole network. */
export type RunQuantity = Exclude<QuantityOf<'steps'>, LayerQuantity>;
/** Per-neuron quantities: one value per neuron of a layer per step. */
export type NeuronQuantity = { [Q in QuantityName]: Spec<Q>['shape'] extends 'neuron' ? Q : never }[QuantityName];
/** Per-layer scalars: one value per layer per step. */
export type LayerScalarQuantity = { [Q in QuantityName]: Spec<Q>['shape'] extends 'layer' ? Q : never }[QuantityName];
export type ProbeNeuronQuantity = { [Q in QuantityName]: Spec<Q>['shape'] extends 'probeNeuron' ? Q : never }[QuantityName];

export function quantity(name: QuantityName): QuantitySpec {
  return QUANTITIES[name] as QuantitySpec;
}

export const QUANTITY_NAMES = Object.keys(QUANTITIES) as QuantityName[];

export function isQuantityName(name: string): name is QuantityName {
  return Object.hasOwn(QUANTITIES, name);
}

/** The per-neuron quantities, in declaration order: the tooltip's lines and the inspector's series. */
export const NEURON_QUANTITIES = QUANTITY_NAMES.filter((name) => QUANTITIES[name].shape === 'neuron') as NeuronQuantity[];

/** Whether a run of `schemaVersion` records `name`. */
export function recordedIn(name: QuantityName, schemaVersion: number): boolean {
  return QUANTITIES[name].since <= schemaVersion;
}

/** The quantity each view shows, and that view's spec. */
export const VIEW_SPECS: Readonly<Record<View, ViewSpec & { quantity: QuantityName }>> = Object.fromEntries(
  QUANTITY_NAMES.flatMap((name) => {
    const view = quantity(name).view;
    return view ? [[view.name, { ...view, quantity: name }]] : [];
  }),
) as Record<View, ViewSpec & { quantity: QuantityName }>;
