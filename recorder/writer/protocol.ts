/** Messages between the training thread and the writer thread. */
import type { Finding } from '../../core/diagnostics/finding.js';
import type { SnapshotReason } from '../../core/format/columns.js';
import type { RunManifest, RunStatus } from '../../core/format/manifest.js';
import type { RecordedStep } from '../recording-model.js';

export interface WriterInit {
  directory: string;
  manifest: RunManifest;
  flushSteps: number;
  probes: { inputs: Float32Array; labels: Uint8Array; testIndices: Int32Array };
  /** The held-out split, evaluated every `config.evalEvery` steps; none when it is empty. */
  test: { images: Float32Array; labels: Uint8Array };
}

/** Weight gradients of one layer at the step they are sent with; the writer has that step's weights. */
export interface SnapshotGrads {
  layer: number;
  reason: SnapshotReason;
  weightGrad: Float32Array;
  biasGrad: Float32Array;
}

/** ∂L/∂W of one layer at the step it is sent with, for a link frame; the writer has that step's weights. */
export interface LinkGrads {
  layer: number;
  weightGrad: Float32Array;
}

/** A step's read-back (shared buffers, returned to the sender once used) and what the trainer decided. */
export interface StepMessage extends RecordedStep {
  type: 'step';
  step: number;
  epoch: number;
  /** Indices of the batch's samples in the training data; −1 where the trainer does not know them. */
  batchIndices: Int32Array;
  /** Class of each batch sample, for the per-class statistics. */
  labels: Uint8Array;
  loss: number;
  accuracy: number;
  snapshots: SnapshotGrads[];
  /** Layers that keep an int8 link frame of this step (never one that keeps a snapshot of it). */
  links: LinkGrads[];
  /** The weights the step started from, sent only when the writer needs them: all layers at evaluation steps, else those of the snapshots and link frames. */
  weights?: LayerWeights;
}

/** Weights and biases per dense layer; undefined for layers not sent. */
export interface LayerWeights {
  weights: (Float32Array | undefined)[];
  biases: (Float32Array | undefined)[];
}

export interface FinishMessage {
  type: 'finish';
  status: RunStatus;
  message?: string;
  divergedAtStep?: number;
  /** Weights after the last update, for the final evaluation. */
  final?: { weights: Float32Array[]; biases: Float32Array[] };
  /** The weights the last step started from, for its evaluation and `last` snapshots. */
  lastWeights?: LayerWeights;
  /** Snapshots of the last step for layers that did not keep it yet. */
  last: SnapshotGrads[];
}

export type ToWriter = StepMessage | FinishMessage;

export type FromWriter =
  | { type: 'ready' }
  | { type: 'progress'; step: number; evalLoss?: number; evalAccuracy?: number; returned: SharedArrayBuffer[] }
  | {
      type: 'finished';
      stepCount: number;
      bytesWritten: number;
      /** Bytes of link frame files, part of bytesWritten. */
      linkBytesWritten: number;
      finalEval: RunManifest['finalEval'];
      findings: Finding[];
      /** Time this thread spent on steps (statistics, evaluation, encoding, writing), for benchmarks. */
      busySeconds: number;
    }
  | { type: 'error'; message: string };
