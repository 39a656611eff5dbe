/**
 * Mode 3: your own training loop, recorded completely through the step API: begin a step with the
 * batch, compute the loss from the step inside optimizer.computeGradients, hand the gradients over,
 * apply them, commit.
 *
 *   npx tsx examples/own-loop.ts [--out runs --name own-loop-example --steps 200]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Recorder, selectEngine } from 'neural-vision';
import { digits, exampleArgs } from './digits.js';

const args = exampleArgs('own-loop-example');
await selectEngine('auto');
const data = digits();

const model = tfl.sequential({
  name: 'digits',
  layers: [
    tfl.layers.flatten({ inputShape: [28, 28] }),
    tfl.layers.dense({ units: 128, activation: 'tanh' }),
    tfl.layers.dense({ units: 64, activation: 'tanh' }),
    tfl.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
const optimizer: tf.Optimizer = tf.train.momentum(0.01, 0.9);
const batchSize = 64;

const recorder = new Recorder({
  out: args.out,
  name: args.name,
  heldOut: data.test,
  classNames: data.classNames,
  dataName: 'MNIST digits',
});
await recorder.start(model, { optimizer, steps: args.steps, batchSize });
const count = data.train.x.shape[0];
for (let step = 0; step < args.steps; step++) {
  const start = (step * batchSize) % (count - batchSize);
  const x = tf.slice(data.train.x, [start, 0, 0], [batchSize, -1, -1]);
  const y = tf.slice(data.train.y, [start], [batchSize]);

  const recording = recorder.beginStep(x, y);
  const { value, grads } = optimizer.computeGradients(() => recording.loss());
  recording.gradients(grads);
  optimizer.applyGradients(grads);
  await recording.commit();

  tf.dispose([x, y, value, ...Object.values(grads)]);
}
const result = await recorder.finish();
console.log(
  `${result.status}: ${result.stepCount} steps, held-out accuracy ${result.finalEval?.accuracy.toFixed(3)} → ${result.directory}`,
);
