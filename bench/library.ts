/**
 * What recording costs a user's own TensorFlow.js training, for the default network (784-128-64-10,
 * batch 64, SGD 0.1) on the embedded digits, measured in one process, alternating A and B so that
 * both see the same machine state (medians of the rounds):
 *
 *   model.fit                 plain `model.fit`, against `model.fit` with the recorder's callbacks (mode 2; goal ≤ 15% slower)
 *   own loop                  the user's loop (computeGradients + applyGradients), against the same loop recording
 *                             everything through the step API (mode 3; goal ≤ 10% slower)
 *
 *   npm run bench:library [-- --steps 300 --rounds 3]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Command } from 'commander';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../datasets/index.js';
import { selectEngine } from '../recorder/engine.js';
import { crossEntropy, Recorder } from '../recorder/library/recorder.js';

const program = new Command('bench:library')
  .option('--steps <n>', 'steps per measurement', '300')
  .option('--rounds <n>', 'A/B rounds', '3')
  .parse(process.argv);
const options = program.opts<{ steps: string; rounds: string }>();
const steps = Number(options.steps);
const rounds = Number(options.rounds);
const BATCH = 64;
const out = join(import.meta.dirname, 'out', 'library-runs');

await selectEngine('wasm');
const dataset = loadDataset('mnist-embedded');
const x = tf.tensor2d(dataset.train.images, [dataset.train.count, 784]);
const y = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(dataset.train.labels), 'int32'), 10), 'float32') as tf.Tensor2D;
const heldOut = {
  x: tf.tensor2d(dataset.test.images, [dataset.test.count, 784]),
  y: tf.tensor1d(Int32Array.from(dataset.test.labels), 'int32'),
};
/** model.fit's data: exactly `steps` batches. */
const trainX = tf.slice(x, [0, 0], [steps * BATCH, -1]);
const trainY = tf.slice(y, [0, 0], [steps * BATCH, -1]);
const batches = Array.from({ length: steps }, (_, step) => {
  const start = (step * BATCH) % (dataset.train.count - BATCH);
  return { x: tf.slice(x, [start, 0], [BATCH, -1]), y: tf.slice(y, [start, 0], [BATCH, -1]) };
});

function model(): tfl.LayersModel {
  const built = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
      tfl.layers.dense({ units: 64, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  built.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return built;
}

let runNumber = 0;
const recorder = () => new Recorder({ out, name: `bench-${runNumber++}`, heldOut, force: true });

/** Steps per second of `train` over `steps` steps. */
async function timed(train: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await train();
  return steps / ((performance.now() - started) / 1000);
}

async function ownLoop(record: boolean): Promise<number> {
  const network = model();
  const optimizer = tf.train.sgd(0.1);
  const recording = record ? recorder() : undefined;
  if (recording) await recording.start(network, { optimizer, steps, batchSize: BATCH });
  const rate = await timed(async () => {
    for (const batch of batches) {
      if (recording) {
        const step = recording.beginStep(batch.x, batch.y);
        const { value, grads } = optimizer.computeGradients(() => step.loss());
        optimizer.applyGradients(grads);
        await step.commit();
        tf.dispose([value, ...Object.values(grads)]);
      } else {
        const { value, grads } = optimizer.computeGradients(() => crossEntropy(network.apply(batch.x) as tf.Tensor2D, batch.y));
        optimizer.applyGradients(grads);
        tf.dispose([value, ...Object.values(grads)]);
      }
    }
    if (recording) await recording.finish();
  });
  network.dispose();
  return rate;
}

/** First batch's start and last batch's end inside model.fit: the steps without start-up and finish. */
class BatchClock extends tfl.Callback {
  first = 0;
  last = 0;
  override async onBatchBegin(): Promise<void> {
    this.first ||= performance.now();
  }
  override async onBatchEnd(): Promise<void> {
    this.last = performance.now();
  }
}

/** model.fit, plain or with the recorder's callbacks: steps/s over the batches, and the seconds around them (start-up, finish). */
async function fit(record: boolean): Promise<{ rate: number; fixed: number }> {
  const network = model();
  const recording = record ? recorder() : undefined;
  const clock = new BatchClock();
  const started = performance.now();
  await network.fit(trainX, trainY, {
    epochs: 1,
    batchSize: BATCH,
    shuffle: false,
    verbose: 0,
    callbacks: recording ? [clock, recording.callbacks()] : [clock],
  });
  const total = performance.now() - started;
  network.dispose();
  const batches = clock.last - clock.first;
  return { rate: (steps - 1) / (batches / 1000), fixed: (total - batches) / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

rmSync(out, { recursive: true, force: true });
// Warm up the engine's kernels.
await ownLoop(false);
await ownLoop(true);
await fit(false);
await fit(true);
const plain: number[] = [];
const recorded: number[] = [];
const fitPlain: number[] = [];
const fitRecorded: number[] = [];
const fixed: number[] = [];
for (let round = 0; round < rounds; round++) {
  fitPlain.push((await fit(false)).rate);
  const recordedFit = await fit(true);
  fitRecorded.push(recordedFit.rate);
  fixed.push(recordedFit.fixed);
  plain.push(await ownLoop(false));
  recorded.push(await ownLoop(true));
}
const format = (values: number[]) => `${median(values).toFixed(0)} steps/s (${values.map((value) => value.toFixed(0)).join(', ')})`;
console.log(`default network 784-128-64-10, batch ${BATCH}, SGD, ${steps} steps per measurement, ${rounds} rounds, wasm`);
const cost = (a: number[], b: number[]) => `${((median(a) / median(b) - 1) * 100).toFixed(0)}%`;
console.log(`  model.fit (steps/s over its batches, start-up and finish apart):`);
console.log(`  model.fit:                   ${format(fitPlain)}`);
console.log(`  model.fit, mode 2 callbacks: ${format(fitRecorded)}   recording costs ${cost(fitPlain, fitRecorded)}   (goal ≤ 15%)`);
console.log(`      plus once per run: ${median(fixed).toFixed(2)} s (the writer thread's start, the last flush and evaluation)`);
console.log(`  own loop:                    ${format(plain)}`);
console.log(`  own loop, mode 3 step API:   ${format(recorded)}   recording everything costs ${cost(plain, recorded)}   (goal ≤ 10%)`);
console.log(
  `      (the plain loop runs model.apply; step.loss() runs the same Dense layers through the recorder's own ops, which tfjs-layers' apply is slower than)`,
);
rmSync(out, { recursive: true, force: true });
