/**
 * Mode 2: your own model.fit, with the recorder's callbacks. Callbacks never see the batch, so the run
 * records the loss, accuracy, weights and updates, the probes' passes and the held-out evaluation;
 * run.json lists what is absent and why.
 *
 *   npx tsx examples/callbacks.ts [--out runs --name callbacks-example --epochs 2]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Recorder, selectEngine } from 'neural-vision';
import { digits, exampleArgs } from './digits.js';

const args = exampleArgs('callbacks-example');
await selectEngine('auto');
const data = digits();

const model = tfl.sequential({
  name: 'digits',
  layers: [
    tfl.layers.flatten({ inputShape: [28, 28] }),
    tfl.layers.dense({ units: 128, activation: 'relu' }),
    tfl.layers.dense({ units: 64, activation: 'relu' }),
    tfl.layers.dropout({ rate: 0.2 }),
    tfl.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const recorder = new Recorder({
  out: args.out,
  name: args.name,
  heldOut: data.test,
  classNames: data.classNames,
  dataName: 'MNIST digits',
});
const oneHot = tf.oneHot(data.train.y, 10);
await model.fit(data.train.x, oneHot, { epochs: args.epochs, batchSize: 64, callbacks: recorder.callbacks(), verbose: 0 });
const result = recorder.result!;
console.log(
  `${result.status}: ${result.stepCount} steps, held-out accuracy ${result.finalEval?.accuracy.toFixed(3)} → ${result.directory}`,
);
