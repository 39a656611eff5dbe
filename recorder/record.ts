/**
 * `recordRun`: trains the configured MLP and writes every step to a run folder. The training
 * thread only trains and copies results out of the engine; the writer thread does the rest.
 */
import { ConfigError, stepsPerEpoch, type Config } from '../core/config.js';
import { columnWidth, stepColumns } from '../core/format/columns.js';
import { SCHEMA_VERSION, type RunStatus } from '../core/format/manifest.js';
import { initialLayers } from '../core/nn/init.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import type { LinkFramePlan } from '../core/snapshots.js';
import { loadDataset, type Dataset } from '../datasets/index.js';
import { selectEngine, type EngineInfo, type EngineName } from './engine.js';
import { compressSamples, kernelVersion } from './kernel/first-layer.js';
import { RecordingMlp } from './recording-model.js';
import { FLUSH_STEPS, RecordingSession, type SessionResult } from './session.js';

/** Steps between turns of the event loop (signals, the writer's replies) when the writer keeps up. */
const YIELD_EVERY_STEPS = 8;
/** Target size of one chunk's step file; chunks are a multiple of FLUSH_STEPS steps. */
export const CHUNK_TARGET_BYTES = 2 * 1024 * 1024;

export interface RecordOptions {
  config: Config;
  name: string;
  out: string;
  force?: boolean;
  /** The command line that reproduces this run with the engine that ran it, stored in run.json. */
  reproduce: (engine: EngineName) => string;
  /** At most this many steps per second, so that a person can watch the run live; undefined = flat out. */
  pace?: number | undefined;
  /** Set to stop after the current step; the run is marked interrupted. */
  stopSignal?: { stop: boolean; reason?: string };
  onStart?: (info: { directory: string; plannedSteps: number; engine: EngineInfo; dataset: Dataset }) => void;
  onStep?: (info: { step: number; loss: number; accuracy: number }) => void;
  onEval?: (info: { step: number; loss: number; accuracy: number }) => void;
}

export interface RecordResult extends SessionResult {
  directory: string;
  /** The link frames' plan (also in run.json), or null when none were kept. */
  linkFrames: LinkFramePlan | null;
  seconds: number;
  /** From the first step to the writer's last byte: training, recording and flushing, without start-up. */
  trainingSeconds: number;
}

/** Steps one epoch has: the last partial batch is dropped, so every step sees batchSize samples. */
export function plannedStepsOf(config: Pick<Config, 'epochs' | 'maxSteps' | 'batchSize'>, trainCount: number): number {
  const perEpoch = stepsPerEpoch(trainCount, config.batchSize);
  const total = perEpoch * config.epochs;
  return config.maxSteps === null ? total : Math.min(total, config.maxSteps);
}

/** Probe samples from the held-out labels: round-robin over classes in their order, so every class is present once there are enough. */
export function chooseProbes(testLabels: ArrayLike<number>, classCount: number, count: number): Int32Array {
  const byClass = Array.from({ length: classCount }, () => [] as number[]);
  for (let index = 0; index < testLabels.length; index++) byClass[testLabels[index]!]!.push(index);
  const chosen: number[] = [];
  for (let round = 0; chosen.length < count; round++) {
    let added = false;
    for (const indices of byClass) {
      if (round < indices.length && chosen.length < count) {
        chosen.push(indices[round]!);
        added = true;
      }
    }
    if (!added) break;
  }
  return Int32Array.from(chosen);
}

