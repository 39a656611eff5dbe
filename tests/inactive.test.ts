/**
 * "Inactive" by each activation function's rule (core/nn/inactive.ts): the rule on hand-made
 * batches, the recorded `layerK.fractionInactive` against a float64 reference pass over each step's
 * batch, and runs of schemaVersion 3 (before the column) read with it absent, not zero.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DIAGNOSTICS } from '../core/diagnostics/thresholds.js';
import { stepColumns } from '../core/format/columns.js';
import { encodeStream } from '../core/format/ipc.js';
import { recordedIn } from '../core/format/quantities.js';
import { ACTIVATION_FUNCTIONS, ACTIVATIONS, type Activation } from '../core/nn/activation.js';
import { markInactive } from '../core/nn/inactive.js';
import { createTrace, forwardSample, nonZeroIndices, type DenseLayer } from '../core/nn/mlp.js';
import { createRandom } from '../core/random.js';
import { layerHistory } from '../core/view/run-series.js';
import { loadDataset } from '../datasets/index.js';
import { openRunFolder } from '../recorder/open-run.js';
import { runRecorder, tempDir, TINY } from './helpers.js';

const SATURATION = DEFAULT_DIAGNOSTICS.saturation;

/** markInactive on one layer: its flags and its count. */
function inactiveOf(activation: Activation, fractionActive: number[], values: number[] = []): { flags: number[]; count: number } {
  const flags = new Uint8Array(fractionActive.length);
  const count = markInactive(
    ACTIVATION_FUNCTIONS[activation],
    Float32Array.from(fractionActive),
    Float32Array.from(values),
    SATURATION,
    flags,
  );
  return { flags: Array.from(flags), count };
}

/** A batch [sample × neuron] from one column of per-sample values per neuron. */
function batchOf(perNeuron: number[][]): number[] {
  const samples = perNeuron[0]!.length;
  return Array.from(
    { length: samples * perNeuron.length },
    (_, index) => perNeuron[index % perNeuron.length]![Math.floor(index / perNeuron.length)]!,
  );
}

describe('inactive, by each activation function’s rule', () => {
  it('ReLU and leaky ReLU: z ≤ 0 on every sample (fraction active 0), read from fraction active alone', () => {
    for (const activation of ['relu', 'leaky-relu'] as const) {
      // No batch values given: the rule never reads them.
      expect(inactiveOf(activation, [0, 0.25, 0, 1 / 64])).toEqual({ flags: [1, 0, 1, 0], count: 2 });
    }
  });

  it('sigmoid: half the layer saturated, f′(z) below 5% of ¼ on at least 75% of the batch, whichever bound', () => {
    const values = batchOf([
      [0.995, 0.995, 0.995, 0.995, 0.995, 0.995, 0.5, 0.5], // 6 of 8 samples near 1: saturated
      [0.002, 0.002, 0.002, 0.002, 0.002, 0.002, 0.9, 0.5], // 6 of 8 near 0: saturated
      [0.995, 0.995, 0.995, 0.995, 0.995, 0.5, 0.5, 0.5], // 5 of 8: not
      [0.5, 0.6, 0.4, 0.7, 0.3, 0.8, 0.2, 0.5], // working range
    ]);
    // Fraction active (z > 0: output above ½) says nothing about saturation.
    expect(inactiveOf('sigmoid', [0.75, 0, 0.625, 0.5], values)).toEqual({ flags: [1, 1, 0, 0], count: 2 });
  });

  it('tanh: saturated beyond ±0.975, strictly (f′ of exactly 5% is not)', () => {
    const values = batchOf([
      [0.99, -0.99, 0.99, -0.99],
      [0.976, 0.976, 0.976, 0.976],
      [0.974, 0.974, 0.974, 0.974],
      [0, 0, 0, 0],
    ]);
    expect(inactiveOf('tanh', [0.5, 1, 1, 0], values)).toEqual({ flags: [1, 1, 0, 0], count: 2 });
  });

  it('linear: never, whatever fraction active says', () => {
    expect(inactiveOf('linear', [0, 0, 0.5], batchOf([[-1], [-2], [3]]))).toEqual({ flags: [0, 0, 0], count: 0 });
  });

  it('agrees for sigmoid and tanh with counting samples whose f′(z) is below the threshold directly', () => {
    const random = createRandom(11);
    for (const activation of ['sigmoid', 'tanh'] as const) {
      const fn = ACTIVATION_FUNCTIONS[activation];
      const neurons = 40;
      const samples = 16;
      // Each neuron its own spread of z, from the working range to deep saturation.
      const preActivation = Array.from(
        { length: samples * neurons },
        (_, index) => random.normal() * (0.5 + ((index % neurons) / neurons) * 30),
      );
      const values = preActivation.map((z) => Math.fround(fn.forward(z)));
      const expected = Array.from({ length: neurons }, (_, neuron) => {
        let below = 0;
        for (let sample = 0; sample < samples; sample++) {
          const index = sample * neurons + neuron;
          if (fn.derivative(preActivation[index]!, values[index]!) < SATURATION.derivativeFraction * fn.maxDerivative) below++;
        }
        return below >= SATURATION.sampleFraction * samples ? 1 : 0;
      });
      const { flags, count } = inactiveOf(activation, new Array<number>(neurons).fill(0.5), values);
      expect(flags, activation).toEqual(expected);
      expect(count).toBe(expected.filter(Boolean).length);
      // Both kinds occur, so the comparison means something.
      expect(count).toBeGreaterThan(5);
      expect(count).toBeLessThan(neurons - 5);
    }
  });

  it('is described once per activation, in words with the thresholds', () => {
    const words = Object.fromEntries(ACTIVATIONS.map((name) => [name, ACTIVATION_FUNCTIONS[name].inactiveMeans(SATURATION)]));
    expect(words.relu).toContain('z ≤ 0 on every sample of the batch');
    expect(words['leaky-relu']).toContain('z ≤ 0 on every sample of the batch');
    expect(words.sigmoid).toContain('f′(z) below 5% of its maximum (output below 0.0127 or above 0.987) on at least 75% of the batch');
    expect(words.tanh).toContain('(output below −0.975 or above 0.975)');
    expect(words.linear).toMatch(/^never/);
    expect(ACTIVATION_FUNCTIONS.tanh.inactiveMeans({ derivativeFraction: 0.1, sampleFraction: 0.5 })).toContain('below 10% of its maximum');
  });
});

