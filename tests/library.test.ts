/**
 * The library (recorder/library/): a user's own TensorFlow.js model recorded through `fit` (mode 1)
 * and through the step API in the user's own loop (mode 3) records the same values as the built-in
 * recorder, for the same network, initial weights and batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { initialLayers } from '../core/nn/init.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import { loadDataset } from '../datasets/index.js';
import { describeModel } from '../recorder/library/model-spec.js';
import { crossEntropy, Recorder } from '../recorder/library/recorder.js';
import { openRunFolder } from '../recorder/open-run.js';
import { recordRun } from '../recorder/record.js';
import { tempDir } from './helpers.js';

const dataset = loadDataset('mnist-embedded');
const config = resolveConfig({ layers: [16, 8], batchSize: 32, probes: 4, evalEvery: 10, maxSteps: 40, seed: 42, epochs: 1 });
const sizes = [784, 16, 8, 10];

/** The built-in network as a tfjs LayersModel with the built-in recorder's initial weights. */
function modelWithBuiltInWeights(metrics: string[] = []): tfl.LayersModel {
  const model = tfl.sequential({
    name: 'mlp',
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28] }),
      tfl.layers.dense({ units: 16, activation: 'relu' }),
      tfl.layers.dense({ units: 8, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const initial = initialLayers(config, sizes);
  model.setWeights(initial.flatMap((layer) => [tf.tensor2d(layer.weight, [layer.fanIn, layer.fanOut]), tf.tensor1d(layer.bias)]));
  model.compile({ optimizer: tf.train.sgd(config.learningRate), loss: 'categoricalCrossentropy', metrics });
  return model;
}

/** Every step column of a run, concatenated over its chunks, by column name. */
async function stepValues(directory: string): Promise<Map<string, number[]>> {
  const run = await openRunFolder(directory);
  const columns = new Map<string, number[]>();
  for (let chunk = 0; chunk < run.manifest.chunks.length; chunk++) {
    const data = await run.readSteps(chunk);
    for (const [name, column] of Object.entries(data.values.byColumnName())) {
      const list = columns.get(name) ?? [];
      if (Array.isArray(column)) list.push(...column.map(Number));
      else if ('valid' in column) column.values.forEach((value, index) => list.push(column.valid[index] ? value : Number.NaN));
      else list.push(...column);
      columns.set(name, list);
    }
  }
  return columns;
}

/**
 * Every recorded value within TOLERANCE × (10⁻³ + |built-in value|): float32 arithmetic done in another
 * order (the built-in first layer sums only non-zero pixels) over 40 steps of training. Measured: at most
 * 1.1e-4 (layer 1's probe activations), most columns below 1e-5.
 */
const TOLERANCE = 5e-4;

/** Largest |a − b| / (1e-3 + |b|) over a column. */
function worstDifference(actual: number[], expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((value, index) => {
    const reference = expected[index]!;
    if (Number.isNaN(value) && Number.isNaN(reference)) return;
    worst = Math.max(worst, Math.abs(value - reference) / (1e-3 + Math.abs(reference)));
  });
  return worst;
}

describe('the library', () => {
  const out = tempDir('library');
  const train = () => ({
    x: tf.tensor3d(dataset.train.images, [dataset.train.count, 28, 28]),
    y: tf.tensor1d(Int32Array.from(dataset.train.labels), 'int32'),
  });
  const heldOut = () => ({
    x: tf.tensor3d(dataset.test.images, [dataset.test.count, 28, 28]),
    y: tf.tensor1d(Int32Array.from(dataset.test.labels), 'int32'),
  });
  const recorderOptions = (name: string) => ({
    out,
    name,
    heldOut: heldOut(),
    probes: 4,
    evalEvery: 10,
    classNames: dataset.classNames,
    dataName: 'mnist-embedded',
  });
  let builtIn: Map<string, number[]>;

  beforeAll(async () => {
    await recordRun({ config, name: 'built-in', out, reproduce: () => 'test' });
    builtIn = await stepValues(join(out, 'built-in'));
  }, 120_000);

  it('mode 1, fit: the same values as the built-in recorder', async () => {
    const model = modelWithBuiltInWeights();
    const { x, y } = train();
    const result = await new Recorder(recorderOptions('fit')).fit(model, x, y, { epochs: 1, batchSize: 32, seed: 42, maxSteps: 40 });
    expect(result).toMatchObject({ status: 'complete', stepCount: 40 });
    const recorded = await stepValues(join(out, 'fit'));
    expect([...recorded.keys()].sort()).toEqual([...builtIn.keys()].sort());
    for (const [name, values] of builtIn) expect(worstDifference(recorded.get(name)!, values), name).toBeLessThan(TOLERANCE);
    const run = await openRunFolder(join(out, 'fit'));
    expect(run.manifest.source).toMatchObject({ mode: 'fit', model: 'mlp', loss: 'categoricalCrossentropy' });
    expect(run.manifest.config).toMatchObject({ init: 'model', optimizer: 'sgd', learningRate: config.learningRate, layers: [16, 8] });
  }, 120_000);

  it('mode 3, the user’s own loop: the same values as the built-in recorder', async () => {
    const model = modelWithBuiltInWeights();
    const optimizer = tf.train.sgd(config.learningRate);
    const recorder = new Recorder(recorderOptions('step'));
    await recorder.start(model, { optimizer, steps: 40, batchSize: 32 });
    // The built-in recorder's batches.
    const order = Int32Array.from({ length: dataset.train.count }, (_, index) => index);
    shuffleInPlace(order, createRandom((config.seed ^ 0x9e3779b9) >>> 0));
    const { x, y } = train();
    for (let step = 0; step < 40; step++) {
      const indices = order.slice(step * 32, (step + 1) * 32);
      const [xb, yb] = tf.tidy(() => [tf.gather(x, tf.tensor1d(indices, 'int32')), tf.gather(y, tf.tensor1d(indices, 'int32'))]);
      const recording = recorder.beginStep(xb!, yb!, { indices });
      const { value, grads } = optimizer.computeGradients(() => recording.loss());
      recording.gradients(grads);
      optimizer.applyGradients(grads);
      await recording.commit();
      tf.dispose([xb!, yb!, value, ...Object.values(grads)]);
    }
    const result = await recorder.finish();
    expect(result).toMatchObject({ status: 'complete', stepCount: 40 });
    const recorded = await stepValues(join(out, 'step'));
    for (const [name, values] of builtIn) expect(worstDifference(recorded.get(name)!, values), name).toBeLessThan(TOLERANCE);
  }, 120_000);

  it('mode 2, callbacks for the user’s model.fit: records what it says it records, as mode 3 does on the same batches', async () => {
    const steps = 40;
    const count = steps * 32;
    const x = tf.tensor3d(dataset.train.images.subarray(0, count * 784), [count, 28, 28]);
    const labels = tf.tensor1d(Int32Array.from(dataset.train.labels.subarray(0, count)), 'int32');
    const y = tf.cast(tf.oneHot(labels, 10), 'float32');
    const recorder = new Recorder(recorderOptions('callbacks'));
    await modelWithBuiltInWeights(['accuracy']).fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, callbacks: recorder.callbacks() });
    expect(recorder.result).toMatchObject({ status: 'complete', stepCount: steps });

    // Mode 3 on the same batches, in order: what mode 2 records must be the same.
    const model = modelWithBuiltInWeights();
    const optimizer = tf.train.sgd(config.learningRate);
    const reference = new Recorder(recorderOptions('in-order'));
    await reference.start(model, { optimizer, steps, batchSize: 32 });
    for (let step = 0; step < steps; step++) {
      const [xb, yb] = tf.tidy(() => [tf.slice(x, [step * 32, 0, 0], [32, -1, -1]), tf.slice(labels, [step * 32], [32])]);
      const recording = reference.beginStep(xb!, yb!);
      const { value, grads } = optimizer.computeGradients(() => recording.loss());
      optimizer.applyGradients(grads);
      await recording.commit();
      tf.dispose([xb!, yb!, value, ...Object.values(grads)]);
    }
    await reference.finish();

    const run = await openRunFolder(join(out, 'callbacks'));
    expect(run.manifest.source?.mode).toBe('callbacks');
    const absent = new Set(run.manifest.source!.absent.map((entry) => entry.quantity));
    expect([...absent].sort()).toEqual(
      [
        'batchIndices',
        'biasGrad',
        'classActivation',
        'fractionActive',
        'fractionInactive',
        'gradNorm',
        'gradPreActivation',
        'meanActivation',
        'meanInput',
        'weightGrad',
        'weightGradCode',
        'weightGradScale',
      ].sort(),
    );
    const recorded = await stepValues(join(out, 'callbacks'));
    const expected = await stepValues(join(out, 'in-order'));
    let compared = 0;
    for (const [name, values] of expected) {
      const quantity = name.replace(/^layer\d+\./, '');
      if (absent.has(quantity)) {
        const unknown = quantity === 'batchIndices' ? -1 : Number.NaN;
        expect(
          recorded.get(name)!.every((value) => Object.is(value, unknown)),
          `${name} is absent`,
        ).toBe(true);
      } else {
        expect(worstDifference(recorded.get(name)!, values), name).toBeLessThan(TOLERANCE);
        compared++;
      }
    }
    // step, epoch, loss, accuracy, the probes' predictions and losses, the held-out loss and accuracy; per
    // layer the weight norm, update ratio, and the probes' activations and gradients.
    expect(compared).toBe(8 + 3 * 4);
  }, 120_000);
});

