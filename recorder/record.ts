/**
 * `recordRun`: trains the configured MLP and writes every step to a run folder. The training
 * thread only trains and copies results out of the engine; the writer thread does the rest.
 */
import { ConfigError, stepsPerEpoch, type Config } from '../core/config.js';
import type { Finding } from '../core/diagnostics/finding.js';
import { columnWidth, FILE_NAMES, stepColumns } from '../core/format/columns.js';
import { SCHEMA_VERSION, type RunManifest, type RunStatus } from '../core/format/manifest.js';
import { batchLossAccuracy } from '../core/nn/batch-stats.js';
import { initialLayers } from '../core/nn/init.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import { linkFrameDue, planLinkFrames, planSnapshots, snapshotBytes, SnapshotPolicy, type LinkFramePlan } from '../core/snapshots.js';
import { loadDataset, type Dataset } from '../datasets/index.js';
import { selectEngine, type EngineInfo, type EngineName } from './engine.js';
import { compressSamples, kernelVersion } from './kernel/first-layer.js';
import { RecordingMlp } from './recording-model.js';
import { BufferPool } from './readback.js';
import { createRunFolder, removeUnstartedRun } from './run-folder.js';
import { WriterClient } from './writer/client.js';
import type { LinkGrads, SnapshotGrads } from './writer/protocol.js';

/** Rows per record batch: a crash loses at most this many steps. */
export const FLUSH_STEPS = 16;
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

export interface RecordResult {
  directory: string;
  status: RunStatus;
  stepCount: number;
  bytesWritten: number;
  /** Bytes of int8 link frames, part of bytesWritten: their own allowance, beside the budget. */
  linkBytesWritten: number;
  /** The link frames' plan (also in run.json), or null when none were kept. */
  linkFrames: LinkFramePlan | null;
  seconds: number;
  /** From the first step to the writer's last byte: training, recording and flushing, without start-up. */
  trainingSeconds: number;
  message?: string;
  finalEval: RunManifest['finalEval'];
  /** What the training-problem detectors found (also in run.json). */
  findings: Finding[];
  /** Time the writer thread spent on steps (see bench/record.ts). */
  writerBusySeconds: number;
}

/** Steps one epoch has: the last partial batch is dropped, so every step sees batchSize samples. */
export function plannedStepsOf(config: Config, trainCount: number): number {
  const perEpoch = stepsPerEpoch(trainCount, config.batchSize);
  const total = perEpoch * config.epochs;
  return config.maxSteps === null ? total : Math.min(total, config.maxSteps);
}