/**
 * Recorded fraction inactive of every hidden layer at every step whose weights are all kept, against a
 * float64 pass (core/nn/mlp.ts) over the step's batch. A neuron within rounding of its rule's boundary
 * (|z| or f′ − limit within 1e-4 of its scale) may go either way; there must be few such.
 */
async function compareWithReference(directory: string): Promise<{ checkedSteps: number; layersSeen: Set<number> }> {
  const dataset = loadDataset('mnist-embedded');
  const run = await openRunFolder(directory);
  const { config } = run.manifest;
  const fn = ACTIVATION_FUNCTIONS[config.activation];
  const sizes = run.manifest.layers.map((layer) => layer.size);
  const inputSize = sizes[0]!;
  const limit = config.diagnostics.saturation.derivativeFraction * fn.maxDerivative;
  const chunk = await run.readSteps(0);
  expect(chunk.problems).toEqual([]);
  const kept = await Promise.all(sizes.slice(1).map((_, index) => run.readWeights(0, index + 1)));
  let checkedSteps = 0;
  let borderline = 0;
  const layersSeen = new Set<number>();
  for (let row = 0; row < chunk.rows; row++) {
    const step = chunk.firstStep + row;
    const layers: DenseLayer[] = [];
    for (let index = 0; index < kept.length; index++) {
      const at = Array.from(kept[index]!.values.get('snapshotStep')!).indexOf(step);
      if (at < 0) break;
      const fanIn = sizes[index]!;
      const fanOut = sizes[index + 1]!;
      const weight = kept[index]!.values.get('weight')!.subarray(at * fanIn * fanOut, (at + 1) * fanIn * fanOut);
      layers.push({ fanIn, fanOut, weight, bias: kept[index]!.values.get('bias')!.subarray(at * fanOut, (at + 1) * fanOut) });
    }
    if (layers.length < kept.length) continue;
    checkedSteps++;
    const batch = chunk.values.get('batchIndices')!.subarray(row * config.batchSize, (row + 1) * config.batchSize);
    const trace = createTrace(layers);
    // Per hidden layer and neuron: samples surely past the rule's boundary, and samples within rounding of it.
    const sure = sizes.slice(1, -1).map((neurons) => new Int32Array(neurons));
    const unsure = sizes.slice(1, -1).map((neurons) => new Int32Array(neurons));
    for (const sample of batch) {
      const image = dataset.train.images.subarray(sample * inputSize, (sample + 1) * inputSize);
      forwardSample(layers, config.activation, image, nonZeroIndices(image), trace);
      sure.forEach((counts, layer) => {
        const pre = trace.preActivation[layer]!;
        const post = trace.activation[layer]!;
        for (let neuron = 0; neuron < counts.length; neuron++) {
          // ReLU: counts samples with z > 0 (the neuron is inactive when there are none); sigmoid/tanh: saturated samples.
          const margin = fn.inactiveRule === 'silent' ? pre[neuron]! : limit - fn.derivative(pre[neuron]!, post[neuron]!);
          if (Math.abs(margin) < 1e-4 * (fn.inactiveRule === 'silent' ? 1 : fn.maxDerivative)) unsure[layer]![neuron]!++;
          else if (margin > 0) counts[neuron]!++;
        }
      });
    }
    sure.forEach((counts, layer) => {
      let surelyInactive = 0;
      let either = 0;
      for (let neuron = 0; neuron < counts.length; neuron++) {
        const certain = counts[neuron]!;
        const possible = certain + unsure[layer]![neuron]!;
        if (fn.inactiveRule === 'silent') {
          if (possible === 0) surelyInactive++;
          else if (certain === 0) either++;
        } else {
          const needed = config.diagnostics.saturation.sampleFraction * batch.length;
          if (certain >= needed) surelyInactive++;
          else if (possible >= needed) either++;
        }
      }
      borderline += either;
      const neurons = counts.length;
      const recorded = chunk.values.get('fractionInactive', layer + 1)![row]!;
      expect(recorded * neurons, `step ${step} layer ${layer + 1}`).toBeGreaterThanOrEqual(surelyInactive - 1e-4);
      expect(recorded * neurons, `step ${step} layer ${layer + 1}`).toBeLessThanOrEqual(surelyInactive + either + 1e-4);
      if (surelyInactive > 0) layersSeen.add(layer + 1);
    });
    // The output layer has no such state.
    expect(chunk.values.get('fractionInactive', sizes.length - 1)![row]).toBeNaN();
  }
  expect(borderline).toBeLessThanOrEqual(2);
  return { checkedSteps, layersSeen };
}

