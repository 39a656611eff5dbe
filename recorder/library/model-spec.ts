/**
 * What the recorder understands of a user's TensorFlow.js LayersModel: a chain of Dense layers
 * (optionally after a Flatten, with Dropout and LeakyReLU layers between them) ending in a softmax
 * classifier. Anything else is refused before training starts, naming the layer, its class and what
 * is supported.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { LEAKY_RELU_SLOPE, type Activation } from '../../core/nn/activation.js';

/** One Dense layer of the chain, with what follows it up to the next Dense layer. */
export interface DenseSpec {
  name: string;
  units: number;
  fanIn: number;
  /** f of a hidden layer; "softmax" for the output layer. */
  activation: Activation | 'softmax';
  kernel: LayerVariable;
  bias: LayerVariable;
  /** Dropout rate applied to this layer's output while training (0: none). */
  dropout: number;
}

export interface ModelSpec {
  name: string;
  /** One sample's shape, without the batch axis: [28, 28], [32, 32, 3], [20]. */
  inputShape: number[];
  inputSize: number;
  layers: DenseSpec[];
  classCount: number;
}

export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}

export const SUPPORTED =
  'supported: an optional Flatten first, then Dense layers (activation relu, sigmoid, tanh or linear, with a bias, no regularizers or constraints), each optionally followed by Dropout, or by LeakyReLU (alpha 0.01) after a linear Dense; the last Dense has softmax';

const TFJS_ACTIVATIONS: Record<string, Activation | 'softmax'> = {
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  linear: 'linear',
  softmax: 'softmax',
};

const describeLayer = (layer: { name: string; getClassName(): string }) => `layer "${layer.name}" (${layer.getClassName()})`;

