/**
 * Recording a user's own TensorFlow.js model (docs/api.md). Two of the three ways in live here:
 *
 * - `fit(model, x, y, options)`: the recorder trains the compiled model itself — it shuffles, so it
 *   knows every batch — and records everything the built-in recorder records.
 * - `start(model, options)`, then per step `beginStep(x, y)` → `optimizer.computeGradients(() =>
 *   step.loss())` → `optimizer.applyGradients(grads)` → `step.commit()`, then `finish()`: the user's
 *   own loop, recorded as completely.
 *
 * - `callbacks()`: for the user's own `model.fit` (callbacks.ts); records what callbacks can see.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { resolveConfig, type Config, type ConfigInput } from '../../core/config.js';
import type { Activation } from '../../core/nn/activation.js';
import type { Finding } from '../../core/diagnostics/finding.js';
import type { RunManifest, RunStatus } from '../../core/format/manifest.js';
import { createRandom, shuffleInPlace } from '../../core/random.js';
import { engineInfo, selectEngine, type EngineName } from '../engine.js';
import { chooseProbes, chunkStepsFor, plannedStepsOf } from '../record.js';
import { defaultRunName } from '../run-folder.js';
import { RecordingSession } from '../session.js';
import { RecorderCallback } from './callbacks.js';
import { checkInputs, checkLabels, DataError } from './data.js';
import { describeModel, describeOptimizer, UnsupportedModelError, type ModelSpec } from './model-spec.js';
import { TappedModel } from './tapped-model.js';

export interface RecorderOptions {
  /** Folder the run folder is created in. Default "runs". */
  out?: string;
  /** The run's name (a folder name). Default: the model's name and the time. */
  name?: string;
  /** Replace a run of this name that this tool wrote (never anything else). */
  force?: boolean;
  /** Held-out data: the probes are chosen from it, and it is evaluated every `evalEvery` steps. */
  heldOut?: { x: tf.Tensor; y: tf.Tensor };
  /** A name per class, in label order. Default "0", "1", … */
  classNames?: string[];
  /** What the data is called in the viewer. Default "user data". */
  dataName?: string;
  /** Held-out samples recorded at every step (16). */
  probes?: number;
  /** Held-out evaluation every this many steps (50). */
  evalEvery?: number;
  /** Bytes of exact weight snapshots for the whole run ("12MiB"). */
  budget?: number | string;
  /** How old a drawn link may be, as a fraction of the run (0.02). */
  linkAge?: number;
  diagnostics?: ConfigInput['diagnostics'];
  /** A name per input feature, for inputs that are not images (a CSV's header). */
  featureNames?: string[];
  /** How the model's weights were made, when the caller made them (`npm run record -- --data`); else "model". */
  init?: Pick<Config, 'init' | 'initStd' | 'initValue'>;
  /** The command that records the run again (run.json's `reproduce`). Default: this process's command line. */
  reproduce?: string;
  /** SHA-256 of the data, when the caller hashed it (both splits); `fit` hashes its training data otherwise. */
  sha256?: string;
  onStep?: (info: { step: number; loss: number; accuracy: number }) => void;
  onEval?: (info: { step: number; loss: number; accuracy: number }) => void;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Seeds the shuffling (and dropout). */
  seed?: number;
  /** Stop after this many steps even if epochs remain. */
  maxSteps?: number;
  /** Stops after the current step when aborted; the run is marked interrupted. */
  signal?: AbortSignal;
  /** At most this many steps per second, to watch the run live (default: flat out). */
  pace?: number;
  /** Called once the run folder exists, with the steps planned. */
  onStart?: (plannedSteps: number) => void;
}

export interface StepModeOptions {
  /** The optimizer the loop applies the gradients with (recorded in run.json). */
  optimizer: tf.Optimizer;
  /** Steps the loop will take: the weight snapshots and link frames are planned for it. */
  steps: number;
  /** Samples per step; every step must have this many. */
  batchSize: number;
  /** Seeds dropout. */
  seed?: number;
}

export interface LibraryRunResult {
  directory: string;
  status: RunStatus;
  stepCount: number;
  bytesWritten: number;
  finalEval: RunManifest['finalEval'];
  findings: Finding[];
  message?: string;
}