describe('the recorded layerK.fractionInactive', () => {
  const out = tempDir('inactive');
  const STEPS = ['--max-steps', '24'];

  beforeAll(async () => {
    const runs = [
      // ReLU with a learning rate high enough that some neurons go silent on whole batches.
      ['relu', '--lr', '1'],
      // tanh with large weights: many units saturated.
      ['tanh', '--activation', 'tanh', '--init', 'normal', '--init-std', '1.5'],
      ['sigmoid', '--activation', 'sigmoid', '--init', 'normal', '--init-std', '1'],
    ];
    for (const [name, ...flags] of runs) {
      const result = await runRecorder([...TINY, ...STEPS, ...flags, '--out', out, '--name', name!]);
      expect(result.code, result.stderr).toBe(0);
    }
  }, 120_000);

  it.each(['relu', 'tanh', 'sigmoid'])('%s: equals the rule applied to a float64 pass over each step’s batch', async (name) => {
    const { checkedSteps, layersSeen } = await compareWithReference(join(out, name));
    expect(checkedSteps).toBeGreaterThanOrEqual(20);
    // Some inactive neurons in some layer at some step, so the comparison means something.
    expect(layersSeen.size).toBeGreaterThan(0);
  });

  it('is absent from a run of schemaVersion 3, which reads as "not recorded" (NaN in histories), never zero', async () => {
    const directory = join(out, 'relu-v3');
    cpSync(join(out, 'relu'), directory, { recursive: true });
    const current = await openRunFolder(directory);
    expect(current.manifest.schemaVersion).toBe(4);
    const recorded = (await current.readSteps(0)).values;
    expect(recorded.get('fractionInactive', 1)).toBeDefined();
    // The same run as version 3 wrote it: the step file without the column, run.json without neuronSteps.
    const manifestFile = join(directory, 'run.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { schemaVersion: number; findings: Record<string, unknown>[] };
    manifest.schemaVersion = 3;
    for (const finding of manifest.findings) delete finding.neuronSteps;
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const chunk = await current.readSteps(0);
    const v3Columns = stepColumns({ ...current.shape, schemaVersion: 3 });
    expect(v3Columns.some((column) => column.quantity === 'fractionInactive')).toBe(false);
    writeFileSync(
      join(directory, current.manifest.chunks[0]!.file),
      encodeStream(v3Columns, chunk.values.byColumnName() as never, chunk.rows),
    );

    const old = await openRunFolder(directory);
    expect(old.manifest.schemaVersion).toBe(3);
    expect(recordedIn('fractionInactive', old.manifest.schemaVersion)).toBe(false);
    expect(old.manifest.findings.every((finding) => finding.neuronSteps === null)).toBe(true);
    const oldChunk = await old.readSteps(0);
    expect(oldChunk.problems).toEqual([]);
    expect(oldChunk.values.get('fractionInactive', 1)).toBeUndefined();
    expect(oldChunk.values.get('fractionActive', 1)).toEqual(chunk.values.get('fractionActive', 1));
    const history = layerHistory([oldChunk], 1, 'fractionInactive');
    expect(history).toHaveLength(oldChunk.rows);
    expect(history.every(Number.isNaN)).toBe(true);
    // Read as version 4, the same file lacks a column that version must have.
    await expect(current.readSteps(0)).rejects.toThrow(/missing column "layer1\.fractionInactive"/);
  });
});
