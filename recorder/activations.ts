/** Hidden-layer activations and their derivatives as TensorFlow.js ops (see core/nn/activation.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { LEAKY_RELU_SLOPE, type Activation } from '../core/nn/activation.js';

export function activationOf(kind: Activation, preActivation: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(preActivation);
    case 'leaky-relu':
      return tf.leakyRelu(preActivation, LEAKY_RELU_SLOPE);
    case 'sigmoid':
      return tf.sigmoid(preActivation);
    case 'tanh':
      return tf.tanh(preActivation);
    case 'linear':
      return preActivation;
  }
}

export /** f'(z) as a tensor, from z and f(z). */
function derivativeOf(kind: Activation, preActivation: tf.Tensor, activation: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.step(preActivation);
    case 'leaky-relu':
      return tf.where(tf.greater(preActivation, 0), tf.onesLike(preActivation), tf.fill(preActivation.shape, LEAKY_RELU_SLOPE));
    case 'sigmoid':
      return tf.mul(activation, tf.sub(1, activation));
    case 'tanh':
      return tf.sub(1, tf.square(activation));
    case 'linear':
      return tf.onesLike(preActivation);
  }
}
