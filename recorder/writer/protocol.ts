/** Messages between the training thread and the writer thread. */
import type { RunManifest, RunStatus } from '../../core/format/manifest.js';
import type { SnapshotPlan } from '../../core/snapshots.js';
import type { StepReadback } from '../model.js';

export interface WriterInit {
  directory: string;
  manifest: RunManifest;
  flushSteps: number;
  plan: SnapshotPlan;
  probes: { inputs: Float32Array; labels: Uint8Array; testIndices: Int32Array };
  test: { images: Float32Array; labels: Uint8Array };
}

export type ToWriter =
  | { type: 'step'; step: number; epoch: number; batchIndices: Int32Array; readback: StepReadback }
  | {
      type: 'finish';
      status: RunStatus;
      message?: string;
      divergedAtStep?: number;
      final?: { weights: Float32Array[]; biases: Float32Array[] };
    };

export type FromWriter =
  | { type: 'ready' }
  | { type: 'progress'; step: number; stepCount: number; evalLoss?: number; evalAccuracy?: number }
  | { type: 'finished'; stepCount: number; bytesWritten: number; finalEval: RunManifest['finalEval'] }
  | { type: 'error'; message: string };