export function checkAgainstDataset(config: Config, dataset: Dataset): void {
  const problems: string[] = [];
  if (config.batchSize > dataset.train.count) {
    problems.push(
      `config: field "batchSize" (--batch-size): got ${config.batchSize}, expected at most ${dataset.train.count} (training samples in ${dataset.name})`,
    );
  }
  if (config.probes > dataset.test.count) {
    problems.push(
      `config: field "probes" (--probes): got ${config.probes}, expected at most ${dataset.test.count} (held-out samples in ${dataset.name})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Steps per chunk file: about CHUNK_TARGET_BYTES of step rows, a multiple of FLUSH_STEPS. */
export function chunkStepsFor(config: Pick<Config, 'batchSize' | 'probes'>, inputSize: number, layerSizes: number[]): number {
  const shape = {
    inputSize,
    layerSizes,
    batchSize: config.batchSize,
    probeCount: config.probes,
    classCount: layerSizes[layerSizes.length - 1]!,
    schemaVersion: SCHEMA_VERSION,
  };
  const bytesPerStep = stepColumns(shape).reduce((sum, spec) => sum + 4 * columnWidth(spec), 0);
  const flushes = Math.max(1, Math.floor(CHUNK_TARGET_BYTES / bytesPerStep / FLUSH_STEPS));
  return flushes * FLUSH_STEPS;
}

export async function recordRun(options: RecordOptions): Promise<RecordResult> {
  const { config } = options;
  const started = performance.now();
  const dataset = loadDataset(config.dataset);
  checkAgainstDataset(config, dataset);
  const inputSize = dataset.inputShape[0] * dataset.inputShape[1];
  const sizes = [inputSize, ...config.layers, dataset.classNames.length];
  const plannedSteps = plannedStepsOf(config, dataset.train.count);
  const engine = await selectEngine(config.engine);
  // The first layer trains in the kernel whatever the engine (recording-model.ts).
  engine.versions['first-layer kernel'] = kernelVersion();
  const probeIndices = chooseProbes(dataset.test.labels, dataset.classNames.length, config.probes);
  const probeInputs = new Float32Array(probeIndices.length * inputSize);
  probeIndices.forEach((testIndex, probe) =>
    probeInputs.set(dataset.test.images.subarray(testIndex * inputSize, (testIndex + 1) * inputSize), probe * inputSize),
  );
  const probeLabels = Uint8Array.from(probeIndices, (index) => dataset.test.labels[index]!);
  const session = await RecordingSession.start({
    config,
    name: options.name,
    out: options.out,
    force: options.force ?? false,
    engine,
    reproduce: options.reproduce,
    layers: [
      { index: 0, kind: 'input', size: inputSize, shape: [...dataset.inputShape] },
      ...config.layers.map((size, index) => ({ index: index + 1, kind: 'dense' as const, size, activation: config.activation })),
      { index: sizes.length - 1, kind: 'dense', size: dataset.classNames.length, activation: 'softmax' },
    ],
    dataset: {
      name: dataset.name,
      trainCount: dataset.train.count,
      testCount: dataset.test.count,
      inputShape: [...dataset.inputShape],
      classNames: dataset.classNames,
      sha256: dataset.sha256,
    },
    plannedSteps,
    chunkSteps: chunkStepsFor(config, inputSize, sizes.slice(1)),
    probes: { inputs: probeInputs, labels: probeLabels, testIndices: probeIndices },
    test: { images: dataset.test.images, labels: dataset.test.labels },
    ...(options.onEval ? { onEval: options.onEval } : {}),
  });
  const directory = session.directory;
  options.onStart?.({ directory, plannedSteps, engine, dataset });

  const model = new RecordingMlp({
    config,
    initial: initialLayers(config, sizes),
    train: compressSamples(dataset.train.images, inputSize),
    probes: { samples: compressSamples(probeInputs, inputSize), labels: probeLabels },
  });
  const pool = session.pool;
  const order = Int32Array.from({ length: dataset.train.count }, (_, index) => index);
  const random = createRandom((config.seed ^ 0x9e3779b9) >>> 0);
  const labels = new Int32Array(config.batchSize);
  let status: RunStatus = 'complete';
  let message: string | undefined;
  const trainingStarted = performance.now();
  try {
    training: for (let epoch = 0; session.step < plannedSteps; epoch++) {
      shuffleInPlace(order, random);
      for (let start = 0; start + config.batchSize <= order.length && session.step < plannedSteps; start += config.batchSize) {
        if (options.stopSignal?.stop) {
          status = 'interrupted';
          message = `${options.stopSignal.reason ?? 'stopped'} after ${session.step} of ${plannedSteps} steps`;
          break training;
        }
        const batchIndices = order.subarray(start, start + config.batchSize);
        batchIndices.forEach((sampleIndex, row) => (labels[row] = dataset.train.labels[sampleIndex]!));
        const step = session.step;
        const readback = model.step(batchIndices, labels, pool);
        const { loss, accuracy } = session.record({ epoch, batchIndices, labels, readback }, model, step === plannedSteps - 1);
        options.onStep?.({ step, loss, accuracy });
        if (session.divergedAtStep !== undefined) {
          status = 'failed';
          message = `training diverged: the loss became ${loss} at step ${step}; try a smaller --lr`;
          break training;
        }
        await session.waitForWriter();
        const early = options.pace ? trainingStarted + ((step + 1) / options.pace) * 1000 - performance.now() : 0;
        if (early > 0) await new Promise<void>((resolve) => setTimeout(resolve, early));
        // Let signals and the writer's messages through now and then.
        else if ((step + 1) % YIELD_EVERY_STEPS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const finished = await session.finish(model, model.snapshot(), status, message);
    return {
      ...finished,
      directory,
      linkFrames: session.linkPlan,
      seconds: (performance.now() - started) / 1000,
      trainingSeconds: (performance.now() - trainingStarted) / 1000,
    };
  } catch (error) {
    await session.abort(error);
    throw error;
  } finally {
    model.dispose();
  }
}
