/**
 * Hidden-layer activation functions, each described once: f, f′, what "active" means for it, its
 * largest derivative and where it saturates. The float64 reference (mlp.ts), the batch statistics,
 * the detectors and the docs read these objects; the engine's tensor ops (recorder/activations.ts)
 * and the first-layer kernel implement the same f and f′ and are tested against them.
 */

export const ACTIVATIONS = ['relu', 'leaky-relu', 'sigmoid', 'tanh', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Slope of leaky ReLU for negative pre-activations. */
export const LEAKY_RELU_SLOPE = 0.01;

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
}

const relu: ActivationFunction = {
  name: 'relu',
  forward: (z) => (z > 0 ? z : 0),
  derivative: (z) => (z > 0 ? 1 : 0),
  maxDerivative: 1,
  saturationCentre: undefined,
  canDie: true,
  activeMeans: 'z > 0: it passes signal forward and gradient back',
};

const leakyRelu: ActivationFunction = {
  name: 'leaky-relu',
  forward: (z) => (z > 0 ? z : LEAKY_RELU_SLOPE * z),
  derivative: (z) => (z > 0 ? 1 : LEAKY_RELU_SLOPE),
  maxDerivative: 1,
  saturationCentre: undefined,
  canDie: true,
  activeMeans: `z > 0: it is on the unit-slope side (slope ${LEAKY_RELU_SLOPE} below)`,
};

const sigmoid: ActivationFunction = {
  name: 'sigmoid',
  forward: (z) => 1 / (1 + Math.exp(-z)),
  derivative: (_z, a) => a * (1 - a),
  maxDerivative: 0.25,
  saturationCentre: 0.5,
  canDie: false,
  activeMeans: 'z > 0: its output is above ½',
};

const tanh: ActivationFunction = {
  name: 'tanh',
  forward: (z) => Math.tanh(z),
  derivative: (_z, a) => 1 - a * a,
  maxDerivative: 1,
  saturationCentre: 0,
  canDie: false,
  activeMeans: 'z > 0: its output is positive',
};

const linear: ActivationFunction = {
  name: 'linear',
  forward: (z) => z,
  derivative: () => 1,
  maxDerivative: 1,
  saturationCentre: undefined,
  canDie: false,
  activeMeans: 'z > 0',
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
