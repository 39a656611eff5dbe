/** End to end: the CLI records runs that read back exactly through the format module. */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { weightColumns } from '../core/format/columns.js';
import { columnWidth } from '../core/format/columns.js';
import { FINAL_TRAIN_STEPS } from '../core/format/manifest.js';
import { initialLayers } from '../core/nn/init.js';
import { createTrace, forwardSample, nonZeroIndices } from '../core/nn/mlp.js';
import { loadDataset } from '../datasets/index.js';
import { openRunFolder } from '../recorder/open-run.js';
import { shellQuote } from '../recorder/reproduce-command.js';
import { Observer } from './reference-observer.js';
import { ROOT, runRecorder, tempDir, TINY } from './helpers.js';

const dataset = loadDataset('mnist-embedded');
const execFileAsync = promisify(execFile);

/** Engine float32 against the float64 reference. */
function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((value, index) =>
    expect(Math.abs(value - expected[index]!), `index ${index}: ${value} vs ${expected[index]}`).toBeLessThan(
      1e-5 + 1e-4 * Math.abs(expected[index]!),
    ),
  );
}

describe('a recorded run', () => {
  const out = tempDir('roundtrip');
  const steps = 700;
  let code: number | null;
  let stdout: string;

  beforeAll(async () => {
    ({ code, stdout } = await runRecorder([...TINY, '--out', out, '--name', 'tiny', '--max-steps', String(steps), '--seed', '42']));
  }, 120_000);

  it('completes and says where it went', async () => {
    expect(code).toBe(0);
    expect(stdout).toMatch(/Recorded: 700 steps in .* s, .*B, held-out accuracy/);
    expect(stdout).toContain(`→ ${join(out, 'tiny').replace(process.cwd() + '/', '')}`);
    const run = await openRunFolder(join(out, 'tiny'));
    expect(run.manifest).toMatchObject({ status: 'complete', stepCount: steps, plannedSteps: steps, divergedAtStep: null });
    expect(run.manifest.engine.name).toBe('wasm');
    expect(run.manifest.chunks.length).toBeGreaterThan(1);
    expect(run.manifest.chunks.every((chunk) => chunk.complete)).toBe(true);
    expect(run.manifest.chunks.reduce((sum, chunk) => sum + chunk.stepCount, 0)).toBe(steps);
    expect(run.manifest.finalEval?.accuracy).toBeGreaterThan(0.5);
    // The final training loss and accuracy: means over the last FINAL_TRAIN_STEPS recorded steps.
    const recorded: Record<'loss' | 'accuracy', number[]> = { loss: [], accuracy: [] };
    for (let chunk = 0; chunk < run.manifest.chunks.length; chunk++) {
      const data = await run.readSteps(chunk);
      for (const quantity of ['loss', 'accuracy'] as const) recorded[quantity].push(...data.values.get(quantity)!);
    }
    const tail = (quantity: 'loss' | 'accuracy') => recorded[quantity].slice(-FINAL_TRAIN_STEPS);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(run.manifest.finalTrain?.steps).toBe(FINAL_TRAIN_STEPS);
    expect(run.manifest.finalTrain?.loss).toBeCloseTo(mean(tail('loss')), 6);
    expect(run.manifest.finalTrain?.accuracy).toBeCloseTo(mean(tail('accuracy')), 6);
  });

  it('reads back step rows that are consistent with the data and each other', async () => {
    const run = await openRunFolder(join(out, 'tiny'));
    const { config } = run.manifest;
    const perEpoch = Math.floor(dataset.train.count / config.batchSize);
    let step = 0;
    for (let chunk = 0; chunk < run.manifest.chunks.length; chunk++) {
      const data = await run.readSteps(chunk);
      expect(data.problems).toEqual([]);
      const stepColumn = data.values.get('step')!;
      const epochs = data.values.get('epoch')!;
      const batchIndices = data.values.get('batchIndices')!;
      const meanInput = data.values.get('meanInput')!;
      for (let row = 0; row < data.rows; row++, step++) {
        expect(stepColumn[row]).toBe(step);
        expect(epochs[row]).toBe(Math.floor(step / perEpoch));
        if (step % 97 !== 0) continue;
        const indices = batchIndices.subarray(row * config.batchSize, (row + 1) * config.batchSize);
        expect(new Set(indices).size).toBe(config.batchSize);
        for (let pixel = 200; pixel < 784; pixel += 53) {
          let total = 0;
          for (const index of indices) total += dataset.train.images[index * 784 + pixel]!;
          expect(meanInput[row * 784 + pixel]).toBeCloseTo(total / config.batchSize, 5);
        }
      }
    }
    expect(step).toBe(steps);
  });

  it('keeps weight snapshots that match the initial weights, the update rule and the recorded norms', async () => {
    const run = await openRunFolder(join(out, 'tiny'));
    const config = resolveConfig({ ...run.manifest.config });
    const sizes = run.manifest.layers.map((layer) => layer.size);
    const initial = initialLayers(config, sizes);
    const first = await run.readSteps(0);
    for (let layer = 1; layer < sizes.length; layer++) {
      const weights = (await run.readWeights(0, layer))!;
      expect(weights.problems).toEqual([]);
      expect(weights.values.get('snapshotStep')![0]).toBe(0);
      expect(weights.values.get('reason')![0]).toBe('first');
      const width = sizes[layer - 1]! * sizes[layer]!;
      expect(weights.values.get('weight')!.subarray(0, width)).toEqual(initial[layer - 1]!.weight);
      const stride = run.manifest.weightStrides[layer - 1]!;
      const reasons = weights.values.get('reason')!;
      weights.values.get('snapshotStep')!.forEach((step, row) => {
        if (reasons[row] === 'stride') expect(step % stride).toBe(0);
        else expect(['first', 'anomaly']).toContain(reasons[row]);
      });
      // ‖∂L/∂W‖ of a kept step equals the gradNorm column of that step.
      const grad = weights.values.get('weightGrad')!.subarray(0, width);
      const norm = Math.sqrt(grad.reduce((sum, value) => sum + value * value, 0));
      expect(first.values.get('gradNorm', layer)![0]).toBeCloseTo(norm, 4);
    }
    // The output layer is small enough to keep every step: W(t+1) = W(t) − lr·∂L/∂W(t) for SGD.
    const output = sizes.length - 1;
    expect(run.manifest.weightStrides[output - 1]).toBe(1);
    const snapshots = (await run.readWeights(0, output))!;
    const width = columnWidth(weightColumns(sizes[output - 1]!, sizes[output]!)[2]!);
    const weight = snapshots.values.get('weight')!;
    const weightGrad = snapshots.values.get('weightGrad')!;
    for (let row = 0; row + 1 < 20; row++) {
      for (let index = 0; index < width; index += 7) {
        const expected = Math.fround(weight[row * width + index]! - Math.fround(config.learningRate * weightGrad[row * width + index]!));
        expect(weight[(row + 1) * width + index]).toBeCloseTo(expected, 6);
      }
    }
    const allSteps = run.manifest.chunks.flatMap((chunk) =>
      chunk.weights.filter((entry) => entry.layer === 1).flatMap((entry) => entry.steps),
    );
    expect(allSteps.at(-1)).toBe(steps - 1);
  });

  it('records probe passes and evaluations that match a per-sample reference on the kept weights', async () => {
    const run = await openRunFolder(join(out, 'tiny'));
    const sizes = run.manifest.layers.map((layer) => layer.size);
    const probes = (await run.readProbes())!;
    const labels = probes.values.get('label')!;
    const testIndex = probes.values.get('testIndex')!;
    expect(probes.rows).toBe(4);
    testIndex.forEach((index, probe) => expect(labels[probe]).toBe(dataset.test.labels[index]));
    const observer = new Observer(run.manifest.config.activation, sizes, { inputs: probes.values.get('input')!, labels }, dataset.test);
    const chunk = await run.readSteps(0);
    const kept = await Promise.all(sizes.slice(1).map((_, index) => run.readWeights(0, index + 1)));
    const step = 0;
    const layers = kept.map((weights, index) => {
      const fanIn = sizes[index]!;
      const fanOut = sizes[index + 1]!;
      return {
        fanIn,
        fanOut,
        weight: weights!.values.get('weight')!.subarray(0, fanIn * fanOut),
        bias: weights!.values.get('bias')!.subarray(0, fanOut),
      };
    });
    const result = observer.probe(layers);
    for (let layer = 1; layer < sizes.length; layer++) {
      const width = 4 * sizes[layer]!;
      const recorded = chunk.values.get('probeActivation', layer)!.subarray(step * width, (step + 1) * width);
      expectClose(recorded, result.activation[layer - 1]!);
      const recordedGrad = chunk.values.get('probeGradPreActivation', layer)!.subarray(0, width);
      expectClose(recordedGrad, result.gradPreActivation[layer - 1]!);
    }
    expect(chunk.values.get('probePredicted')!.subarray(0, 4)).toEqual(result.predicted);
    const evaluation = observer.evaluate(layers);
    const evalLoss = chunk.values.get('evalLoss')!;
    expect(evalLoss.valid[0]).toBe(1);
    expect(evalLoss.valid[1]).toBe(0);
    // Recorded by the batched engine pass; checked against the per-sample TypeScript reference.
    expect(evalLoss.values[0]).toBeCloseTo(evaluation.loss, 5);
    expect(chunk.values.get('evalAccuracy')!.values[0]).toBe(Math.fround(evaluation.accuracy));
  });

  it('records each neuron’s mean activation per class that a direct float64 computation from the batch gives', async () => {
    const run = await openRunFolder(join(out, 'tiny'));
    const sizes = run.manifest.layers.map((layer) => layer.size);
    const classes = run.manifest.dataset.classNames.length;
    const chunk = await run.readSteps(0);
    // Step 0's weights (every layer keeps its first step) and the samples of step 0's batch.
    const layers = await Promise.all(
      sizes.slice(1).map(async (fanOut, index) => {
        const kept = (await run.readWeights(0, index + 1))!;
        const fanIn = sizes[index]!;
        return {
          fanIn,
          fanOut,
          weight: kept.values.get('weight')!.subarray(0, fanIn * fanOut),
          bias: kept.values.get('bias')!.subarray(0, fanOut),
        };
      }),
    );
    const batch = chunk.values.get('batchIndices')!.subarray(0, run.manifest.config.batchSize);
    const trace = createTrace(layers);
    const sums = layers.map((layer) => new Float64Array(layer.fanOut * classes));
    const counts = new Int32Array(classes);
    for (const index of batch) {
      const image = dataset.train.images.subarray(index * 784, (index + 1) * 784);
      forwardSample(layers, run.manifest.config.activation, image, nonZeroIndices(image), trace);
      const label = dataset.train.labels[index]!;
      counts[label]!++;
      trace.activation.forEach((values, layer) => values.forEach((value, neuron) => (sums[layer]![neuron * classes + label]! += value)));
    }
    for (let layer = 1; layer < sizes.length; layer++) {
      const recorded = chunk.values.get('classActivation', layer)!;
      const width = sizes[layer]! * classes;
      const expected = sums[layer - 1]!.map((sum, item) => (counts[item % classes]! > 0 ? sum / counts[item % classes]! : 0));
      expectClose(recorded.values.subarray(0, width), Float32Array.from(expected));
      // A class the batch did not hold is null, not zero.
      expect(Array.from(recorded.valid.subarray(0, width))).toEqual(
        Array.from({ length: width }, (_, item) => (counts[item % classes]! > 0 ? 1 : 0)),
      );
    }
    // Batches of 32 samples often miss a class: the chunk's steps include some (their nulls are checked above at step 0's width).
    const someAbsent = (await run.readSteps(0)).values.get('classActivation', 1)!.valid.includes(0);
    expect(someAbsent).toBe(true);
  });
});

