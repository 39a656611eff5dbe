/**
 * Hidden-layer activation functions, each described once: f, f′, what "active" and "inactive" mean
 * for it, its largest derivative and where it saturates. The float64 reference (mlp.ts), the batch statistics,
 * the detectors and the docs read these objects; the engine's tensor ops (recorder/activations.ts)
 * and the first-layer kernel implement the same f and f′ and are tested against them.
 */

export const ACTIVATIONS = ['relu', 'leaky-relu', 'sigmoid', 'tanh', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Slope of leaky ReLU for negative pre-activations. */
export const LEAKY_RELU_SLOPE = 0.01;

/**
 * When a hidden neuron counts as inactive on a step's batch (core/nn/inactive.ts):
 * `silent` — z ≤ 0 on every sample (fraction active 0); `saturated` — f′(z) below a fraction of its
 * maximum on most samples; `never` — it always passes signal and gradient.
 */
export type InactiveRule = 'silent' | 'saturated' | 'never';

/**
 * The saturation thresholds the `saturated` rule uses (config.diagnostics.saturation, shared with the
 * saturation detector): f′(z) below `derivativeFraction` × its maximum on ≥ `sampleFraction` of the batch.
 */
export interface SaturationThresholds {
  derivativeFraction: number;
  sampleFraction: number;
}

export interface ActivationFunction {
  name: Activation;
  /** f(z) for a pre-activation z. */
  forward(preActivation: number): number;
  /** f′(z), written in terms of z and f(z) so callers can reuse a computed activation. */
  derivative(preActivation: number, activation: number): number;
  /** Largest f′(z) over all z. */
  maxDerivative: number;
  /**
   * Squashing functions: the output at the centre of the curve, where f′ is largest; f′ falls as
   * (f(z) − centre)² grows (sigmoid ¼ − (a − ½)², tanh 1 − a²). Undefined for the others.
   */
  saturationCentre: number | undefined;
  /** ReLU family: a unit with z ≤ 0 on every sample passes no signal and (for relu) gets no gradient. */
  canDie: boolean;
  /** What "active" (z > 0) means for this function, in words, for docs and tooltips. */
  activeMeans: string;
  /** When a neuron counts as inactive on a step's batch (`layerK.fractionInactive`, the dead-neuron and saturation detectors). */
  inactiveRule: InactiveRule;
  /** That rule in words, for docs and tooltips, with the run's thresholds. */
  inactiveMeans(thresholds: SaturationThresholds): string;
}

const percent = (fraction: number) => `${Number((fraction * 100).toPrecision(3))}%`;

/** f(z) beyond which a squashing function's f′ is below the threshold: centre ± √(max − limit) (f′ = max − (a − centre)²). */
function saturatedOutputs(centre: number, maxDerivative: number, derivativeFraction: number): [string, string] {
  const distance = Math.sqrt(maxDerivative * (1 - derivativeFraction));
  return [centre - distance, centre + distance].map((bound) => String(Number(bound.toPrecision(3))).replace('-', '−')) as [string, string];
}

function saturatedMeans(fn: ActivationFunction, { derivativeFraction, sampleFraction }: SaturationThresholds): string {
  const [low, high] = saturatedOutputs(fn.saturationCentre!, fn.maxDerivative, derivativeFraction);
  return (
    `saturated: f′(z) below ${percent(derivativeFraction)} of its maximum (output below ${low} or above ${high}) ` +
    `on at least ${percent(sampleFraction)} of the batch; it passes almost no gradient back`
  );
}

const relu: ActivationFunction = {
  name: 'relu',
  forward: (z) => (z > 0 ? z : 0),
  derivative: (z) => (z > 0 ? 1 : 0),
  maxDerivative: 1,
  saturationCentre: undefined,
  canDie: true,
  activeMeans: 'z > 0: it passes signal forward and gradient back',
  inactiveRule: 'silent',
  inactiveMeans: () => 'z ≤ 0 on every sample of the batch (fraction active 0): it passes no signal forward and no gradient back',
};

const leakyRelu: ActivationFunction = {
  name: 'leaky-relu',
  forward: (z) => (z > 0 ? z : LEAKY_RELU_SLOPE * z),
  derivative: (z) => (z > 0 ? 1 : LEAKY_RELU_SLOPE),
  maxDerivative: 1,
  saturationCentre: undefined,
  canDie: true,
  activeMeans: `z > 0: it is on the unit-slope side (slope ${LEAKY_RELU_SLOPE} below)`,
  inactiveRule: 'silent',
  inactiveMeans: () =>
    `z ≤ 0 on every sample of the batch (fraction active 0): it passes signal and gradient at slope ${LEAKY_RELU_SLOPE} only`,
};

const sigmoid: ActivationFunction = {
  name: 'sigmoid',
  forward: (z) => 1 / (1 + Math.exp(-z)),
  derivative: (_z, a) => a * (1 - a),
  maxDerivative: 0.25,
  saturationCentre: 0.5,
  canDie: false,
  activeMeans: 'z > 0: its output is above ½',
  inactiveRule: 'saturated',
  inactiveMeans: (thresholds) => saturatedMeans(sigmoid, thresholds),
};

const tanh: ActivationFunction = {
  name: 'tanh',
  forward: (z) => Math.tanh(z),
  derivative: (_z, a) => 1 - a * a,
  maxDerivative: 1,
  saturationCentre: 0,
  canDie: false,
  activeMeans: 'z > 0: its output is positive',
  inactiveRule: 'saturated',
  inactiveMeans: (thresholds) => saturatedMeans(tanh, thresholds),
};

const linear: ActivationFunction = {
  name: 'linear',
  forward: (z) => z,
  derivative: () => 1,
  maxDerivative: 1,
  saturationCentre: undefined,
  canDie: false,
  activeMeans: 'z > 0',
  inactiveRule: 'never',
  inactiveMeans: () => 'never: f′ is 1 everywhere, so it always passes signal forward and gradient back',
};

export const ACTIVATION_FUNCTIONS: Readonly<Record<Activation, ActivationFunction>> = {
  relu,
  'leaky-relu': leakyRelu,
  sigmoid,
  tanh,
  linear,
};

/**
 * A hidden neuron counts as active on a sample when its pre-activation is positive, for every
 * activation function (see each one's `activeMeans`). A ReLU neuron whose fraction active stays 0
 * is dead. Output neurons are active on a sample when they are its predicted class (the arg max of
 * the softmax).
 */
export function isActive(preActivation: number): boolean {
  return preActivation > 0;
}
