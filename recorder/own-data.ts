/**
 * `npm run record -- --data …` and `--model …`: the command line's way to a user's own data and own
 * saved model. The data is read and split (datasets/user-data.ts); the model is the saved tfjs
 * LayersModel, or the one the flags describe (`--layers`, `--activation`, `--init`, `--seed`) for the
 * data's input and classes; the library's `fit` trains and records it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../core/config.js';
import { initialLayers } from '../core/nn/init.js';
import { LEAKY_RELU_SLOPE } from '../core/nn/activation.js';
import { loadUserData, type UserDataset } from '../datasets/user-data.js';
import { selectEngine } from './engine.js';
import { Recorder, type LibraryRunResult } from './library/recorder.js';
import { UnsupportedModelError } from './library/model-spec.js';

export interface OwnDataOptions {
  config: Config;
  name: string;
  out: string;
  force: boolean;
  data: string;
  labels?: string | undefined;
  labelColumn?: string | undefined;
  heldOut: number;
  model?: string | undefined;
  reproduce: string;
  signal: AbortSignal;
  /** --pace: at most this many steps per second. */
  pace?: number | undefined;
  onStart?: (info: { data: UserDataset; model: tfl.LayersModel; plannedSteps: number }) => void;
  onStep?: (info: { step: number; loss: number; accuracy: number }) => void;
  onEval?: (info: { step: number; loss: number; accuracy: number }) => void;
}

/** A tfjs LayersModel saved with `model.save('file://…')`: its model.json and the weight files it names. */
export async function loadSavedModel(file: string): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelJSON;
  try {
    artifacts = JSON.parse(readFileSync(file, 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new UnsupportedModelError(`${file}: not a readable model.json (${(error as Error).message})`);
  }
  if (!artifacts.modelTopology || !Array.isArray(artifacts.weightsManifest))
    throw new UnsupportedModelError(
      `${file}: no modelTopology and weightsManifest; expected a TensorFlow.js LayersModel saved with model.save()`,
    );
  const weightSpecs = artifacts.weightsManifest.flatMap((group) => group.weights);
  const buffers = artifacts.weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      const weightFile = join(dirname(file), path);
      try {
        return readFileSync(weightFile);
      } catch (error) {
        throw new UnsupportedModelError(
          `${weightFile}: a weight file named by ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`,
        );
      }
    }),
  );
  const joined = Buffer.concat(buffers);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: artifacts.modelTopology, weightSpecs, weightData }));
  } catch (error) {
    throw new UnsupportedModelError(`${file}: cannot be loaded as a LayersModel (${(error as Error).message})`);
  }
}

/** The network the flags describe, for the data's input shape and classes, with the recorder's initial weights. */
function modelFromFlags(config: Config, data: UserDataset): tfl.LayersModel {
  const inputSize = data.inputShape.reduce((product, size) => product * size, 1);
  const sizes = [inputSize, ...config.layers, data.classNames.length];
  const layers: tfl.layers.Layer[] = data.inputShape.length > 1 ? [tfl.layers.flatten({ inputShape: data.inputShape })] : [];
  config.layers.forEach((units, index) => {
    const first = index === 0 && layers.length === 0 ? { inputShape: data.inputShape } : {};
    const activation = config.activation;
    // tfjs has no leaky ReLU activation: a linear Dense then a LeakyReLU layer, which the recorder reads as one.
    layers.push(tfl.layers.dense({ ...first, units, activation: activation === 'leaky-relu' ? 'linear' : activation }));
    if (activation === 'leaky-relu') layers.push(tfl.layers.leakyReLU({ alpha: LEAKY_RELU_SLOPE }));
  });
  const output = config.layers.length === 0 ? { inputShape: data.inputShape } : {};
  layers.push(tfl.layers.dense({ ...output, units: data.classNames.length, activation: 'softmax' }));
  const model = tfl.sequential({ name: 'mlp', layers });
  model.setWeights(
    initialLayers(config, sizes).flatMap((layer) => [tf.tensor2d(layer.weight, [layer.fanIn, layer.fanOut]), tf.tensor1d(layer.bias)]),
  );
  return model;
}

function optimizerOf(config: Config): tf.Optimizer {
  switch (config.optimizer) {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, config.momentum);
    case 'adam':
      return tf.train.adam(config.learningRate, 0.9, 0.999, 1e-7);
  }
}

export async function recordOwnData(options: OwnDataOptions): Promise<LibraryRunResult> {
  const { config } = options;
  const data = loadUserData(options.data, { labels: options.labels, labelColumn: options.labelColumn, heldOut: options.heldOut });
  await selectEngine(config.engine);
  const model = options.model ? await loadSavedModel(options.model) : modelFromFlags(config, data);
  model.compile({ optimizer: optimizerOf(config), loss: 'sparseCategoricalCrossentropy' });
  const tensors = (split: UserDataset['train']) => ({
    x: tf.tensor(split.images, [split.count, ...data.inputShape]),
    y: tf.tensor1d(Int32Array.from(split.labels), 'int32'),
  });
  const train = tensors(data.train);
  const recorder = new Recorder({
    out: options.out,
    name: options.name,
    force: options.force,
    heldOut: tensors(data.test),
    classNames: data.classNames,
    dataName: data.name,
    ...(data.featureNames ? { featureNames: data.featureNames } : {}),
    ...(options.model ? {} : { init: config }),
    probes: Math.min(config.probes, data.test.count),
    evalEvery: config.evalEvery,
    budget: config.budget,
    linkAge: config.linkAge,
    diagnostics: config.diagnostics,
    reproduce: options.reproduce,
    sha256: data.sha256,
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(options.onEval ? { onEval: options.onEval } : {}),
  });
  return recorder.fit(model, train.x, train.y, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    ...(config.maxSteps !== null ? { maxSteps: config.maxSteps } : {}),
    signal: options.signal,
    ...(options.pace ? { pace: options.pace } : {}),
    onStart: (plannedSteps) => options.onStart?.({ data, model, plannedSteps }),
  });
}
