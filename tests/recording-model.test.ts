/**
 * The recorder's model (first layer in the sparse WebAssembly kernel, probe rows in the same
 * pass, upper layers in the kernel's dense products or in TensorFlow.js) against the straightforward
 * computation: the dense TensorFlow.js model (model.ts), step by step on real MNIST batches, from the
 * same weights.
 *
 * Tolerance, stated once: every recorded value x of an array whose reference is r satisfies
 * |x − r| ≤ 1e-4 · (max|r| + |r|) (1e-3 with Adam, see ADAM_TOLERANCE). The two differ only in the order float32 sums are taken
 * (the kernels add in input order, the dense engine in its own blocks),
 * about 1e-6 relative per product, and training carries that forward from step to step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type Optimizer } from '../core/config.js';
import type { Activation } from '../core/nn/activation.js';
import { initialLayers } from '../core/nn/init.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import { loadDataset } from '../datasets/index.js';
import { selectEngine } from '../recorder/engine.js';
import { readFileSync } from 'node:fs';
import { compileKernel, KERNEL_BINARY } from '../recorder/kernel/build.js';
import { compressSamples, FirstLayerKernel } from '../recorder/kernel/first-layer.js';
import { TfMlp } from '../recorder/model.js';
import { BufferPool } from '../recorder/readback.js';
import { RecordingMlp } from '../recorder/recording-model.js';
import { HiddenStatsKernel } from '../recorder/kernel/hidden-stats.js';
import { UpperLayersKernel } from '../recorder/kernel/upper-layers.js';
import { neuronStats } from '../core/nn/batch-stats.js';

const STEPS = 24;
/**
 * Adam divides each update by √s + ε: where |∂L/∂W| is near ε (1e-7), rounding differences of
 * the gradient move the update by a visible fraction of the learning rate, and later steps carry
 * that on. Its allowance is ten times wider.
 */
const ADAM_TOLERANCE = 1e-3;
const PROBES = 16;

beforeAll(async () => {
  await selectEngine('wasm');
});

/** The largest |x − r| over the allowance (`tolerance` · (max|r| + |r|)), as a fraction of it (≤ 1 passes). */
function worstRatio(actual: ArrayLike<number>, reference: ArrayLike<number>, tolerance = 1e-4): number {
  expect(actual.length).toBe(reference.length);
  let scale = 0;
  for (let index = 0; index < reference.length; index++) scale = Math.max(scale, Math.abs(reference[index]!));
  let worst = 0;
  for (let index = 0; index < reference.length; index++) {
    const allowed = tolerance * (scale + Math.abs(reference[index]!));
    worst = Math.max(worst, Math.abs(actual[index]! - reference[index]!) / (allowed || Number.MIN_VALUE));
  }
  return worst;
}

