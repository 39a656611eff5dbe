/**
 * The recorder, recording everything, against plain PyTorch at its best, which records nothing: the
 * same network, batch size, learning rate and digits (the embedded 10,000), in one run, alternating
 * the two so that both see the same machine state.
 *
 * PyTorch's best configuration is found first among torch's 1 and 2 threads, OpenBLAS's 1 and 2
 * threads (Debian's OpenBLAS starts a thread per core of its own unless told, which slows torch's
 * one thread threefold here) and the environment as it is or without OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE (tuning variables that hold OpenBLAS to older kernels); then that configuration
 * and the recorder take turns, `--rounds` times. Printed per case: both rates per round, the ratio
 * (recording ÷ PyTorch) of each round, their median and spread.
 *
 * Without PyTorch, or with PyTorch on a BLAS that is not an optimised one (Debian's reference BLAS
 * is ten times slower than OpenBLAS here), it says so and prints no ratio.
 *
 *   npm run bench:pytorch [-- --case 128,64x64 --case 512,256,128x64 --case 128,64x128 --rounds 5 --seconds 2]
 */
import { Command } from 'commander';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../core/config.js';
import { loadDataset } from '../datasets/index.js';
import { selectEngine } from '../recorder/engine.js';
import { recordingRate } from './recording-rate.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const program = new Command('bench:pytorch')
  .option('--case <layers>x<batch>', 'hidden layer sizes and batch size, e.g. 128,64x64 (repeat for several)', collect)
  .option('--rounds <n>', 'alternating rounds per case', '5')
  .option('--seconds <s>', 'about how long one measurement trains', '2')
  .option('--python <path>', 'the Python to run PyTorch with (default: the first of python3 and /usr/bin/python3 that imports torch)')
  .parse(process.argv);
const options = program.opts<{ case?: string[]; rounds: string; seconds: string; python?: string }>();
const cases = (options.case ?? ['128,64x64', '512,256,128x64', '128,64x128']).map((text) => {
  const match = /^(\d+(?:,\d+)*)x(\d+)$/.exec(text);
  if (!match) {
    console.error(`error: --case ${JSON.stringify(text)}: expected hidden layer sizes and a batch size, such as 128,64x64`);
    process.exit(2);
  }
  return { layers: match[1]!.split(',').map(Number), batchSize: Number(match[2]) };
});
const rounds = Number(options.rounds);
const seconds = Number(options.seconds);
const out = join(import.meta.dirname, 'out', 'pytorch');
const trainer = join(import.meta.dirname, 'pytorch-train.py');

/** The first Python that imports torch, or undefined with what was tried. */
function findPython(): { python?: string; tried: string[] } {
  const candidates = options.python ? [options.python] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, tried: candidates };
  }
  return { tried: candidates };
}

type Setting = { torchThreads: number; openblasThreads: number; tuningUnset: boolean };
type TorchResult = { torch: string; blas: string; threads: number; stepsPerSecond: number[]; lastLoss: number };

const label = (setting: Setting) =>
  `torch ${setting.torchThreads} thread${setting.torchThreads > 1 ? 's' : ''}, OpenBLAS ${setting.openblasThreads}` +
  (setting.tuningUnset ? ', OPENBLAS_CORETYPE/L2_SIZE unset' : '');

