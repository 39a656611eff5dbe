/**
 * Recording overhead: steps/s of the plain training loop (same network, same batches, nothing
 * read back or written) against the recorder recording everything, measured in one process,
 * alternating A/B/A/B so that both see the same machine state. Also bytes per step by kind.
 *
 *   npm run bench:record [-- --layers 128,64 --batch-size 64 --steps 560]
 */
import { Command } from 'commander';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../core/config.js';
import { columnWidth, stepColumns, type ColumnSpec } from '../core/format/columns.js';
import { initialLayers } from '../core/nn/init.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import { loadDataset } from '../datasets/index.js';
import { selectEngine } from '../recorder/engine.js';
import { TfMlp } from '../recorder/model.js';
import { BufferPool } from '../recorder/readback.js';
import { recordRun } from '../recorder/record.js';

const program = new Command('bench:record')
  .option('--layers <sizes>', 'hidden layer sizes', '128,64')
  .option('--batch-size <n>', 'batch size', '64')
  .option('--steps <n>', 'steps per measurement', '560')
  .option('--rounds <n>', 'A/B rounds', '2')
  .parse(process.argv);
const options = program.opts<{ layers: string; batchSize: string; steps: string; rounds: string }>();
const steps = Number(options.steps);
const config = resolveConfig({
  layers: options.layers.split(',').map(Number),
  batchSize: Number(options.batchSize),
  maxSteps: steps,
  epochs: 1000,
  engine: 'wasm',
});
const dataset = loadDataset(config.dataset);
const engine = await selectEngine(config.engine);
const inputSize = 784;
const sizes = [inputSize, ...config.layers, 10];
const out = join(import.meta.dirname, 'out');

/** The plain loop: same batches, `trainStep` (forward, backward, update), nothing read back. */
function plainLoop(recordLike: boolean): number {
  const model = new TfMlp(config, initialLayers(config, sizes));
  const order = Int32Array.from({ length: dataset.train.count }, (_, index) => index);
  const random = createRandom(config.seed);
  const inputs = new Float32Array(config.batchSize * inputSize);
  const labels = new Int32Array(config.batchSize);
  const pool = new BufferPool();
  const started = performance.now();
  let step = 0;
  while (step < steps) {
    shuffleInPlace(order, random);
    for (let start = 0; start + config.batchSize <= order.length && step < steps; start += config.batchSize, step++) {
      for (let row = 0; row < config.batchSize; row++) {
        const sample = order[start + row]!;
        inputs.set(dataset.train.images.subarray(sample * inputSize, (sample + 1) * inputSize), row * inputSize);
        labels[row] = dataset.train.labels[sample]!;
      }
      model.trainStep(inputs, labels);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  return steps / seconds;
}

async function recorded(round: number): Promise<{ stepsPerSecond: number; directory: string }> {
  const name = `bench-${round}`;
  const result = await recordRun({ config, name, out, force: true, reproduce: () => 'npm run bench:record' });
  return { stepsPerSecond: result.stepCount / result.trainingSeconds, directory: result.directory };
}

function bytesPerStepByKind(columns: ColumnSpec[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const spec of columns) {
    const kind = spec.name.includes('probe')
      ? 'probe activations and gradients'
      : spec.name.startsWith('layer')
        ? 'per-neuron and per-layer statistics'
        : spec.name === 'batchIndices' || spec.name === 'meanInput'
          ? 'batch indices and mean input'
          : 'loss, accuracy, step, evaluation';
    kinds[kind] = (kinds[kind] ?? 0) + columnWidth(spec) * (spec.type === 'uint8' ? 1 : 4);
  }
  return kinds;
}

console.log(
  `Network ${sizes.join('-')}, batch ${config.batchSize}, ${steps} steps per measurement, engine ${engine.name}` +
    `${engine.simd ? ' (SIMD)' : ''}, ${config.probes} probes, eval every ${config.evalEvery}`,
);
plainLoop(false); // warm-up: compile kernels, fill caches
const plain: number[] = [];
const readback: number[] = [];
const full: number[] = [];
let lastDirectory = '';
for (let round = 0; round < Number(options.rounds); round++) {
  plain.push(plainLoop(false));
  readback.push(plainLoop(true));
  const result = await recorded(round);
  full.push(result.stepsPerSecond);
  lastDirectory = result.directory;
}
const best = (values: number[]) => Math.max(...values);
const format = (values: number[]) => values.map((value) => value.toFixed(0)).join(', ');
console.log(`plain training loop (nothing read back)   ${best(plain).toFixed(0)} steps/s   (rounds: ${format(plain)})`);
console.log(`training thread with its read-back      ${best(readback).toFixed(0)} steps/s   (rounds: ${format(readback)})`);
console.log(`recording everything (end to end)         ${best(full).toFixed(0)} steps/s   (rounds: ${format(full)})`);
console.log(
  `ratio recording / plain                   ${(best(full) / best(plain)).toFixed(3)}  (overhead ${((1 - best(full) / best(plain)) * 100).toFixed(1)}%)`,
);
console.log(
  `per step: plain ${(1000 / best(plain)).toFixed(2)} ms, with read-back ${(1000 / best(readback)).toFixed(2)} ms, recording ${(1000 / best(full)).toFixed(2)} ms`,
);

const files = readdirSync(lastDirectory).map((file) => ({ file, bytes: statSync(join(lastDirectory, file)).size }));
const sum = (filter: (file: string) => boolean) => files.filter(({ file }) => filter(file)).reduce((total, { bytes }) => total + bytes, 0);
console.log('\nbytes per step by kind (declared column widths):');
for (const [kind, bytes] of Object.entries(
  bytesPerStepByKind(stepColumns({ inputSize, layerSizes: sizes.slice(1), batchSize: config.batchSize, probeCount: config.probes })),
)) {
  console.log(`  ${kind.padEnd(38)} ${bytes.toLocaleString('en')} B`);
}
console.log('on disk, averaged over the run:');
console.log(
  `  step files                             ${Math.round(sum((file) => file.startsWith('steps-')) / steps).toLocaleString('en')} B/step`,
);
console.log(
  `  weight snapshots                       ${Math.round(sum((file) => file.startsWith('weights-')) / steps).toLocaleString('en')} B/step`,
);
console.log(`  whole run folder                       ${(sum(() => true) / 1024 ** 2).toFixed(1)} MiB for ${steps} steps`);
const memory = process.memoryUsage();
console.log(`memory at the end: rss ${(memory.rss / 1024 ** 2).toFixed(0)} MiB, JS heap ${(memory.heapUsed / 1024 ** 2).toFixed(0)} MiB`);
rmSync(out, { recursive: true, force: true });