describe('the recording model against the dense TensorFlow.js model', () => {
  const dataset = loadDataset('mnist-embedded');
  const inputSize = 784;
  const train = compressSamples(dataset.train.images, inputSize);
  const probeImages = dataset.test.images.subarray(0, PROBES * inputSize);
  const probeLabels = dataset.test.labels.subarray(0, PROBES);

  // Leaky ReLU is checked against the engine's upper layers below, over a few steps: over 24, a z
  // near 0 whose sign the kernel's rounding flips takes the other branch of f′ (1 or 0.01), a kink
  // that no float32 tolerance covers. (ReLU's kink is the same; its runs here happen not to meet one.)
  // In the engine, 784-256-128-10 takes the other backward product for its 256×128 layer ((W·gᵀ)ᵀ, see recording-model.ts).
  it.each([
    ['sgd', 'relu', [128, 64], 'kernel'],
    ['momentum', 'relu', [128, 64], 'kernel'],
    ['adam', 'relu', [128, 64], 'kernel'],
    ['sgd', 'relu', [256, 128], 'kernel'],
    ['momentum', 'linear', [64, 32, 16], 'kernel'],
    // Widths that are not multiples of 4, 16 or 32: every product's and transpose's remainder path.
    ['sgd', 'relu', [39, 15], 'kernel'],
    ['sgd', 'relu', [128, 64], 'engine'],
    ['adam', 'relu', [128, 64], 'engine'],
    ['sgd', 'relu', [256, 128], 'engine'],
    ['sgd', 'tanh', [128, 64], 'engine'],
  ] as [Optimizer, Activation, number[], 'kernel' | 'engine'][])(
    `%s, %s, hidden layers %j, upper layers in the %s: every recorded value within float32 tolerance for ${STEPS} steps`,
    (optimizer, activation, layers, upperLayers) => {
      const config = resolveConfig({ optimizer, activation, engine: 'wasm', layers });
      const sizes = [inputSize, ...config.layers, 10];
      const initial = initialLayers(config, sizes);
      const reference = new TfMlp(config, initial);
      const model = new RecordingMlp({
        config,
        initial,
        train,
        probes: { samples: compressSamples(probeImages, inputSize), labels: probeLabels },
        upperLayers,
      });
      // tanh has no kernel: the model trains it in the engine whatever it was asked.
      expect(model.upperLayers).toBe(activation === 'tanh' ? 'engine' : upperLayers);
      const pool = new BufferPool();
      const order = Int32Array.from({ length: dataset.train.count }, (_, index) => index);
      shuffleInPlace(order, createRandom(5));
      const labels = new Int32Array(config.batchSize);
      const inputs = new Float32Array(config.batchSize * inputSize);
      let worst = 0;
      const check = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => {
        const ratio = worstRatio(actual, expected, optimizer === 'adam' ? ADAM_TOLERANCE : 1e-4);
        worst = Math.max(worst, ratio);
        expect(ratio, what).toBeLessThanOrEqual(1);
      };
      for (let step = 0; step < STEPS; step++) {
        const batch = order.subarray(step * config.batchSize, (step + 1) * config.batchSize);
        batch.forEach((sample, row) => {
          labels[row] = dataset.train.labels[sample]!;
          inputs.set(dataset.train.images.subarray(sample * inputSize, (sample + 1) * inputSize), row * inputSize);
        });
        const expected = reference.step(inputs, labels);
        const actual = model.step(batch, labels, pool);
        const before = model.previousWeights(pool);
        for (let layer = 0; layer < sizes.length - 1; layer++) {
          const width = config.batchSize * sizes[layer + 1]!;
          const at = `step ${step} layer ${layer + 1}`;
          check(`${at} z`, actual.preActivation[layer]!.subarray(0, width), expected.preActivation[layer]!);
          if (layer < sizes.length - 2) check(`${at} f(z)`, actual.activation[layer]!.subarray(0, width), expected.activation[layer]!);
          check(`${at} ∂L/∂z`, actual.gradPreActivation[layer]!.subarray(0, width), expected.gradPreActivation[layer]!);
          check(`${at} weights before the update`, before.weights[layer]!, expected.weights[layer]!);
          check(`${at} biases before the update`, before.biases[layer]!, expected.biases[layer]!);
          const grads = model.readGrads(layer + 1, pool);
          const expectedGrads = reference.readGrads(layer + 1);
          check(`${at} ∂L/∂W`, grads.weightGrad, expectedGrads.weightGrad);
          check(`${at} ∂L/∂b`, grads.biasGrad, expectedGrads.biasGrad);
        }
        check(`step ${step} ‖∂L/∂W‖`, actual.gradNorms, expected.gradNorms);
        check(`step ${step} ‖ΔW‖`, actual.updateNorms, expected.updateNorms);
        const weightNorms = expected.weights.map((weights) => Math.sqrt(weights.reduce((sum, weight) => sum + weight * weight, 0)));
        check(`step ${step} ‖W‖`, actual.weightNorms, weightNorms);
      }
      const after = model.snapshot();
      const expectedAfter = reference.snapshot();
      after.weights.forEach((weights, layer) =>
        check(`weights after ${STEPS} steps, layer ${layer + 1}`, weights, expectedAfter.weights[layer]!),
      );
      // Memory stays flat: a step leaves as many engine tensors as it found.
      const held = tf.memory().numTensors;
      model.step(order.subarray(0, config.batchSize), labels, pool);
      expect(tf.memory().numTensors).toBe(held);
      reference.dispose();
      model.dispose();
      // The actual agreement, for the record: far inside the allowance.
      expect(worst).toBeLessThan(0.5);
    },
  );
});