/** Reads and checks the model; throws UnsupportedModelError naming the first layer it cannot record. */
export function describeModel(model: LayersModel): ModelSpec {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new UnsupportedModelError(
      `model "${model.name}": ${model.inputs.length} inputs and ${model.outputs.length} outputs; expected one of each (${SUPPORTED})`,
    );
  const inputShape = model.inputs[0]!.shape.slice(1);
  if (inputShape.some((size) => size === null || !(size! > 0)))
    throw new UnsupportedModelError(`model "${model.name}": input shape [${inputShape.join(', ')}] must be fully known`);
  const shape = inputShape as number[];
  const inputSize = shape.reduce((product, size) => product * size, 1);
  const layers: DenseSpec[] = [];
  let previous: unknown = undefined;
  let fanIn = inputSize;
  let flattened = shape.length === 1;
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const config = layer.getConfig();
    // A chain: each layer reads the one before it (a functional model could branch).
    const inbound = (layer as unknown as { inboundNodes: { inboundLayers: unknown[] }[] }).inboundNodes;
    if (
      className !== 'InputLayer' &&
      previous !== undefined &&
      (inbound.length !== 1 || inbound[0]!.inboundLayers.length !== 1 || inbound[0]!.inboundLayers[0] !== previous)
    )
      throw new UnsupportedModelError(`${describeLayer(layer)} does not read the layer before it: only a chain of layers is supported`);
    previous = layer;
    const last = layers.at(-1);
    switch (className) {
      case 'InputLayer':
        break;
      case 'Flatten':
        if (layers.length > 0)
          throw new UnsupportedModelError(
            `${describeLayer(layer)}: a Flatten is supported only before the first Dense layer (${SUPPORTED})`,
          );
        flattened = true;
        break;
      case 'Dense': {
        if (!flattened)
          throw new UnsupportedModelError(
            `${describeLayer(layer)} reads an input of shape [${shape.join(', ')}]; add a Flatten before it (${SUPPORTED})`,
          );
        if (last?.activation === 'softmax')
          throw new UnsupportedModelError(`${describeLayer(layer)} follows a softmax layer (${SUPPORTED})`);
        const activation = TFJS_ACTIVATIONS[String(config.activation)];
        if (!activation)
          throw new UnsupportedModelError(`${describeLayer(layer)}: activation "${String(config.activation)}" (${SUPPORTED})`);
        if (config.useBias === false) throw new UnsupportedModelError(`${describeLayer(layer)}: useBias false (${SUPPORTED})`);
        for (const key of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint'] as const) {
          if (config[key] !== null && config[key] !== undefined)
            throw new UnsupportedModelError(`${describeLayer(layer)}: ${key} is set (${SUPPORTED})`);
        }
        const [kernel, bias] = layer.trainableWeights;
        const units = Number(config.units);
        if (!kernel || !bias || kernel.shape[0] !== fanIn || kernel.shape[1] !== units)
          throw new UnsupportedModelError(
            `${describeLayer(layer)}: expected a trainable kernel [${fanIn}, ${units}] and bias; is the model built and trainable?`,
          );
        layers.push({ name: layer.name, units, fanIn, activation, kernel, bias, dropout: 0 });
        fanIn = units;
        break;
      }
      case 'Dropout': {
        if (!last) throw new UnsupportedModelError(`${describeLayer(layer)} comes before any Dense layer (${SUPPORTED})`);
        if (last.activation === 'softmax')
          throw new UnsupportedModelError(`${describeLayer(layer)} follows the softmax output (${SUPPORTED})`);
        if (config.noiseShape !== null && config.noiseShape !== undefined)
          throw new UnsupportedModelError(`${describeLayer(layer)}: noiseShape is set (${SUPPORTED})`);
        // Two Dropouts in a row drop with probability 1 − (1 − a)(1 − b); one keeps its rate as written.
        const rate = Number(config.rate);
        if (!(rate >= 0 && rate < 1))
          throw new UnsupportedModelError(`${describeLayer(layer)}: rate ${config.rate}; expected 0 ≤ rate < 1`);
        last.dropout = last.dropout === 0 ? rate : 1 - (1 - last.dropout) * (1 - rate);
        break;
      }
      case 'LeakyReLU': {
        const alpha = Number(config.alpha);
        if (!last || last.activation !== 'linear' || last.dropout > 0)
          throw new UnsupportedModelError(`${describeLayer(layer)} must follow a Dense layer with activation linear (${SUPPORTED})`);
        if (Math.fround(alpha) !== Math.fround(LEAKY_RELU_SLOPE))
          throw new UnsupportedModelError(
            `${describeLayer(layer)}: alpha ${alpha}; the recorder's leaky ReLU has alpha ${LEAKY_RELU_SLOPE} (${SUPPORTED})`,
          );
        last.activation = 'leaky-relu';
        break;
      }
      default:
        throw new UnsupportedModelError(`${describeLayer(layer)} is not supported (${SUPPORTED})`);
    }
  }
  const output = layers.at(-1);
  if (!output || output.activation !== 'softmax')
    throw new UnsupportedModelError(
      `model "${model.name}": ${output ? `the last Dense layer "${output.name}" has activation ${output.activation}` : 'no Dense layer'}; expected a softmax output (${SUPPORTED})`,
    );
  if (output.units < 2)
    throw new UnsupportedModelError(`layer "${output.name}" (Dense): ${output.units} unit; a classifier needs at least 2 classes`);
  return { name: model.name, inputShape: shape, inputSize, layers, classCount: output.units };
}

/** A readable name and settings of a tfjs optimizer, e.g. "SGDOptimizer (learningRate 0.1)". */
export function describeOptimizer(optimizer: tf.Optimizer): string {
  const config = optimizer.getConfig() as Record<string, unknown>;
  const settings = Object.entries(config)
    .filter(([, value]) => typeof value === 'number' || typeof value === 'boolean')
    .map(([key, value]) => `${key} ${String(value)}`);
  return `${optimizer.getClassName()}${settings.length > 0 ? ` (${settings.join(', ')})` : ''}`;
}
