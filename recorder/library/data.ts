/**
 * Checking the tensors a user hands the recorder: inputs of the model's shape with finite values,
 * labels as class indices or one-hot rows within the model's classes. Errors name the argument, the
 * row and what was expected.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from './model-spec.js';

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** `x` as [samples × inputSize] float32, after checking its shape and that every value is finite. */
export function checkInputs(x: tf.Tensor, spec: ModelSpec, what: string): tf.Tensor2D {
  const [count, ...shape] = x.shape;
  if (count === undefined || shape.join(',') !== spec.inputShape.join(','))
    throw new DataError(
      `${what}: shape [${x.shape.join(', ')}]; the model "${spec.name}" expects [samples, ${spec.inputShape.join(', ')}]`,
    );
  const flat = tf.tidy(() => tf.cast(tf.reshape(x, [count, spec.inputSize]), 'float32')) as tf.Tensor2D;
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(flat), 1)));
  const rows = bad.dataSync();
  bad.dispose();
  const row = rows.indexOf(1);
  if (row >= 0) {
    const values = tf.slice(flat, [row, 0], [1, -1]);
    const column = Array.from(values.dataSync()).findIndex((value) => !Number.isFinite(value));
    const value = values.dataSync()[column];
    values.dispose();
    flat.dispose();
    throw new DataError(`${what}: sample ${row}, feature ${column} is ${value}; every input value must be a finite number`);
  }
  return flat;
}

/** The class of each sample of `y`: class indices [samples] or one-hot rows [samples × classes]. */
export function checkLabels(y: tf.Tensor, classCount: number, count: number, what: string): Int32Array {
  if (y.shape[0] !== count) throw new DataError(`${what}: ${y.shape[0]} labels for ${count} samples`);
  if (y.rank === 1) {
    const values = y.dataSync();
    const labels = new Int32Array(count);
    for (let row = 0; row < count; row++) {
      const value = values[row]!;
      if (!(Number.isInteger(value) && value >= 0 && value < classCount))
        throw new DataError(`${what}: label ${value} of sample ${row} is not a class index 0–${classCount - 1}`);
      labels[row] = value;
    }
    return labels;
  }
  if (y.rank === 2 && y.shape[1] === classCount) {
    const values = y.dataSync();
    const labels = new Int32Array(count);
    for (let row = 0; row < count; row++) {
      let hot = -1;
      for (let column = 0; column < classCount; column++) {
        const value = values[row * classCount + column]!;
        if (value === 1 && hot < 0) hot = column;
        else if (value !== 0) hot = -2;
      }
      if (hot < 0) throw new DataError(`${what}: row ${row} is not one-hot (one 1, the rest 0)`);
      labels[row] = hot;
    }
    return labels;
  }
  throw new DataError(`${what}: shape [${y.shape.join(', ')}]; expected class indices [samples] or one-hot rows [samples, ${classCount}]`);
}