/** The loss of the built-in trainer and of tfjs's categoricalCrossentropy: mean −log p(label), p clipped to [1e-7, 1 − 1e-7]. */
export function crossEntropy(probabilities: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(tf.clipByValue(probabilities, 1e-7, 1 - 1e-7))), 1))) as tf.Scalar);
}

const ENGINE_OF_BACKEND: Record<string, EngineName> = { tensorflow: 'node', wasm: 'wasm', cpu: 'cpu' };

/** One step of the user's loop, between `beginStep` and `commit`. */
export class RecorderStep {
  readonly #recorder: Recorder;
  readonly #target: tf.Tensor2D;
  readonly labels: Int32Array;
  /** The batch's places in the training data; −1 where not known. */
  readonly indices: Int32Array;
  #grads: tf.NamedTensorMap | undefined;
  #done = false;

  constructor(recorder: Recorder, labels: Int32Array, indices: Int32Array, classCount: number) {
    this.#recorder = recorder;
    this.labels = labels;
    this.indices = indices;
    this.#target = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classCount), 'float32') as tf.Tensor2D);
  }

  /** The model's softmax output for the batch, through the recorder's taps: compute your loss from it, inside `optimizer.computeGradients`. */
  predict(): tf.Tensor2D {
    return this.#recorder.tapped.predict();
  }

  /** Mean cross-entropy of `predict()` against the batch's labels (what `fit` minimises). */
  loss(): tf.Scalar {
    return crossEntropy(this.predict(), this.#target);
  }

  /** Hands over the gradients the optimizer applies (by variable name): recorded as ∂L/∂W and ∂L/∂b, e.g. after clipping. */
  gradients(grads: tf.NamedTensorMap): void {
    this.#grads = grads;
  }

  /** After `optimizer.applyGradients`: records the step. */
  async commit(): Promise<{ loss: number; accuracy: number }> {
    if (this.#done) throw new Error('step.commit: this step was already committed');
    this.#done = true;
    this.#target.dispose();
    return this.#recorder.commitStep(this, this.#grads);
  }
}

export class Recorder {
  readonly #options: RecorderOptions;
  #session: RecordingSession | undefined;
  #tapped: TappedModel | undefined;
  #spec: ModelSpec | undefined;
  #batchSize = 0;
  #open: RecorderStep | undefined;
  #epoch = 0;

  constructor(options: RecorderOptions = {}) {
    this.#options = options;
  }

  /** @internal the tapped model of the run being recorded */
  get tapped(): TappedModel {
    if (!this.#tapped) throw new Error('no run is being recorded: call start() first');
    return this.#tapped;
  }

  /** The run folder, once recording has started. */
  get directory(): string | undefined {
    return this.#session?.directory;
  }

  /** Mode 1: trains the compiled model on (x, y) and records every step. */
  async fit(model: LayersModel, x: tf.Tensor, y: tf.Tensor, options: FitOptions = {}): Promise<LibraryRunResult> {
    const spec = describeModel(model);
    const optimizer = model.optimizer as tf.Optimizer | undefined;
    if (!optimizer)
      throw new UnsupportedModelError(
        `model "${model.name}" is not compiled: call model.compile({ optimizer, loss: 'categoricalCrossentropy' }) first`,
      );
    const loss = (model as unknown as { loss: unknown }).loss;
    if (loss !== 'categoricalCrossentropy' && loss !== 'sparseCategoricalCrossentropy')
      throw new UnsupportedModelError(
        `model "${model.name}": loss ${typeof loss === 'string' ? `"${loss}"` : 'is a function'}; fit records "categoricalCrossentropy" or "sparseCategoricalCrossentropy" (use start() and your own loop for another loss)`,
      );
    const inputs = checkInputs(x, spec, 'x');
    try {
      const labels = checkLabels(y, spec.classCount, inputs.shape[0], 'y');
      const batchSize = options.batchSize ?? 32;
      const seed = options.seed ?? 1;
      const sha256 =
        this.#options.sha256 ??
        createHash('sha256').update(new Uint8Array(inputs.dataSync().buffer)).update(new Uint8Array(labels.buffer)).digest('hex');
      const config = this.#config(spec, optimizer, { batchSize, seed, epochs: options.epochs ?? 1, maxSteps: options.maxSteps ?? null });
      const plannedSteps = plannedStepsOf(config, inputs.shape[0]);
      await this.#startSession(model, spec, optimizer, 'fit', String(loss), config, {
        plannedSteps,
        trainCount: inputs.shape[0],
        sha256,
      });
      const order = Int32Array.from({ length: inputs.shape[0] }, (_, index) => index);
      // The built-in recorder's shuffling: the same seed and data give the same batches.
      const random = createRandom((seed ^ 0x9e3779b9) >>> 0);
      const session = this.#session!;
      options.onStart?.(plannedSteps);
      const startedAt = performance.now();
      let status: RunStatus = 'complete';
      let message: string | undefined;
      try {
        training: for (let epoch = 0; session.step < plannedSteps; epoch++) {
          shuffleInPlace(order, random);
          this.#epoch = epoch;
          for (let start = 0; start + batchSize <= order.length && session.step < plannedSteps; start += batchSize) {
            if (options.signal?.aborted) {
              status = 'interrupted';
              message = `${String(options.signal.reason ?? 'stopped')} after ${session.step} of ${plannedSteps} steps`;
              break training;
            }
            const batchIndices = order.slice(start, start + batchSize);
            const batch = tf.tidy(() => tf.gather(inputs, tf.tensor1d(batchIndices, 'int32')));
            const step = this.#begin(
              batch,
              Int32Array.from(batchIndices, (index) => labels[index]!),
              batchIndices,
            );
            const { value, grads } = optimizer.computeGradients(() => step.loss());
            optimizer.applyGradients(grads);
            const result = await step.commit();
            tf.dispose([value, batch, ...Object.values(grads)]);
            if (session.divergedAtStep !== undefined) {
              status = 'failed';
              message = `training diverged: the loss became ${result.loss} at step ${session.divergedAtStep}; try a smaller learning rate`;
              break training;
            }
            const early = options.pace ? startedAt + (session.step / options.pace) * 1000 - performance.now() : 0;
            if (early > 0) await new Promise<void>((resolve) => setTimeout(resolve, early));
          }
        }
      } catch (error) {
        await this.#abort(error);
        throw error;
      }
      return await this.#finish(status, message);
    } finally {
      inputs.dispose();
    }
  }

