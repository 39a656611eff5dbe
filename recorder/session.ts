/**
 * A recording session: one run folder, its writer thread and the decisions taken at every step
 * (which weight snapshots and link frames to keep, when to evaluate). Whatever trains the network —
 * the built-in recorder (record.ts) or a user's own TensorFlow.js model (library/) — hands each
 * step's read-back to `record` and the session does the rest.
 */
import type { Finding } from '../core/diagnostics/finding.js';
import { FILE_NAMES } from '../core/format/columns.js';
import { SCHEMA_VERSION, type RunManifest, type RunStatus } from '../core/format/manifest.js';
import { batchLossAccuracy } from '../core/nn/batch-stats.js';
import { linkFrameDue, planLinkFrames, planSnapshots, snapshotBytes, SnapshotPolicy, type LinkFramePlan } from '../core/snapshots.js';
import type { EngineInfo, EngineName } from './engine.js';
import type { LayerGrads } from './model.js';
import { BufferPool } from './readback.js';
import type { RecordedStep } from './recording-model.js';
import { createRunFolder, removeUnstartedRun } from './run-folder.js';
import { WriterClient } from './writer/client.js';
import type { LayerWeights, LinkGrads, SnapshotGrads } from './writer/protocol.js';

/** Rows per record batch: a crash loses at most this many steps. */
export const FLUSH_STEPS = 16;

/** What a trained step gives on demand, after `record` has decided what to keep. */
export interface StepSource {
  /** ∂L/∂W and ∂L/∂b of dense layer `layer` (from 1) at the latest step, in buffers from the pool. */
  readGrads(layer: number, pool: BufferPool): LayerGrads;
  /** ∂L/∂W of dense layer `layer` at the latest step. */
  readWeightGrad(layer: number, pool: BufferPool): Float32Array;
  /** The weights the latest step started from: of every dense layer, or of the layers in `only`. */
  previousWeights(pool: BufferPool, only?: ReadonlySet<number>): LayerWeights;
}

export interface SessionOptions {
  config: RunManifest['config'];
  name: string;
  out: string;
  force?: boolean;
  engine: EngineInfo;
  /** The command that records the same run again, with the engine that ran it. */
  reproduce: (engine: EngineName) => string;
  layers: RunManifest['layers'];
  dataset: RunManifest['dataset'];
  /** Who trained the network; absent for the built-in recorder. */
  source?: RunManifest['source'];
  plannedSteps: number;
  /** Steps per chunk file. */
  chunkSteps: number;
  probes: { inputs: Float32Array; labels: Uint8Array; testIndices: Int32Array };
  /** The held-out split, evaluated every `config.evalEvery` steps (none when empty). */
  test: { images: Float32Array; labels: Uint8Array };
  onEval?: (info: { step: number; loss: number; accuracy: number }) => void;
}

/** One step as the trainer saw it. */
export interface StepRecord {
  epoch: number;
  /** Indices of the batch's samples in the training data; −1 where they are not known. */
  batchIndices: Int32Array;
  /** Class of each batch sample. */
  labels: ArrayLike<number>;
  readback: RecordedStep;
  /** The batch's loss and accuracy when the read-back has no batch rows to compute them from (model.fit's callbacks). */
  outcome?: { loss: number; accuracy: number };
}

export interface SessionResult {
  status: RunStatus;
  stepCount: number;
  bytesWritten: number;
  linkBytesWritten: number;
  finalEval: RunManifest['finalEval'];
  findings: Finding[];
  writerBusySeconds: number;
  message?: string;
}

export class RecordingSession {
  readonly directory: string;
  readonly manifest: RunManifest;
  readonly pool: BufferPool;
  readonly linkPlan: LinkFramePlan | null;
  readonly #writer: WriterClient;
  readonly #policy: SnapshotPolicy;
  /** Per layer: whether the latest step's snapshot was kept. */
  readonly #keptLastStep: boolean[];
  readonly #classCount: number;
  /** Steps recorded so far: the next step's number. */
  step = 0;
  /** Set when the loss stopped being finite: the step where it happened. */
  divergedAtStep: number | undefined;

  private constructor(
    directory: string,
    manifest: RunManifest,
    writer: WriterClient,
    pool: BufferPool,
    policy: SnapshotPolicy,
    linkPlan: LinkFramePlan | null,
  ) {
    this.directory = directory;
    this.pool = pool;
    this.manifest = manifest;
    this.#writer = writer;
    this.#policy = policy;
    this.linkPlan = linkPlan;
    this.#keptLastStep = manifest.weightStrides.map(() => false);
    this.#classCount = manifest.layers.at(-1)!.size;
  }