describe('the recorder', () => {
  it('gives identical files for the same seed and config, and its reproduce command does too', async () => {
    const out = tempDir('determinism');
    const args = [...TINY, '--max-steps', '120', '--seed', '9', '--name', 'same'];
    const [a, b] = await Promise.all([runRecorder([...args, '--out', join(out, 'a')]), runRecorder([...args, '--out', join(out, 'b')])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const files = readdirSync(join(out, 'a', 'same')).sort();
    expect(readdirSync(join(out, 'b', 'same')).sort()).toEqual(files);
    for (const file of files.filter((name) => name.endsWith('.arrows'))) {
      expect(readFileSync(join(out, 'b', 'same', file)).equals(readFileSync(join(out, 'a', 'same', file))), file).toBe(true);
    }
    const strip = (text: string) => ({ ...JSON.parse(text), createdAt: undefined, updatedAt: undefined });
    expect(strip(readFileSync(join(out, 'b', 'same', 'run.json'), 'utf8'))).toEqual(
      strip(readFileSync(join(out, 'a', 'same', 'run.json'), 'utf8')),
    );

    // The command line stored in run.json records the same data again.
    const { reproduce } = JSON.parse(readFileSync(join(out, 'a', 'same', 'run.json'), 'utf8')) as { reproduce: string };
    expect(reproduce).toMatch(/^npm run record -- --name same-again .*--engine wasm$/);
    expect(reproduce).not.toContain('--diagnostics');
    const again = await runRecorder([...reproduce.replace('npm run record -- ', '').split(' '), '--out', join(out, 'a'), '--quiet']);
    expect(again.code).toBe(0);
    for (const file of files.filter((name) => name.endsWith('.arrows'))) {
      expect(readFileSync(join(out, 'a', 'same-again', file)).equals(readFileSync(join(out, 'a', 'same', file))), file).toBe(true);
    }
  }, 120_000);

  it('carries non-default diagnostics thresholds in its reproduce command, so the rerun finds the same problems', async () => {
    const out = tempDir('reproduce-thresholds');
    const file = join(out, 'thresholds.yaml');
    // Loose enough that a 30-step run is "stalled"; with the default thresholds it finds nothing.
    writeFileSync(file, 'diagnostics:\n  stalled: { window: 5, windows: 1, tolerance: 0.9 }\n');
    const first = await runRecorder([...TINY, '--config', file, '--engine', 'wasm', '--max-steps', '30', '--out', out, '--name', 'loose']);
    expect(first.code, first.stderr).toBe(0);
    const original = (await openRunFolder(join(out, 'loose'))).manifest;
    expect(original.config.diagnostics.stalled).toEqual({ window: 5, windows: 1, tolerance: 0.9, minLoss: 1 });
    expect(original.findings.map((finding) => finding.kind)).toEqual(['stalled']);

    expect(original.reproduce).toContain(` --diagnostics '{"stalled":{"window":5,"tolerance":0.9,"windows":1}}' `);

    // Through a shell and npm, as pasted by a user.
    await execFileAsync('sh', ['-c', `${original.reproduce} --out '${out}' --quiet`], { cwd: ROOT });
    const again = (await openRunFolder(join(out, 'loose-again'))).manifest;
    expect(again.config).toEqual(original.config);
    expect(again.findings).toEqual(original.findings);
  }, 120_000);

  it('quotes what a shell would split or expand in its reproduce command', async () => {
    const words = ['same-again', '784,16', '{"stalled":{"window":5}}', "it's", 'two words', '$HOME', '*', ''];
    const { stdout } = await execFileAsync('sh', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`]);
    expect(stdout).toBe(words.map((word) => `${word}\n`).join(''));
    expect(shellQuote('same-again')).toBe('same-again');
  });

  it('never replaces an existing run without --force', async () => {
    const out = tempDir('existing');
    const first = await runRecorder([...TINY, '--max-steps', '20', '--out', out, '--name', 'keep']);
    expect(first.code).toBe(0);
    const before = readdirSync(join(out, 'keep')).map((file) => [file, statSync(join(out, 'keep', file)).mtimeMs]);
    const again = await runRecorder([...TINY, '--max-steps', '30', '--out', out, '--name', 'keep']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('run "keep" already exists');
    expect(again.stderr).toContain('--force');
    expect(readdirSync(join(out, 'keep')).map((file) => [file, statSync(join(out, 'keep', file)).mtimeMs])).toEqual(before);
    const forced = await runRecorder([...TINY, '--max-steps', '30', '--out', out, '--name', 'keep', '--force']);
    expect(forced.code).toBe(0);
    expect((await openRunFolder(join(out, 'keep'))).manifest.stepCount).toBe(30);
  }, 120_000);

  it('records divergence as data, marks the run failed and exits 3', async () => {
    const out = tempDir('diverge');
    const result = await runRecorder([
      ...TINY,
      '--out',
      out,
      '--name',
      'boom',
      '--activation',
      'linear',
      '--lr',
      '10',
      '--max-steps',
      '300',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/training diverged: the loss became (NaN|Infinity) at step \d+; try a smaller --lr/);
    const run = await openRunFolder(join(out, 'boom'));
    expect(run.manifest.status).toBe('failed');
    const diverged = run.manifest.divergedAtStep!;
    expect(run.manifest.stepCount).toBe(diverged + 1);
    const chunk = await run.readSteps(run.manifest.chunks.length - 1);
    const loss = chunk.values.get('loss')!;
    expect(Number.isFinite(loss[chunk.rows - 1])).toBe(false);
  }, 120_000);
});