function runTorch(python: string, setting: Setting, layers: number[], batchSize: number, steps: number, measurements = 1): TorchResult {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(setting.openblasThreads) };
  if (setting.tuningUnset) {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const output = execFileSync(
    python,
    [
      trainer,
      ...['--data', join(out, 'data'), '--layers', layers.join(','), '--batch', String(batchSize)],
      ...['--steps', String(steps), '--rounds', String(measurements), '--threads', String(setting.torchThreads)],
    ],
    { env, encoding: 'utf8' },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as TorchResult;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const fixed = (value: number, digits = 0) => value.toFixed(digits);

const engine = await selectEngine('wasm');
const dataset = loadDataset('mnist-embedded');
const inputSize = dataset.train.images.length / dataset.train.count;
mkdirSync(join(out, 'data'), { recursive: true });
writeFileSync(join(out, 'data', 'images.f32'), dataset.train.images);
writeFileSync(join(out, 'data', 'labels.u8'), Uint8Array.from(dataset.train.labels));
writeFileSync(
  join(out, 'data', 'meta.json'),
  JSON.stringify({ count: dataset.train.count, inputSize, classes: dataset.classNames.length }),
);

const { python, tried } = findPython();
console.log(
  `recorder: engine ${engine.name}${engine.simd ? ' (SIMD)' : ''}, recording everything (16 probes, eval every 50); ` +
    `${dataset.name}, ${dataset.train.count} training digits; ${rounds} alternating rounds per case`,
);
let torchUsable = false;
if (!python) {
  console.log(`PyTorch: not installed (no torch in ${tried.join(' or ')}); no ratio printed.`);
  console.log(
    '  On Debian: apt-get install python3-torch libopenblas0-pthread (then --python /usr/bin/python3 if python3 is another one).',
  );
} else {
  const check = runTorch(python, { torchThreads: 1, openblasThreads: 1, tuningUnset: false }, [128, 64], 64, 50);
  torchUsable = check.blas === 'OpenBLAS' || check.blas === 'MKL';
  console.log(`PyTorch: ${python}, torch ${check.torch} on ${check.blas}`);
  if (!torchUsable) {
    console.log(
      `  not an optimised BLAS: PyTorch here is far below its best, so no ratio is printed (on Debian: apt-get install libopenblas0-pthread).`,
    );
  }
}

for (const { layers, batchSize } of cases) {
  const sizes = [inputSize, ...layers, dataset.classNames.length].join('-');
  console.log(`\n${sizes}, batch ${batchSize}, SGD lr 0.1`);
  let best: Setting | undefined;
  let steps = 0;
  if (python && torchUsable) {
    // PyTorch's best setting, from one short measurement of each.
    const settings: Setting[] = [];
    for (const torchThreads of [1, 2])
      for (const openblasThreads of [1, 2])
        for (const tuningUnset of process.env.OPENBLAS_CORETYPE || process.env.OPENBLAS_L2_SIZE ? [false, true] : [false])
          settings.push({ torchThreads, openblasThreads, tuningUnset });
    let bestRate = 0;
    const tried: string[] = [];
    for (const setting of settings) {
      const rate = Math.max(...runTorch(python, setting, layers, batchSize, 300, 2).stepsPerSecond);
      tried.push(`${fixed(rate)} (${label(setting)})`);
      if (rate > bestRate) [best, bestRate] = [setting, rate];
    }
    console.log(`  PyTorch settings, steps/s: ${tried.join('; ')}`);
    console.log(`  best: ${label(best!)}`);
    steps = Math.max(200, Math.round((bestRate * seconds) / 16) * 16);
  } else {
    steps = 2000;
  }
  const config = resolveConfig({ layers, batchSize, epochs: 1000, maxSteps: Math.max(steps, 400), engine: 'wasm' });
  const torchRates: number[] = [];
  const recordRates: number[] = [];
  const ratios: number[] = [];
  console.log('  round   PyTorch   recording   ratio   (steps/s; ratio = recording ÷ PyTorch)');
  for (let round = 0; round < rounds; round++) {
    const torchRate = best ? runTorch(python!, best, layers, batchSize, steps).stepsPerSecond[0]! : NaN;
    const recorded = await recordingRate(config, out, `pytorch-${layers.join('-')}-${batchSize}`);
    torchRates.push(torchRate);
    recordRates.push(recorded.stepsPerSecond);
    ratios.push(recorded.stepsPerSecond / torchRate);
    console.log(
      `  ${String(round + 1).padStart(5)}   ${(best ? fixed(torchRate) : '—').padStart(7)}   ${fixed(recorded.stepsPerSecond).padStart(9)}   ` +
        `${best ? fixed(ratios.at(-1)!, 2) + '×' : '—'}`,
    );
  }
  const range = (values: number[], digits = 0) =>
    `median ${fixed(median(values), digits)} (${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)})`;
  if (best) {
    console.log(`  PyTorch ${range(torchRates)}, recording ${range(recordRates)} steps/s`);
    console.log(
      `  ratio ${range(ratios, 2)}; best recording ÷ best PyTorch ${fixed(Math.max(...recordRates) / Math.max(...torchRates), 2)}×`,
    );
  } else {
    console.log(`  recording ${range(recordRates)} steps/s; no PyTorch figure to set it against`);
  }
}
rmSync(out, { recursive: true, force: true });
