/**
 * Recorder speed against plain training loops, measured in one process, alternating the loops so
 * that all see the same machine state (best of the rounds):
 *
 *   tfjs       the plain TensorFlow.js loop as its documentation writes it: optimizer.minimize
 *              with automatic differentiation, one thread, nothing read back
 *   dense      our own plain loop (model.ts): the same network with the backward pass written
 *              out by hand, dense, one thread, nothing read back — four times faster than `tfjs`
 *   training   the recorder's training thread alone (recording-model.ts: first-layer kernel,
 *              probes in the pass, everything read back), with its per-phase time
 *   recording  the recorder end to end, recording everything (recordRun), with the writer
 *              thread's busy time per step
 *
 * for each network and batch size asked for; what the mean activations by class add to the writer
 * thread's step; then bytes per step by kind for the first one, and memory over one long recording
 * (it must stay flat).
 *
 *   npm run bench:record [-- --layers 128,64 --layers 512,256,128 --batch-size 64 --batch-size 128]
 */
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type Config } from '../core/config.js';
import { columnWidth, stepColumns, type ColumnSpec } from '../core/format/columns.js';
import { SCHEMA_VERSION } from '../core/format/manifest.js';
import { neuronStats } from '../core/nn/batch-stats.js';
import { initialLayers } from '../core/nn/init.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import { loadDataset } from '../datasets/index.js';
import { selectEngine } from '../recorder/engine.js';
import { compressSamples } from '../recorder/kernel/first-layer.js';
import { TfMlp } from '../recorder/model.js';
import { BufferPool } from '../recorder/readback.js';
import { recordRun } from '../recorder/record.js';
import { RecordingMlp, type StepPhases } from '../recorder/recording-model.js';
import { recordingRate } from './recording-rate.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const program = new Command('bench:record')
  .option('--layers <sizes>', 'hidden layer sizes (repeat for several networks)', collect)
  .option('--batch-size <n>', 'batch size (repeat for several)', collect)
  .option('--seconds <s>', 'about how long one measurement of the dense loop trains', '2.5')
  .option('--rounds <n>', 'A/B/C rounds', '2')
  .option('--long-steps <n>', 'steps of the long recording that checks memory (0: skip)', '12000')
  .parse(process.argv);
const options = program.opts<{ layers?: string[]; batchSize?: string[]; seconds: string; rounds: string; longSteps: string }>();
const networks = (options.layers ?? ['128,64', '512,256,128']).map((sizes) => sizes.split(',').map(Number));
const batchSizes = (options.batchSize ?? ['64', '128']).map(Number);
const rounds = Number(options.rounds);
const out = join(import.meta.dirname, 'out');

const engine = await selectEngine('wasm');
registerGradients();
const dataset = loadDataset('mnist-embedded');
const inputSize = dataset.inputShape[0] * dataset.inputShape[1];
const train = compressSamples(dataset.train.images, inputSize);

/** Calls `step(batchIndices, labels)` on the same shuffled batches as the recorder, `steps` times. */
function trainLoop(config: Config, steps: number, step: (batch: Int32Array, labels: Int32Array) => void): number {
  const order = Int32Array.from({ length: dataset.train.count }, (_, index) => index);
  const random = createRandom(config.seed);
  const labels = new Int32Array(config.batchSize);
  const started = performance.now();
  let done = 0;
  while (done < steps) {
    shuffleInPlace(order, random);
    for (let start = 0; start + config.batchSize <= order.length && done < steps; start += config.batchSize, done++) {
      const batch = order.subarray(start, start + config.batchSize);
      batch.forEach((sample, row) => (labels[row] = dataset.train.labels[sample]!));
      step(batch, labels);
    }
  }
  return done / ((performance.now() - started) / 1000);
}

/**
 * TensorFlow.js's gradients for optimizer.minimize: tfjs-core ships their registrations as
 * bundler-only ES modules (extensionless imports), which the `@tensorflow/tfjs` package would
 * load; bundled here with esbuild. The registries are global, so the bundle's registrations
 * reach the engine the recorder uses.
 */