/** Probe samples: round-robin over classes in test-split order, so every class is present once there are ≥ 10. */
export function chooseProbes(dataset: Dataset, count: number): Int32Array {
  const byClass = dataset.classNames.map(() => [] as number[]);
  dataset.test.labels.forEach((label, index) => byClass[label]!.push(index));
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

function chunkStepsFor(config: Config, inputSize: number, layerSizes: number[]): number {
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
  const plan = planSnapshots(
    sizes.slice(1).map((fanOut, index) => snapshotBytes(sizes[index]!, fanOut)),
    plannedSteps,
    config.budget,
  );
  const linkPlan = planLinkFrames(
    plan.strides,
    sizes.slice(1).map((fanOut, index) => [sizes[index]!, fanOut] as const),
    plannedSteps,
    config.linkAge,
  );
  const engine = await selectEngine(config.engine);
  // The first layer trains in the kernel whatever the engine (recording-model.ts).
  engine.versions['first-layer kernel'] = kernelVersion();
  const directory = createRunFolder(options.out, options.name, options.force ?? false);
  const now = new Date().toISOString();
  const probeIndices = chooseProbes(dataset, config.probes);
  const manifest: RunManifest = {
    schemaVersion: SCHEMA_VERSION,
    name: options.name,
    status: 'recording',
    createdAt: now,
    updatedAt: now,
    config,
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
    engine,
    reproduce: options.reproduce(engine.name),
    plannedSteps,
    stepCount: 0,
    chunkSteps: chunkStepsFor(config, inputSize, sizes.slice(1)),
    weightStrides: plan.strides,
    linkFrames: linkPlan,
    chunks: [],
    probes: probeIndices.length > 0 ? { file: FILE_NAMES.probes, count: probeIndices.length } : null,
    finalEval: null,
    finalTrain: null,
    divergedAtStep: null,
    findings: [],
  };
  const probeInputs = new Float32Array(probeIndices.length * inputSize);
  probeIndices.forEach((testIndex, probe) =>
    probeInputs.set(dataset.test.images.subarray(testIndex * inputSize, (testIndex + 1) * inputSize), probe * inputSize),
  );
  const probeLabels = Uint8Array.from(probeIndices, (index) => dataset.test.labels[index]!);
  const pool = new BufferPool();
  const writer = await WriterClient.start(
    {
      directory,
      manifest,
      flushSteps: FLUSH_STEPS,
      probes: {
        inputs: probeInputs,
        labels: probeLabels,
        testIndices: probeIndices,
      },
      test: { images: dataset.test.images, labels: dataset.test.labels },
      trainLabels: dataset.train.labels,
    },
    pool,
    (progress) => {
      if (progress.evalLoss !== undefined)
        options.onEval?.({ step: progress.step, loss: progress.evalLoss, accuracy: progress.evalAccuracy! });
    },
  ).catch((error: unknown) => {
    // Not even run.json could be written: leave no empty run folder behind.
    if (!removeUnstartedRun(directory)) throw error;
    throw new Error(`${error instanceof Error ? error.message : String(error)}; nothing was recorded, the run folder is removed`);
  });
  options.onStart?.({ directory, plannedSteps, engine, dataset });

  const model = new RecordingMlp({
    config,
    initial: initialLayers(config, sizes),
    train: compressSamples(dataset.train.images, inputSize),
    probes: { samples: compressSamples(probeInputs, inputSize), labels: probeLabels },
  });
  const order = Int32Array.from({ length: dataset.train.count }, (_, index) => index);
  const random = createRandom((config.seed ^ 0x9e3779b9) >>> 0);
  const labels = new Int32Array(config.batchSize);
  const classCount = dataset.classNames.length;
  let step = 0;
  let status: RunStatus = 'complete';
  let message: string | undefined;
  let divergedAtStep: number | undefined;
  const policy = new SnapshotPolicy(plan);
  /** Per layer: whether the latest step's snapshot was kept. */
  const keptLastStep = plan.strides.map(() => false);
  const trainingStarted = performance.now();
  try {
    training: for (let epoch = 0; step < plannedSteps; epoch++) {
      shuffleInPlace(order, random);
      for (let start = 0; start + config.batchSize <= order.length && step < plannedSteps; start += config.batchSize) {
        if (options.stopSignal?.stop) {
          status = 'interrupted';
          message = `${options.stopSignal.reason ?? 'stopped'} after ${step} of ${plannedSteps} steps`;
          break training;
        }
        const batchIndices = order.slice(start, start + config.batchSize);
        batchIndices.forEach((sampleIndex, row) => (labels[row] = dataset.train.labels[sampleIndex]!));
        const readback = model.step(batchIndices, labels, pool);
        const { loss, accuracy } = batchLossAccuracy(readback.preActivation.at(-1)!, labels, classCount);
        const ending = step === plannedSteps - 1 || !Number.isFinite(loss);
        const reasons = policy.decide(step, loss, Array.from(readback.gradNorms));
        const snapshots: SnapshotGrads[] = [];
        reasons.forEach((reason, index) => {
          const kept = ending && step > 0 ? 'last' : reason;
          keptLastStep[index] = kept !== undefined;
          if (kept) snapshots.push({ layer: index + 1, reason: kept, ...model.readGrads(index + 1, pool) });
        });
        const links: LinkGrads[] = [];
        linkPlan?.strides.forEach((stride, index) => {
          if (linkFrameDue(step, stride, keptLastStep[index]!))
            links.push({ layer: index + 1, weightGrad: model.readWeightGrad(index + 1, pool) });
        });
        const evaluating = step % config.evalEvery === 0;
        const sentLayers = [...snapshots, ...links].map((kept) => kept.layer);
        const weights =
          evaluating || sentLayers.length > 0 ? model.previousWeights(pool, evaluating ? undefined : new Set(sentLayers)) : undefined;
        writer.sendStep({
          type: 'step',
          step,
          epoch,
          batchIndices,
          loss,
          accuracy,
          ...readback,
          snapshots,
          links,
          ...(weights ? { weights } : {}),
        });
        options.onStep?.({ step, loss, accuracy });
        step++;
        if (!Number.isFinite(loss)) {
          status = 'failed';
          divergedAtStep = step - 1;
          message = `training diverged: the loss became ${loss} at step ${divergedAtStep}; try a smaller --lr`;
          break training;
        }
        await writer.waitBelow();
        const early = options.pace ? trainingStarted + (step / options.pace) * 1000 - performance.now() : 0;
        if (early > 0) await new Promise<void>((resolve) => setTimeout(resolve, early));
        // Let signals and the writer's messages through now and then.
        else if (step % YIELD_EVERY_STEPS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const final = model.snapshot();
    const last =
      step === 0
        ? []
        : keptLastStep.flatMap((kept, index) =>
            kept ? [] : [{ layer: index + 1, reason: 'last' as const, ...model.readGrads(index + 1, pool) }],
          );
    const finished = await writer.finish({
      type: 'finish',
      status,
      last,
      ...(step > 0 ? { lastWeights: model.previousWeights(pool) } : {}),
      ...(message ? { message } : {}),
      ...(divergedAtStep !== undefined ? { divergedAtStep } : {}),
      final,
    });
    return {
      directory,
      status,
      stepCount: finished.stepCount,
      bytesWritten: finished.bytesWritten,
      linkBytesWritten: finished.linkBytesWritten,
      linkFrames: linkPlan,
      seconds: (performance.now() - started) / 1000,
      trainingSeconds: (performance.now() - trainingStarted) / 1000,
      finalEval: finished.finalEval,
      findings: finished.findings,
      writerBusySeconds: finished.busySeconds,
      ...(message ? { message } : {}),
    };
  } catch (error) {
    if (!writer.failure) {
      const text = error instanceof Error ? error.message : String(error);
      await writer
        .finish({ type: 'finish', status: 'failed', message: `recorder failed at step ${step}: ${text}`, last: [] })
        .catch(() => undefined);
    }
    await writer.abort();
    throw error;
  } finally {
    model.dispose();
  }
}