  /** Mode 3: starts recording the user's own loop over `model`; then `beginStep` … `commit` per step, and `finish`. */
  async start(model: LayersModel, options: StepModeOptions): Promise<void> {
    const spec = describeModel(model);
    if (!(Number.isInteger(options.steps) && options.steps >= 1))
      throw new DataError(`start: steps ${options.steps}; expected a whole number ≥ 1`);
    const config = this.#config(spec, options.optimizer, {
      batchSize: options.batchSize,
      seed: options.seed ?? 1,
      epochs: 1,
      maxSteps: options.steps,
    });
    await this.#startSession(model, spec, options.optimizer, 'step', 'user', config, {
      plannedSteps: options.steps,
      trainCount: 0,
      sha256: '',
    });
  }

  /**
   * Begins a step of the user's loop on a batch: `x` of the model's input shape, `y` class indices or
   * one-hot rows. `indices` (the samples' places in the training data) and `epoch` are recorded when given.
   */
  beginStep(x: tf.Tensor, y: tf.Tensor, options: { indices?: ArrayLike<number>; epoch?: number } = {}): RecorderStep {
    const spec = this.#spec;
    if (!spec || !this.#session) throw new Error('beginStep: no run is being recorded; call start() first');
    if (x.shape[0] !== this.#batchSize)
      throw new DataError(`beginStep: x has ${x.shape[0]} samples; this run records batches of ${this.#batchSize}`);
    const inputs = checkInputs(x, spec, 'beginStep x');
    try {
      const labels = checkLabels(y, spec.classCount, this.#batchSize, 'beginStep y');
      if (options.epoch !== undefined) this.#epoch = options.epoch;
      const indices = options.indices ? Int32Array.from(options.indices) : new Int32Array(this.#batchSize).fill(-1);
      if (indices.length !== this.#batchSize) throw new DataError(`beginStep: ${indices.length} indices for ${this.#batchSize} samples`);
      return this.#begin(inputs, labels, indices);
    } finally {
      inputs.dispose();
    }
  }

  #begin(x: tf.Tensor, labels: Int32Array, indices: Int32Array): RecorderStep {
    if (this.#open) throw new Error('beginStep: the previous step was not committed (call step.commit() after applyGradients)');
    this.tapped.begin(x);
    const step = new RecorderStep(this, labels, indices, this.#spec!.classCount);
    this.#open = step;
    return step;
  }

  /** @internal */
  async commitStep(step: RecorderStep, grads: tf.NamedTensorMap | undefined): Promise<{ loss: number; accuracy: number }> {
    if (step !== this.#open) throw new Error('step.commit: this step is not the one being recorded');
    this.#open = undefined;
    const session = this.#session!;
    const number = session.step;
    const readback = this.tapped.read(session.pool, grads);
    const result = session.record({ epoch: this.#epoch, batchIndices: step.indices, labels: step.labels, readback }, this.tapped);
    this.#options.onStep?.({ step: number, ...result });
    await session.waitForWriter();
    return result;
  }

  /** Mode 2: callbacks for the user's own `model.fit(x, y, { callbacks: recorder.callbacks() })`. */
  callbacks(): RecorderCallback {
    return new RecorderCallback(this);
  }

  #callbackStatus: { status: RunStatus; message?: string } = { status: 'complete' };
  #callbackResult: LibraryRunResult | undefined;

  /** The result of the run recorded through `callbacks()`, once model.fit has returned. */
  get result(): LibraryRunResult | undefined {
    return this.#callbackResult;
  }

  /** @internal mode 2: model.fit begins */
  async startCallbacks(
    model: LayersModel,
    params: { epochs: number; samples: number; batchSize: number; metrics?: string[] },
  ): Promise<void> {
    // A tf.Sequential trains through an inner LayersModel named "<its name>_model": the callbacks see that one.
    const inner = describeModel(model);
    const spec = { ...inner, name: inner.name.replace(/_model$/, '') };
    const optimizer = model.optimizer as tf.Optimizer;
    const loss = (model as unknown as { loss: unknown }).loss;
    const config = this.#config(spec, optimizer, { batchSize: params.batchSize, seed: 1, epochs: params.epochs, maxSteps: null });
    const unseenBatch = "model.fit's callbacks do not see the batch (recorder.fit or the step API record it)";
    const unseenGradients = "model.fit's callbacks see the weights before and after each update, not the gradients";
    const absent = [
      ...['batchIndices', 'meanInput', 'meanActivation', 'fractionActive', 'gradPreActivation', 'classActivation', 'fractionInactive'].map(
        (quantity) => ({ quantity, reason: unseenBatch }),
      ),
      ...['gradNorm', 'weightGrad', 'biasGrad', 'weightGradScale', 'weightGradCode'].map((quantity) => ({
        quantity,
        reason: unseenGradients,
      })),
      ...(params.metrics?.some((metric) => metric === 'acc' || metric === 'accuracy')
        ? []
        : [{ quantity: 'accuracy', reason: "the model is not compiled with metrics: ['accuracy']" }]),
    ];
    this.#callbackStatus = { status: 'complete' };
    this.#callbackResult = undefined;
    await this.#startSession(
      model,
      spec,
      optimizer,
      'callbacks',
      typeof loss === 'string' ? loss : 'a function',
      config,
      { plannedSteps: Math.ceil(params.samples / params.batchSize) * params.epochs, trainCount: params.samples, sha256: '' },
      absent,
    );
  }

  /** @internal */
  callbackEpoch(epoch: number): void {
    this.#epoch = epoch;
  }

  /** @internal mode 2: a batch begins; the probes run on the weights it starts from */
  callbackBatchBegin(): void {
    this.tapped.probePass();
  }

  /** @internal mode 2: a batch ended; returns false once training diverged (the callback stops model.fit) */
  async callbackBatchEnd(loss: number | undefined, accuracy: number | undefined): Promise<boolean> {
    const session = this.#session!;
    const number = session.step;
    const readback = this.tapped.read(session.pool);
    const batch = this.#batchSize;
    const outcome = { loss: loss ?? Number.NaN, accuracy: accuracy ?? Number.NaN };
    session.record(
      { epoch: this.#epoch, batchIndices: new Int32Array(batch).fill(-1), labels: new Uint8Array(batch), readback, outcome },
      this.tapped,
    );
    this.#options.onStep?.({ step: number, ...outcome });
    await session.waitForWriter();
    if (session.divergedAtStep === undefined) return true;
    this.#callbackStatus = {
      status: 'failed',
      message: `training diverged: the loss became ${outcome.loss} at step ${session.divergedAtStep}; model.fit was stopped`,
    };
    return false;
  }

  /** @internal mode 2: model.fit ended */
  async callbackTrainEnd(): Promise<void> {
    this.#callbackResult = await this.#finish(this.#callbackStatus.status, this.#callbackStatus.message);
  }

  /** Ends the run (mode 3): the final evaluation, run.json's status. */
  async finish(status: RunStatus = 'complete', message?: string): Promise<LibraryRunResult> {
    if (this.#open) throw new Error('finish: a step was begun and not committed');
    return this.#finish(status, message);
  }

  async #finish(status: RunStatus, message?: string): Promise<LibraryRunResult> {
    const session = this.#session;
    const tapped = this.#tapped;
    if (!session || !tapped) throw new Error('finish: no run is being recorded');
    try {
      const finished = await session.finish(tapped, tapped.currentWeights(), status, message);
      return {
        directory: session.directory,
        status: finished.status,
        stepCount: finished.stepCount,
        bytesWritten: finished.bytesWritten,
        finalEval: finished.finalEval,
        findings: finished.findings,
        ...(finished.message ? { message: finished.message } : {}),
      };
    } finally {
      this.#close();
    }
  }

  async #abort(error: unknown): Promise<void> {
    await this.#session?.abort(error);
    this.#close();
  }

  #close(): void {
    this.#tapped?.dispose();
    this.#tapped = undefined;
    this.#session = undefined;
    this.#open = undefined;
  }

  /** The run's config: the recorder's options, and what the model and its optimizer are. */
  #config(
    spec: ModelSpec,
    optimizer: tf.Optimizer,
    training: { batchSize: number; seed: number; epochs: number; maxSteps: number | null },
  ) {
    const options = this.#options;
    // Each layer's own activation is in run.json's layers; the config carries the first hidden layer's.
    const hidden = spec.layers.slice(0, -1).map((layer) => layer.activation as Activation);
    const settings = optimizer.getConfig() as Record<string, unknown>;
    const kind = optimizer.getClassName();
    const mapped =
      kind === 'SGD' ? 'sgd' : kind === 'Momentum' && settings.useNesterov !== true ? 'momentum' : kind === 'Adam' ? 'adam' : 'other';
    const resolved = resolveConfig(
      {
        layers: spec.layers.slice(0, -1).map((layer) => layer.units),
        activation: hidden[0] ?? 'linear',
        batchSize: training.batchSize,
        epochs: training.epochs,
        maxSteps: training.maxSteps,
        seed: training.seed,
        ...(mapped === 'momentum' ? { momentum: settings.momentum } : {}),
        ...(options.probes !== undefined ? { probes: options.probes } : {}),
        ...(options.evalEvery !== undefined ? { evalEvery: options.evalEvery } : {}),
        ...(options.budget !== undefined ? { budget: options.budget } : {}),
        ...(options.linkAge !== undefined ? { linkAge: options.linkAge } : {}),
        ...(options.diagnostics !== undefined ? { diagnostics: options.diagnostics } : {}),
      },
      'recorder options',
    );
    const learningRate = Number(settings.learningRate);
    return {
      ...resolved,
      ...(options.init ?? { init: 'model' as const }),
      dataset: 'user' as const,
      optimizer: mapped,
      learningRate: Number.isFinite(learningRate) ? learningRate : 0,
    } satisfies RunManifest['config'];
  }

  async #startSession(
    model: LayersModel,
    spec: ModelSpec,
    optimizer: tf.Optimizer,
    mode: 'fit' | 'step' | 'callbacks',
    loss: string,
    config: RunManifest['config'],
    data: { plannedSteps: number; trainCount: number; sha256: string },
    absent: { quantity: string; reason: string }[] = [],
  ): Promise<void> {
    if (this.#session) throw new Error('a run is already being recorded by this recorder: finish it first');
    const options = this.#options;
    const classNames = options.classNames ?? Array.from({ length: spec.classCount }, (_, index) => String(index));
    if (options.featureNames && options.featureNames.length !== spec.inputSize)
      throw new DataError(`featureNames: ${options.featureNames.length} names; the model "${spec.name}" has ${spec.inputSize} inputs`);
    if (classNames.length !== spec.classCount)
      throw new DataError(`classNames: ${classNames.length} names; the model "${spec.name}" has ${spec.classCount} output classes`);
    const engine = await activeEngine();
    let test = { images: new Float32Array(0), labels: new Uint8Array(0) };
    if (options.heldOut) {
      const inputs = checkInputs(options.heldOut.x, spec, 'heldOut.x');
      test = {
        images: Float32Array.from(inputs.dataSync()),
        labels: Uint8Array.from(checkLabels(options.heldOut.y, spec.classCount, inputs.shape[0], 'heldOut.y')),
      };
      inputs.dispose();
    }
    const probeIndices = chooseProbes(test.labels, spec.classCount, Math.min(config.probes, test.labels.length));
    const probeInputs = new Float32Array(probeIndices.length * spec.inputSize);
    probeIndices.forEach((index, probe) =>
      probeInputs.set(test.images.subarray(index * spec.inputSize, (index + 1) * spec.inputSize), probe * spec.inputSize),
    );
    const probeLabels = Uint8Array.from(probeIndices, (index) => test.labels[index]!);
    const sizes = [spec.inputSize, ...spec.layers.map((layer) => layer.units)];
    this.#session = await RecordingSession.start({
      config: { ...config, probes: probeIndices.length },
      name: options.name ?? defaultRunName(spec.name.replace(/[^A-Za-z0-9._-]/g, '-')),
      out: options.out ?? 'runs',
      force: options.force ?? false,
      engine,
      reproduce: () => options.reproduce ?? `node ${process.argv.slice(1).join(' ')}`,
      layers: [
        { index: 0, kind: 'input', size: spec.inputSize, shape: spec.inputShape },
        ...spec.layers.map((layer, index) => ({
          index: index + 1,
          kind: 'dense' as const,
          size: layer.units,
          activation: layer.activation,
          ...(layer.dropout > 0 ? { dropout: layer.dropout } : {}),
        })),
      ],
      dataset: {
        name: options.dataName ?? 'user data',
        trainCount: data.trainCount,
        testCount: test.labels.length,
        inputShape: spec.inputShape,
        classNames,
        ...(options.featureNames ? { featureNames: options.featureNames } : {}),
        sha256: data.sha256,
      },
      source: { mode, model: spec.name, optimizer: describeOptimizer(optimizer), loss, absent },
      plannedSteps: data.plannedSteps,
      chunkSteps: chunkStepsFor({ ...config, probes: probeIndices.length }, spec.inputSize, sizes.slice(1)),
      probes: { inputs: probeInputs, labels: probeLabels, testIndices: probeIndices },
      test,
      ...(options.onEval ? { onEval: options.onEval } : {}),
    });
    this.#spec = spec;
    this.#batchSize = config.batchSize;
    const callbacks = mode === 'callbacks';
    this.#tapped = new TappedModel(spec, {
      // Callbacks see no batch: the probes run alone.
      batchSize: callbacks ? 0 : config.batchSize,
      probes: { inputs: probeInputs, labels: probeLabels },
      dropoutSeed: config.seed,
      gradients: !callbacks,
    });
  }
}

/** The engine the user's TensorFlow.js runs on; the WebAssembly backend (or native TensorFlow) if none is set yet. */
async function activeEngine() {
  let backend: string | undefined;
  try {
    backend = tf.getBackend();
  } catch {
    backend = undefined;
  }
  const name = backend ? ENGINE_OF_BACKEND[backend] : undefined;
  if (backend && !name)
    throw new Error(`TensorFlow.js backend "${backend}": the recorder runs on "tensorflow" (tfjs-node), "wasm" or "cpu"`);
  return name ? engineInfo(name) : selectEngine('auto');
}