describe("the upper layers in the kernel against the engine's, probe rows included", () => {
  it.each([
    ['relu', 'sgd'],
    ['leaky-relu', 'momentum'],
    ['linear', 'adam'],
  ] as [Activation, Optimizer][])(
    '%s, %s: every row of every recorded array within the same tolerance for 4 steps',
    (activation, optimizer) => {
      const dataset = loadDataset('mnist-embedded');
      const inputSize = 784;
      const config = resolveConfig({ engine: 'wasm', layers: [128, 64], activation, optimizer });
      const initial = initialLayers(config, [inputSize, 128, 64, 10]);
      const train = compressSamples(dataset.train.images, inputSize);
      const probes = {
        samples: compressSamples(dataset.test.images.subarray(0, PROBES * inputSize), inputSize),
        labels: dataset.test.labels.subarray(0, PROBES),
      };
      const [kernel, engine] = (['kernel', 'engine'] as const).map(
        (upperLayers) => new RecordingMlp({ config, initial, train, probes, upperLayers }),
      );
      const pool = new BufferPool();
      const labels = new Int32Array(config.batchSize);
      for (let step = 0; step < 4; step++) {
        const batch = Int32Array.from({ length: config.batchSize }, (_, row) => (step * config.batchSize + row) % dataset.train.count);
        batch.forEach((sample, row) => (labels[row] = dataset.train.labels[sample]!));
        const [fromKernel, fromEngine] = [kernel!.step(batch, labels, pool), engine!.step(batch, labels, pool)];
        for (const key of ['preActivation', 'activation', 'gradPreActivation'] as const) {
          fromEngine[key].forEach((expected, layer) => {
            // Batch rows, then the 16 probe rows.
            expect(fromKernel[key][layer]!.length).toBe((config.batchSize + PROBES) * [128, 64, 10][layer]!);
            expect(worstRatio(fromKernel[key][layer]!, expected), `step ${step} ${key} layer ${layer + 1}`).toBeLessThanOrEqual(1);
          });
        }
        for (const key of ['weightNorms', 'gradNorms', 'updateNorms'] as const)
          expect(worstRatio(fromKernel[key], fromEngine[key]), `step ${step} ${key}`).toBeLessThanOrEqual(1);
      }
      const [after, expected] = [kernel!.snapshot(), engine!.snapshot()];
      after.weights.forEach((weights, layer) =>
        expect(worstRatio(weights, expected.weights[layer]!), `layer ${layer + 1}`).toBeLessThanOrEqual(1),
      );
      kernel!.dispose();
      engine!.dispose();
    },
  );
});

describe('where the upper layers train', () => {
  it('in the kernel unless their arrays would not fit in its memory', () => {
    expect(UpperLayersKernel.fits([784, 128, 64, 10], 80, 'sgd')).toBe(true);
    expect(UpperLayersKernel.fits([784, 4096, 4096, 10], 1040, 'adam')).toBe(true);
    expect(UpperLayersKernel.fits([784, ...Array.from({ length: 8 }, () => 4096), 10], 1040, 'adam')).toBe(false);
  });
});

describe("the writer's hidden-layer statistics in the kernel", () => {
  it('are the same bits as neuronStats, NaN and ±Inf included, and refuse a label outside the classes', () => {
    const random = createRandom(11);
    const [rows, neurons, classes] = [48, 37, 10];
    const values = () => Float32Array.from({ length: (rows + 16) * neurons }, () => (random.next() - 0.4) * 3);
    const [pre, grad] = [values(), values()];
    pre[5] = 0;
    pre[6] = Number.NaN;
    grad[7] = Number.POSITIVE_INFINITY;
    const post = pre.subarray(0, rows * neurons).map((z) => Math.max(0, z));
    post[40] = Number.NaN;
    const labels = Uint8Array.from({ length: rows }, () => Math.floor(random.next() * (classes - 1)));
    const outputs = () => ({
      stats: {
        meanActivation: new Float32Array(neurons),
        fractionActive: new Float32Array(neurons),
        gradPreActivation: new Float32Array(neurons),
      },
      byClass: { classActivation: new Float32Array(neurons * classes), classValid: new Uint8Array(classes) },
    });
    const [expected, actual] = [outputs(), outputs()];
    neuronStats(pre, post, grad, rows, expected.stats, { labels, out: expected.byClass });
    const kernel = new HiddenStatsKernel(64, 128, classes);
    kernel.stats(pre, post, grad, rows, labels, actual.stats, actual.byClass);
    expect(actual).toEqual(expected);
    // The last class is absent from these rows: no mean for it.
    expect(actual.byClass.classValid.at(-1)).toBe(0);
    expect(Number.isNaN(actual.stats.meanActivation[40 % neurons]!)).toBe(true);
    expect(() => kernel.stats(pre, post, grad, rows, [...labels.subarray(0, rows - 1), classes], actual.stats, actual.byClass)).toThrow(
      `HiddenStatsKernel: row ${rows - 1} has label ${classes}, expected 0 … ${classes - 1}`,
    );
  });
});