function registerGradients(): void {
  const require = createRequire(import.meta.url);
  const bundle = buildSync({
    entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  mkdirSync(out, { recursive: true });
  const file = join(out, 'register-gradients.cjs');
  writeFileSync(file, bundle.outputFiles[0]!.text);
  require(file);
}

/** The loop TensorFlow.js's guides write: forward pass, `optimizer.minimize` on the mean cross-entropy, nothing read back. */
function tfjsLoop(config: Config, sizes: number[], steps: number): number {
  const initial = initialLayers(config, sizes);
  const weights = initial.map((layer) => tf.variable(tf.tensor2d(layer.weight, [layer.fanIn, layer.fanOut])));
  const biases = initial.map((layer) => tf.variable(tf.tensor1d(layer.bias)));
  const optimizer = tf.train.sgd(config.learningRate);
  const inputs = new Float32Array(config.batchSize * inputSize);
  const speed = trainLoop(config, steps, (batch, labels) => {
    batch.forEach((sample, row) =>
      inputs.set(dataset.train.images.subarray(sample * inputSize, (sample + 1) * inputSize), row * inputSize),
    );
    tf.tidy(() => {
      const x = tf.tensor2d(inputs, [config.batchSize, inputSize]);
      const target = tf.oneHot(tf.tensor1d(labels, 'int32'), sizes.at(-1)!);
      optimizer.minimize(
        () => {
          let h: tf.Tensor = x;
          weights.forEach((weight, layer) => {
            h = tf.add(tf.matMul(h, weight), biases[layer]!);
            if (layer < weights.length - 1) h = tf.relu(h);
          });
          return tf.losses.softmaxCrossEntropy(target, h) as tf.Scalar;
        },
        false,
        [...weights, ...biases],
      );
    });
  });
  tf.dispose([...weights, ...biases]);
  optimizer.dispose();
  return speed;
}

/** Our plain loop: the batch's pixels copied in, `trainStep` (forward, backward written out, update), nothing read back. */
function plainLoop(config: Config, sizes: number[], steps: number): number {
  const model = new TfMlp(config, initialLayers(config, sizes));
  const inputs = new Float32Array(config.batchSize * inputSize);
  const speed = trainLoop(config, steps, (batch, labels) => {
    batch.forEach((sample, row) =>
      inputs.set(dataset.train.images.subarray(sample * inputSize, (sample + 1) * inputSize), row * inputSize),
    );
    model.trainStep(inputs, labels);
  });
  model.dispose();
  return speed;
}

/** The recorder's training thread without its writer: every buffer handed straight back. */
function trainingThread(config: Config, sizes: number[], steps: number, phases: StepPhases): number {
  const probeIndices = Int32Array.from({ length: config.probes }, (_, index) => index);
  const probeImages = new Float32Array(config.probes * inputSize);
  probeIndices.forEach((index) =>
    probeImages.set(dataset.test.images.subarray(index * inputSize, (index + 1) * inputSize), index * inputSize),
  );
  const model = new RecordingMlp({
    config,
    initial: initialLayers(config, sizes),
    train,
    probes: { samples: compressSamples(probeImages, inputSize), labels: dataset.test.labels.subarray(0, config.probes) },
  });
  const pool = new BufferPool();
  const speed = trainLoop(config, steps, (batch, labels) => {
    const step = model.step(batch, labels, pool, phases);
    const buffers = new Set(
      [step.meanInput, ...step.preActivation, ...step.activation, ...step.gradPreActivation].map((array) => array.buffer),
    );
    for (const buffer of buffers) pool.give(buffer as SharedArrayBuffer);
  });
  model.dispose();
  return speed;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);
const best = (values: number[]) => Math.max(...values);

console.log(
  `engine ${engine.name}${engine.simd ? ' (SIMD)' : ''}, ${dataset.name}, ${rounds} rounds per case (best shown), ` +
    `16 probes, eval every 50; tfjs ${engine.versions['@tensorflow/tfjs-core'] ?? '?'}`,
);
console.log(
  'network              batch   tfjs  dense  training  recording  ÷tfjs  ÷dense   per step (ms): dense | kernel fwd + engine + kernel bwd | writer',
);
let firstDirectory = '';
const classCostCases: { sizes: number[]; batchSize: number; recordedStepMs: number }[] = [];
for (const layers of networks) {
  const sizes = [inputSize, ...layers, dataset.classNames.length];
  for (const batchSize of batchSizes) {
    const config = resolveConfig({ layers, batchSize, epochs: 1000, engine: 'wasm' });
    // Size the measurement from a short plain run (the second, warm), so every case trains for about the same time.
    plainLoop(config, sizes, 20);
    const probe = plainLoop(config, sizes, 20);
    const steps = Math.max(100, Math.round((probe * Number(options.seconds)) / 16) * 16);
    const recordConfig = resolveConfig({ layers, batchSize, epochs: 1000, maxSteps: steps, engine: 'wasm' });
    const idiomatic: number[] = [];
    const plain: number[] = [];
    const training: number[] = [];
    const recorded: number[] = [];
    let phases: StepPhases = { kernelForward: 0, engine: 0, kernelBackward: 0 };
    let writerMs = Infinity;
    for (let round = 0; round < rounds; round++) {
      // About 5× slower than the dense loop: a quarter of the steps is a similar time.
      idiomatic.push(tfjsLoop(config, sizes, Math.max(32, steps >> 2)));
      plain.push(plainLoop(config, sizes, steps));
      const roundPhases = { kernelForward: 0, engine: 0, kernelBackward: 0 };
      training.push(trainingThread(config, sizes, steps, roundPhases));
      if (training.at(-1) === best(training)) phases = roundPhases;
      const result = await recordingRate(recordConfig, out, `bench-${layers.join('-')}-${batchSize}`);
      recorded.push(result.stepsPerSecond);
      writerMs = Math.min(writerMs, result.writerMs);
      if (!firstDirectory) firstDirectory = result.directory;
    }
    classCostCases.push({ sizes, batchSize, recordedStepMs: 1000 / best(recorded) });
    const perStep = (total: number) => fixed(total / steps, 2);
    console.log(
      `${sizes.join('-').padEnd(20)} ${String(batchSize).padStart(5)}  ${fixed(best(idiomatic)).padStart(5)}  ${fixed(best(plain)).padStart(5)}  ` +
        `${fixed(best(training)).padStart(8)}  ${fixed(best(recorded)).padStart(9)}  ${fixed(best(recorded) / best(idiomatic), 2).padStart(4)}×  ` +
        `${fixed(best(recorded) / best(plain), 2).padStart(5)}×   ` +
        `${fixed(1000 / best(plain), 2)} | ${perStep(phases.kernelForward)} + ${perStep(phases.engine)} + ${perStep(phases.kernelBackward)} | ${fixed(writerMs, 2)}`,
    );
  }
}
console.log(
  '(steps/s; ÷tfjs and ÷dense = recording everything / that plain loop; writer = the writer thread busy per step, on the other core)',
);
for (const { sizes, batchSize, recordedStepMs } of classCostCases) {
  const cost = classMeansCost(sizes, batchSize, rounds);
  console.log(
    `class means, ${sizes.join('-')} batch ${batchSize}: ${fixed(cost.withoutMs, 3)} → ${fixed(cost.withMs, 3)} ms of batch statistics a step ` +
      `(+${fixed(cost.withMs - cost.withoutMs, 3)} ms on the writer thread, ${fixed((100 * (cost.withMs - cost.withoutMs)) / recordedStepMs, 1)}% of a recorded step)`,
  );
}

const first = networks[0]!;
const firstSizes = [inputSize, ...first, dataset.classNames.length];
const files = readdirSync(firstDirectory).map((file) => ({ file, bytes: statSync(join(firstDirectory, file)).size }));
const stepsRecorded = (JSON.parse(readFileSync(join(firstDirectory, 'run.json'), 'utf8')) as { stepCount: number }).stepCount;
const sum = (filter: (file: string) => boolean) => files.filter(({ file }) => filter(file)).reduce((total, { bytes }) => total + bytes, 0);
console.log(`\nbytes per step by kind, ${firstSizes.join('-')} batch ${batchSizes[0]} (declared column widths):`);
for (const [kind, bytes] of Object.entries(
  bytesPerStepByKind(
    stepColumns({
      inputSize,
      layerSizes: firstSizes.slice(1),
      batchSize: batchSizes[0]!,
      probeCount: 16,
      classCount: dataset.classNames.length,
      schemaVersion: SCHEMA_VERSION,
    }),
  ),
)) {
  console.log(`  ${kind.padEnd(38)} ${bytes.toLocaleString('en')} B`);
}
console.log(`on disk, averaged over the ${stepsRecorded} steps of the run:`);
console.log(
  `  step files                             ${Math.round(sum((file) => file.startsWith('steps-')) / stepsRecorded).toLocaleString('en')} B/step`,
);
console.log(
  `  weight snapshots                       ${Math.round(sum((file) => file.startsWith('weights-')) / stepsRecorded).toLocaleString('en')} B/step`,
);
console.log(
  `  int8 link frames                       ${Math.round(sum((file) => file.startsWith('links-')) / stepsRecorded).toLocaleString('en')} B/step`,
);

const longSteps = Number(options.longSteps);
if (longSteps > 0) {
  const config = resolveConfig({ layers: first, batchSize: batchSizes[0], epochs: 1000, maxSteps: longSteps, engine: 'wasm' });
  console.log(`\nmemory over a ${longSteps}-step recording of ${firstSizes.join('-')} (it should stay flat):`);
  console.log('   step    rss MiB   heap MiB   array buffers MiB   engine tensors   engine bytes MiB');
  const every = Math.max(1, Math.round(longSteps / 6 / 16) * 16);
  const mib = (bytes: number) => fixed(bytes / 1024 ** 2, 1);
  await recordRun({
    config,
    name: 'bench-long',
    out,
    force: true,
    reproduce: () => 'npm run bench:record',
    onStep: ({ step }) => {
      if (step % every !== every - 1 && step !== longSteps - 1) return;
      const memory = process.memoryUsage();
      const engineMemory = tf.memory();
      console.log(
        `${String(step + 1).padStart(7)}  ${mib(memory.rss).padStart(9)}  ${mib(memory.heapUsed).padStart(9)}  ${mib(memory.arrayBuffers).padStart(18)}  ` +
          `${String(engineMemory.numTensors).padStart(15)}  ${mib(engineMemory.numBytes).padStart(17)}`,
      );
    },
  });
}
rmSync(out, { recursive: true, force: true });

/**
 * What the mean activations by class add to the writer thread's batch statistics (neuronStats over
 * every layer of one step), measured without and with them in turn on the same seeded values.
 */
function classMeansCost(sizes: number[], batchSize: number, rounds: number): { withoutMs: number; withMs: number } {
  const random = createRandom(7);
  const classes = sizes.at(-1)!;
  const layers = sizes.slice(1).map((neurons, index) => {
    const values = () => Float32Array.from({ length: batchSize * neurons }, () => random.next() * 2 - 1);
    const hidden = index < sizes.length - 2;
    return {
      preActivation: values(),
      activation: hidden ? values().map((value) => Math.max(0, value)) : undefined,
      gradPreActivation: values(),
      out: {
        meanActivation: new Float32Array(neurons),
        fractionActive: new Float32Array(neurons),
        gradPreActivation: new Float32Array(neurons),
      },
      byClass: { classActivation: new Float32Array(neurons * classes), classValid: new Uint8Array(classes) },
    };
  });
  const labels = Uint8Array.from({ length: batchSize }, () => Math.floor(random.next() * classes));
  const steps = 2000;
  const time = (byClass: boolean) => {
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      for (const layer of layers) {
        neuronStats(
          layer.preActivation,
          layer.activation,
          layer.gradPreActivation,
          batchSize,
          layer.out,
          byClass ? { labels, out: layer.byClass } : undefined,
        );
      }
    }
    return (performance.now() - started) / steps;
  };
  let withoutMs = Infinity;
  let withMs = Infinity;
  for (let round = 0; round < Math.max(3, rounds); round++) {
    withoutMs = Math.min(withoutMs, time(false));
    withMs = Math.min(withMs, time(true));
  }
  return { withoutMs, withMs };
}

function bytesPerStepByKind(columns: ColumnSpec[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const spec of columns) {
    const kind = spec.name.includes('probe')
      ? 'probe activations and gradients'
      : spec.quantity === 'classActivation'
        ? 'per-neuron means by class'
        : spec.name.startsWith('layer')
          ? 'per-neuron and per-layer statistics'
          : spec.name === 'batchIndices' || spec.name === 'meanInput'
            ? 'batch indices and mean input'
            : 'loss, accuracy, step, evaluation';
    kinds[kind] = (kinds[kind] ?? 0) + columnWidth(spec) * (spec.type === 'uint8' ? 1 : 4);
  }
  return kinds;
}