describe('the library refuses bad input before writing anything', () => {
  const out = tempDir('library-refusals');
  const small = (layers: tfl.layers.Layer[]) => {
    const model = tfl.sequential({ name: 'small', layers });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    return model;
  };
  const dense = () =>
    small([tfl.layers.dense({ inputShape: [4], units: 5, activation: 'relu' }), tfl.layers.dense({ units: 3, activation: 'softmax' })]);
  const x = () =>
    tf.tensor2d(
      Float32Array.from({ length: 40 }, (_, index) => (index % 7) / 7),
      [10, 4],
    );
  const y = (labels: number[] = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]) => tf.tensor1d(labels, 'int32');
  const fit = (name: string, model: tfl.LayersModel, inputs: tf.Tensor, labels: tf.Tensor, classNames?: string[]) =>
    new Recorder({ out, name, ...(classNames ? { classNames } : {}) }).fit(model, inputs, labels, { batchSize: 5 });

  it.each([
    [
      'an unsupported layer, named with its class',
      () =>
        fit(
          'conv',
          small([
            tfl.layers.conv1d({ inputShape: [4, 1], filters: 2, kernelSize: 2, name: 'features' }),
            tfl.layers.flatten(),
            tfl.layers.dense({ units: 3, activation: 'softmax' }),
          ]),
          tf.zeros([10, 4, 1]),
          y(),
        ),
      /layer "features" \(Conv1D\) is not supported \(supported: an optional Flatten first/,
    ],
    [
      'an output that is not softmax',
      () => fit('no-softmax', small([tfl.layers.dense({ inputShape: [4], units: 3, activation: 'relu' })]), x(), y()),
      /the last Dense layer "dense_Dense\d+" has activation relu; expected a softmax output/,
    ],
    [
      'a model whose output size does not match the class names',
      () => fit('classes', dense(), x(), y(), ['a', 'b']),
      /classNames: 2 names; the model "small" has 3 output classes/,
    ],
    [
      'a label out of range',
      () => fit('labels', dense(), x(), y([0, 1, 2, 0, 1, 2, 0, 7, 2, 0])),
      /y: label 7 of sample 7 is not a class index 0–2/,
    ],
    [
      'NaN in the data',
      () =>
        fit(
          'nan',
          dense(),
          tf.tensor2d(
            Float32Array.from({ length: 40 }, (_, index) => (index === 13 ? Number.NaN : 0)),
            [10, 4],
          ),
          y(),
        ),
      /x: sample 3, feature 1 is NaN; every input value must be a finite number/,
    ],
    [
      'inputs of another shape',
      () => fit('shape', dense(), tf.zeros([10, 5]), y()),
      /x: shape \[10, 5\]; the model "small" expects \[samples, 4\]/,
    ],
  ])('%s', async (_case, attempt, message) => {
    await expect(attempt()).rejects.toThrow(message);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});

describe('Dropout', () => {
  it('is read as the rate after its Dense layer; two in a row drop with 1 − (1 − a)(1 − b)', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [4], units: 5, activation: 'relu' }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.dropout({ rate: 0.2 }),
        tfl.layers.dense({ units: 6, activation: 'tanh' }),
        tfl.layers.dropout({ rate: 0.1 }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    expect(describeModel(model).layers.map((layer) => layer.dropout)).toEqual([1 - 0.5 * 0.8, 0.1, 0]);
  });
});

describe('a model whose hidden layers have different activations', () => {
  it('is recorded with each layer’s own: the held-out evaluation agrees with the model’s, inactive is judged by each layer’s rule', async () => {
    const out = tempDir('library-mixed');
    const model = tfl.sequential({
      name: 'mixed',
      layers: [
        tfl.layers.flatten({ inputShape: [28, 28] }),
        tfl.layers.dense({ units: 12, activation: 'relu' }),
        tfl.layers.dense({ units: 8, activation: 'tanh' }),
        tfl.layers.dense({ units: 6, activation: 'sigmoid' }),
        tfl.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    const x = tf.tensor3d(dataset.train.images.subarray(0, 320 * 784), [320, 28, 28]);
    const y = tf.tensor1d(Int32Array.from(dataset.train.labels.subarray(0, 320)), 'int32');
    const heldOut = {
      x: tf.tensor3d(dataset.test.images, [dataset.test.count, 28, 28]),
      y: tf.tensor1d(Int32Array.from(dataset.test.labels), 'int32'),
    };
    const result = await new Recorder({ out, name: 'mixed', heldOut, probes: 4 }).fit(model, x, y, { epochs: 1, batchSize: 32 });
    expect(result.status).toBe('complete');
    const run = await openRunFolder(join(out, 'mixed'));
    expect(run.manifest.layers.slice(1).map((layer) => (layer as { activation: string }).activation)).toEqual([
      'relu',
      'tanh',
      'sigmoid',
      'softmax',
    ]);
    // The writer's held-out evaluation runs each layer with its own activation: the same loss as the trained model gives.
    const probabilities = model.predict(heldOut.x) as tf.Tensor2D;
    const oneHot = tf.cast(tf.oneHot(heldOut.y, 10), 'float32') as tf.Tensor2D;
    const expected = (await crossEntropy(probabilities, oneHot).data())[0]!;
    expect(Math.abs(result.finalEval!.loss! - expected) / expected).toBeLessThan(1e-4);
    // Inactive by each layer's rule: a relu layer by silence (a fraction of its neurons), tanh and sigmoid by saturation.
    const steps = await run.readSteps(0);
    for (const layer of [1, 2, 3]) expect(Number.isFinite(steps.values.get('fractionInactive', layer)![0]), `layer ${layer}`).toBe(true);
  }, 120_000);
});