describe('the first-layer kernel', () => {
  it('is committed as its source compiles (npm run build:kernel)', async () => {
    const compiled = await compileKernel();
    expect(
      Buffer.from(readFileSync(KERNEL_BINARY)).equals(Buffer.from(compiled)),
      'recorder/kernel/first-layer.wasm is stale: run npm run build:kernel',
    ).toBe(true);
  }, 60_000);

  /** Float64 reference of x·W + b for row-major inputs. */
  function denseForward(
    inputs: Float32Array,
    rows: number,
    inputSize: number,
    weight: Float32Array,
    bias: Float32Array,
    width: number,
  ): Float64Array {
    const out = new Float64Array(rows * width);
    for (let row = 0; row < rows; row++) {
      for (let j = 0; j < width; j++) {
        let sum = 0;
        for (let i = 0; i < inputSize; i++) sum += inputs[row * inputSize + i]! * weight[i * width + j]!;
        out[row * width + j] = sum + bias[j]!;
      }
    }
    return out;
  }

  it.each([1, 3, 7, 36, 130])(
    'width %i: forward, weight gradient and mean input match float64 dense products, empty samples included',
    (width) => {
      const random = createRandom(width);
      const inputSize = 50;
      const count = 12;
      // Mostly zeros, like MNIST; sample 4 is all zero and sample 9 all non-zero.
      const images = Float32Array.from({ length: count * inputSize }, (_, index) => {
        const sample = Math.floor(index / inputSize);
        if (sample === 4) return 0;
        return sample === 9 || random.next() < 0.3 ? random.next() : 0;
      });
      const weight = Float32Array.from({ length: inputSize * width }, () => random.normal());
      const bias = Float32Array.from({ length: width }, () => random.normal());
      const kernel = new FirstLayerKernel({
        inputSize,
        width,
        optimizer: 'sgd',
        weight,
        bias,
        sets: { all: compressSamples(images, inputSize) },
        groups: { rows: 6 },
      });
      const chosen = [9, 4, 0, 9, 11, 2];
      const rows = Float32Array.from(
        { length: chosen.length * inputSize },
        (_, index) => images[chosen[Math.floor(index / inputSize)]! * inputSize + (index % inputSize)]!,
      );
      kernel.select('rows', 'all', chosen);
      kernel.forward('rows');
      const expected = denseForward(rows, chosen.length, inputSize, weight, bias, width);
      expect(worstRatio(kernel.output.subarray(0, expected.length), expected)).toBeLessThanOrEqual(1);
      // ∂L/∂W = xᵀ·g, ∂L/∂b = Σ g.
      const grad = Float32Array.from({ length: chosen.length * width }, () => random.normal());
      kernel.gradOutput.set(grad);
      kernel.weightGradient('rows');
      const weightGrad = new Float64Array(inputSize * width);
      const biasGrad = new Float64Array(width);
      for (let row = 0; row < chosen.length; row++) {
        for (let j = 0; j < width; j++) {
          biasGrad[j]! += grad[row * width + j]!;
          for (let i = 0; i < inputSize; i++) weightGrad[i * width + j]! += rows[row * inputSize + i]! * grad[row * width + j]!;
        }
      }
      expect(worstRatio(kernel.weightGrad, weightGrad)).toBeLessThanOrEqual(1);
      expect(worstRatio(kernel.biasGrad, biasGrad)).toBeLessThanOrEqual(1);
      const means = Float64Array.from(
        { length: inputSize },
        (_, i) => chosen.reduce((sum, _sample, row) => sum + rows[row * inputSize + i]!, 0) / chosen.length,
      );
      expect(worstRatio(kernel.columnMeans('rows'), means)).toBeLessThanOrEqual(1);
    },
  );

  it('fuses the weight gradient and the update without changing a bit, for every optimizer', () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as Optimizer[]) {
      const random = createRandom(11);
      const inputSize = 40;
      const width = 37;
      const images = Float32Array.from({ length: 10 * inputSize }, () => (random.next() < 0.25 ? random.next() : 0));
      const weight = Float32Array.from({ length: inputSize * width }, () => random.normal());
      const bias = Float32Array.from({ length: width }, () => random.normal());
      const make = () =>
        new FirstLayerKernel({
          inputSize,
          width,
          optimizer,
          weight,
          bias,
          sets: { all: compressSamples(images, inputSize) },
          groups: { rows: 4 },
        });
      const separate = make();
      const fused = make();
      for (let step = 1; step <= 3; step++) {
        const rows = [step, 9, 0, step + 4];
        const grad = Float32Array.from({ length: rows.length * width }, () => random.normal());
        const scalars = {
          rate: 0.05,
          momentum: 0.9,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-7,
          correction1: 1 - 0.9 ** step,
          correction2: 1 - 0.999 ** step,
        };
        for (const kernel of [separate, fused]) {
          kernel.select('rows', 'all', rows);
          kernel.gradOutput.set(grad);
        }
        separate.weightGradient('rows');
        const expected = separate.update(scalars);
        const actual = fused.weightGradientAndUpdate('rows', scalars);
        fused.weightGradient('rows');
        expect(Array.from(fused.weightGrad), `${optimizer} step ${step} ∂L/∂W`).toEqual(Array.from(separate.weightGrad));
        expect(Array.from(fused.weight), `${optimizer} step ${step} weights`).toEqual(Array.from(separate.weight));
        expect(Array.from(fused.bias), `${optimizer} step ${step} biases`).toEqual(Array.from(separate.bias));
        expect(Array.from(fused.previous.weight)).toEqual(Array.from(separate.previous.weight));
        // The sums are taken in another order (per row, then over rows): equal to float32 rounding.
        for (const sum of ['paramSquares', 'gradSquares', 'deltaSquares'] as const) {
          expect(Math.abs(actual.weight[sum] - expected.weight[sum])).toBeLessThanOrEqual(1e-6 * expected.weight[sum]);
        }
        expect(actual.bias).toEqual(expected.bias);
      }
    }
  });

  it('refuses samples outside their set, more rows than the group holds, and unknown names', () => {
    const kernel = new FirstLayerKernel({
      inputSize: 4,
      width: 2,
      optimizer: 'sgd',
      weight: new Float32Array(8),
      bias: new Float32Array(2),
      sets: { all: compressSamples(new Float32Array(12), 4) },
      groups: { rows: 2 },
    });
    expect(() => kernel.select('rows', 'all', [3])).toThrow('sample 3 is not in set "all" (3 samples)');
    expect(() => kernel.select('rows', 'all', [0, 1, 2])).toThrow('3 rows, row group "rows" holds 2');
    expect(() => kernel.select('rows', 'none', [0])).toThrow('no sample set "none"');
    expect(() => kernel.forward('nothing')).toThrow('no row group "nothing"');
    expect(() => compressSamples(new Float32Array(5), 4)).toThrow('5 values is not a whole number of 4-pixel samples');
  });

  it('keeps the parameters from before the latest update, and applies each optimizer as TensorFlow.js does', () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as Optimizer[]) {
      const random = createRandom(3);
      const weight = Float32Array.from({ length: 6 }, () => random.normal());
      const bias = Float32Array.from({ length: 2 }, () => random.normal());
      const kernel = new FirstLayerKernel({
        inputSize: 3,
        width: 2,
        optimizer,
        weight,
        bias,
        sets: { all: compressSamples(new Float32Array(3).fill(1), 3) },
        groups: { rows: 1 },
      });
      kernel.select('rows', 'all', [0]);
      kernel.gradOutput.set([0.5, -0.25]);
      kernel.weightGradient('rows');
      const scalars = { rate: 0.1, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, correction1: 1 - 0.9, correction2: 1 - 0.999 };
      const sums = kernel.update(scalars);
      expect(Array.from(kernel.previous.weight)).toEqual(Array.from(weight));
      const variable = tf.variable(tf.tensor1d(weight));
      const grad = tf.tensor1d(kernel.weightGrad);
      const delta = tf.tidy(() => {
        if (optimizer === 'sgd') return tf.mul(grad, 0.1);
        if (optimizer === 'momentum') return tf.mul(tf.add(tf.mul(tf.zerosLike(grad), 0.9), grad), 0.1);
        const first = tf.add(tf.mul(tf.zerosLike(grad), 0.9), tf.mul(grad, 1 - 0.9));
        const second = tf.add(tf.mul(tf.zerosLike(grad), 0.999), tf.mul(tf.square(grad), 1 - 0.999));
        return tf.div(tf.mul(first, 0.1 / (1 - 0.9)), tf.add(tf.sqrt(tf.div(second, 1 - 0.999)), 1e-7));
      });
      const expected = tf.sub(variable, delta).dataSync();
      expect(Array.from(kernel.weight), optimizer).toEqual(Array.from(expected));
      expect(sums.weight.paramSquares).toBeCloseTo(
        weight.reduce((sum, value) => sum + value * value, 0),
        5,
      );
      tf.dispose([variable, grad, delta]);
    }
  });
});