  /** Plans the snapshots, creates the run folder and starts the writer; run.json exists once this resolves. */
  static async start(options: SessionOptions): Promise<RecordingSession> {
    const { config, plannedSteps } = options;
    const sizes = options.layers.map((layer) => layer.size);
    const fans = sizes.slice(1).map((fanOut, index) => [sizes[index]!, fanOut] as const);
    const plan = planSnapshots(
      fans.map(([fanIn, fanOut]) => snapshotBytes(fanIn, fanOut)),
      plannedSteps,
      config.budget,
    );
    const linkPlan = planLinkFrames(plan.strides, fans, plannedSteps, config.linkAge);
    const directory = createRunFolder(options.out, options.name, options.force ?? false);
    const now = new Date().toISOString();
    const probeCount = options.probes.labels.length;
    const manifest: RunManifest = {
      schemaVersion: SCHEMA_VERSION,
      name: options.name,
      status: 'recording',
      createdAt: now,
      updatedAt: now,
      config,
      layers: options.layers,
      dataset: options.dataset,
      ...(options.source ? { source: options.source } : {}),
      engine: options.engine,
      reproduce: options.reproduce(options.engine.name),
      plannedSteps,
      stepCount: 0,
      chunkSteps: options.chunkSteps,
      weightStrides: plan.strides,
      linkFrames: linkPlan,
      chunks: [],
      probes: probeCount > 0 ? { file: FILE_NAMES.probes, count: probeCount } : null,
      finalEval: null,
      finalTrain: null,
      divergedAtStep: null,
      findings: [],
    };
    const pool = new BufferPool();
    const writer = await WriterClient.start(
      { directory, manifest, flushSteps: FLUSH_STEPS, probes: options.probes, test: options.test },
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
    return new RecordingSession(directory, manifest, writer, pool, new SnapshotPolicy(plan), linkPlan);
  }

  /**
   * Records one step: its loss and accuracy on the batch, the snapshots and link frames due, the
   * weights an evaluation needs; sends it all to the writer. Returns the batch's loss and accuracy.
   * @param last this is the run's last step (its snapshots are kept as the last ones)
   */
  record(record: StepRecord, source: StepSource, last = false): { loss: number; accuracy: number } {
    const { readback } = record;
    const step = this.step;
    const pool = this.pool;
    const { loss, accuracy } = record.outcome ?? batchLossAccuracy(readback.preActivation.at(-1)!, record.labels, this.#classCount);
    const ending = last || !Number.isFinite(loss);
    const reasons = this.#policy.decide(step, loss, Array.from(readback.gradNorms));
    const snapshots: SnapshotGrads[] = [];
    reasons.forEach((reason, index) => {
      const kept = ending && step > 0 ? 'last' : reason;
      this.#keptLastStep[index] = kept !== undefined;
      if (kept) snapshots.push({ layer: index + 1, reason: kept, ...source.readGrads(index + 1, pool) });
    });
    const links: LinkGrads[] = [];
    this.linkPlan?.strides.forEach((stride, index) => {
      if (linkFrameDue(step, stride, this.#keptLastStep[index]!))
        links.push({ layer: index + 1, weightGrad: source.readWeightGrad(index + 1, pool) });
    });
    const evaluating = step % this.manifest.config.evalEvery === 0;
    const sentLayers = [...snapshots, ...links].map((kept) => kept.layer);
    const weights =
      evaluating || sentLayers.length > 0 ? source.previousWeights(pool, evaluating ? undefined : new Set(sentLayers)) : undefined;
    // The step's small arrays in one pooled shared buffer too: each array of its own is copied on posting.
    const batch = record.batchIndices.length;
    const layers = readback.weightNorms.length;
    const [indices, labelWords, weightNorms, gradNorms, updateNorms] = pool.takeTogether([
      batch,
      Math.ceil(batch / 4),
      layers,
      layers,
      layers,
    ]);
    const batchIndices = new Int32Array(indices!.buffer, indices!.byteOffset, batch);
    batchIndices.set(record.batchIndices);
    const labels = new Uint8Array(labelWords!.buffer, labelWords!.byteOffset, batch);
    labels.set(record.labels);
    weightNorms!.set(readback.weightNorms);
    gradNorms!.set(readback.gradNorms);
    updateNorms!.set(readback.updateNorms);
    this.#writer.sendStep({
      type: 'step',
      step,
      epoch: record.epoch,
      loss,
      accuracy,
      ...readback,
      batchIndices,
      labels,
      weightNorms: weightNorms!,
      gradNorms: gradNorms!,
      updateNorms: updateNorms!,
      snapshots,
      links,
      ...(weights ? { weights } : {}),
    });
    this.step++;
    if (!Number.isFinite(loss)) this.divergedAtStep = step;
    return { loss, accuracy };
  }

  /** Resolves once the writer has room for more steps. */
  waitForWriter(): Promise<void> {
    return this.#writer.waitBelow();
  }

  /**
   * Ends the run: the last step's snapshots for layers that did not keep it, the final evaluation on
   * `final` (the weights after the last update), run.json's status.
   */
  async finish(
    source: StepSource,
    final: { weights: Float32Array[]; biases: Float32Array[] },
    status: RunStatus,
    message?: string,
  ): Promise<SessionResult> {
    const pool = this.pool;
    const recorded = this.step > 0;
    const last = recorded
      ? this.#keptLastStep.flatMap((kept, index) =>
          kept ? [] : [{ layer: index + 1, reason: 'last' as const, ...source.readGrads(index + 1, pool) }],
        )
      : [];
    const finished = await this.#writer.finish({
      type: 'finish',
      status,
      last,
      ...(recorded ? { lastWeights: source.previousWeights(pool) } : {}),
      ...(message ? { message } : {}),
      ...(this.divergedAtStep !== undefined ? { divergedAtStep: this.divergedAtStep } : {}),
      final,
    });
    return {
      status,
      stepCount: finished.stepCount,
      bytesWritten: finished.bytesWritten,
      linkBytesWritten: finished.linkBytesWritten,
      finalEval: finished.finalEval,
      findings: finished.findings,
      writerBusySeconds: finished.busySeconds,
      ...(message ? { message } : {}),
    };
  }

  /** After an error in training: marks the run failed (unless the writer itself failed) and stops the writer. */
  async abort(error: unknown): Promise<void> {
    if (!this.#writer.failure) {
      const text = error instanceof Error ? error.message : String(error);
      await this.#writer
        .finish({ type: 'finish', status: 'failed', message: `recorder failed at step ${this.step}: ${text}`, last: [] })
        .catch(() => undefined);
    }
    await this.#writer.abort();
  }
}
