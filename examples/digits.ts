/**
 * The examples' data: the 10,000 real MNIST digits the repo ships (the `mnist` package), as tensors,
 * and a small command line (--out, --name, --epochs, --steps).
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { loadDataset } from '../datasets/index.js';

export function digits() {
  const dataset = loadDataset('mnist-embedded');
  const images = (split: typeof dataset.train) => tf.tensor3d(split.images, [split.count, 28, 28]);
  const labels = (split: typeof dataset.train) => tf.tensor1d(Int32Array.from(split.labels), 'int32');
  return {
    classNames: dataset.classNames,
    train: { x: images(dataset.train), y: labels(dataset.train) },
    test: { x: images(dataset.test), y: labels(dataset.test) },
  };
}

export function exampleArgs(name: string) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'runs' },
      name: { type: 'string', default: name },
      epochs: { type: 'string', default: '2' },
      steps: { type: 'string', default: '200' },
    },
  });
  return { out: values.out, name: values.name, epochs: Number(values.epochs), steps: Number(values.steps) };
}
