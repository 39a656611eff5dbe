/**
 * Mode 1: the recorder trains your compiled model and records everything.
 *
 *   npx tsx examples/fit.ts [--out runs --name fit-example --epochs 2]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Recorder, selectEngine } from 'neural-vision';
import { digits, exampleArgs } from './digits.js';

const args = exampleArgs('fit-example');
await selectEngine('auto');
const data = digits();

const model = tfl.sequential({
  name: 'digits',
  layers: [
    tfl.layers.flatten({ inputShape: [28, 28] }),
    tfl.layers.dense({ units: 128, activation: 'relu' }),
    tfl.layers.dropout({ rate: 0.1 }),
    tfl.layers.dense({ units: 64, activation: 'relu' }),
    tfl.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy' });

const recorder = new Recorder({
  out: args.out,
  name: args.name,
  heldOut: data.test,
  classNames: data.classNames,
  dataName: 'MNIST digits',
});
const result = await recorder.fit(model, data.train.x, data.train.y, { epochs: args.epochs, batchSize: 64, seed: 1 });
console.log(
  `${result.status}: ${result.stepCount} steps, held-out accuracy ${result.finalEval?.accuracy.toFixed(3)} → ${result.directory}`,
);
