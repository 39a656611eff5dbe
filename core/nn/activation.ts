/** Hidden-layer activation functions, their derivatives and what "active" means for each. */

export const ACTIVATIONS = ['relu', 'leaky-relu', 'sigmoid', 'tanh', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Slope of leaky ReLU for negative pre-activations. */
export const LEAKY_RELU_SLOPE = 0.01;

/** f(z) for a pre-activation z. */
export function activate(kind: Activation, preActivation: number): number {
  switch (kind) {
    case 'relu':
      return preActivation > 0 ? preActivation : 0;
    case 'leaky-relu':
      return preActivation > 0 ? preActivation : LEAKY_RELU_SLOPE * preActivation;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-preActivation));
    case 'tanh':
      return Math.tanh(preActivation);
    case 'linear':
      return preActivation;
  }
}

/** f'(z), written in terms of z and f(z) so callers can reuse a computed activation. */
export function activationDerivative(kind: Activation, preActivation: number, activation: number): number {
  switch (kind) {
    case 'relu':
      return preActivation > 0 ? 1 : 0;
    case 'leaky-relu':
      return preActivation > 0 ? 1 : LEAKY_RELU_SLOPE;
    case 'sigmoid':
      return activation * (1 - activation);
    case 'tanh':
      return 1 - activation * activation;
    case 'linear':
      return 1;
  }
}

/**
 * A hidden neuron counts as active on a sample when its pre-activation is positive, for every
 * activation function: for ReLU it passes signal and gradient, for leaky ReLU it is on the
 * unit-slope side, for sigmoid its output exceeds 0.5, for tanh its output is positive. A ReLU
 * neuron whose fraction active stays 0 is dead. Output neurons are active on a sample when they
 * are its predicted class (the arg max of the softmax).
 */
export function isActive(preActivation: number): boolean {
  return preActivation > 0;
}
