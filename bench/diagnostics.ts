/**
 * Cost of the training-problem detectors per recorded step, alone: `Diagnostics.observe` fed
 * synthetic statistics of the given network shape (values that keep every detector busy but
 * raise no finding), with the inactive flags they read computed each step as the writer does
 * (`markInactive`: the batch pass of sigmoid and tanh). Compare with the recorder's per-step time
 * from `npm run bench:record`.
 *
 *   npx tsx bench/diagnostics.ts [--layers 128,64 --batch-size 64 --probes 16 --steps 20000]
 */
import { Command } from 'commander';
import { Diagnostics } from '../core/diagnostics/diagnostics.js';
import type { LayerStepStatistics, StepStatistics } from '../core/diagnostics/step-statistics.js';
import { DEFAULT_DIAGNOSTICS } from '../core/diagnostics/thresholds.js';
import { ACTIVATION_FUNCTIONS } from '../core/nn/activation.js';
import { markInactive } from '../core/nn/inactive.js';
import { createRandom } from '../core/random.js';

const program = new Command('bench:diagnostics')
  .option('--layers <sizes>', 'hidden layer sizes', '128,64')
  .option('--batch-size <n>', 'batch size', '64')
  .option('--probes <n>', 'probe count', '16')
  .option('--steps <n>', 'steps per measurement', '20000')
  .parse(process.argv);
const options = program.opts<{ layers: string; batchSize: string; probes: string; steps: string }>();
const sizes = [...options.layers.split(',').map(Number), 10];
const batch = Number(options.batchSize);
const probes = Number(options.probes);
const steps = Number(options.steps);
const random = createRandom(1);

/** Activations uniform in ±0.5 around `shift` (the working range of tanh, and of sigmoid with shift 0.5), half the batch active. */
function layerStatistics(neurons: number, hidden: boolean, shift: number): LayerStepStatistics & { activation: Float32Array | undefined } {
  const values = (length: number, base: number) => Float32Array.from({ length }, () => base + random.next() - 0.5);
  return {
    weightNorm: 5,
    gradNorm: 1,
    updateRatio: 0.01,
    meanActivation: values(neurons, shift),
    fractionActive: new Float32Array(neurons).fill(0.5),
    gradPreActivation: values(neurons, 0),
    activation: hidden ? values(neurons * batch, shift) : undefined,
    inactive: hidden ? new Uint8Array(neurons) : undefined,
    probeActivation: values(neurons * probes, shift),
  };
}

function measure(activation: 'relu' | 'tanh' | 'sigmoid'): number {
  const shift = activation === 'sigmoid' ? 0.5 : 0;
  const layers = sizes.map((neurons, index) => layerStatistics(neurons, index < sizes.length - 1, shift));
  const diagnostics = new Diagnostics(activation);
  const started = performance.now();
  const fn = ACTIVATION_FUNCTIONS[activation];
  for (let step = 0; step < steps; step++) {
    for (const layer of layers)
      if (layer.activation) markInactive(fn, layer.fractionActive, layer.activation, DEFAULT_DIAGNOSTICS.saturation, layer.inactive!);
    const statistics: StepStatistics = { step, loss: 0.5, probeLoss: new Float32Array(probes).fill(1), layers };
    diagnostics.observe(statistics);
  }
  const microseconds = ((performance.now() - started) * 1000) / steps;
  if (diagnostics.findings().length > 0) throw new Error(`bench:diagnostics: expected no findings, found ${diagnostics.findings().length}`);
  return microseconds;
}

console.log(`Network 784-${sizes.join('-')}, batch ${batch}, ${probes} probes, ${steps} steps per measurement`);
for (const activation of ['relu', 'tanh', 'sigmoid'] as const) {
  measure(activation); // warm-up
  console.log(`${activation.padEnd(8)} ${measure(activation).toFixed(1)} µs per step`);
}
const diagnostics = new Diagnostics('relu');
const layers = sizes.map((neurons, index) => layerStatistics(neurons, index < sizes.length - 1, 0));
for (let step = 0; step < 1000; step++) diagnostics.observe({ step, loss: 0.5, probeLoss: new Float32Array(probes), layers });
const findingsStarted = performance.now();
for (let call = 0; call < 1000; call++) diagnostics.findings();
console.log(
  `findings() ${(((performance.now() - findingsStarted) * 1000) / 1000).toFixed(1)} µs per call (run.json is written at most every 250 ms)`,
);
