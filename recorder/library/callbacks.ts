/**
 * Mode 2: the recorder as callbacks for the user's own `model.fit`. A tfjs callback never sees the
 * batch tensors, so this mode records what it can: the loss (and accuracy, when the model is compiled
 * with that metric), the weights and their updates before and after each batch, the update ratios,
 * the probes' own passes (forward and back, each with its own loss, on the weights the batch started
 * from), snapshots and the held-out evaluation. run.json's `source.absent` lists the rest, and why.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import type { Recorder } from './recorder.js';

type Logs = Record<string, number | tf.Scalar> | undefined;

/** A log entry as a number (tfjs hands batch logs over as scalars), or undefined when absent. */
export function logValue(logs: Logs, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = logs?.[name];
    if (typeof value === 'number') return value;
    if (value !== undefined) return (value.dataSync() as Float32Array)[0];
  }
  return undefined;
}

export class RecorderCallback extends Callback {
  readonly #recorder: Recorder;

  constructor(recorder: Recorder) {
    super();
    this.#recorder = recorder;
  }

  override async onTrainBegin(): Promise<void> {
    const params = this.params as { epochs: number; samples: number; batchSize: number; metrics?: string[] };
    await this.#recorder.startCallbacks(this.model as LayersModel, params);
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.#recorder.callbackEpoch(epoch);
  }

  override async onBatchBegin(): Promise<void> {
    this.#recorder.callbackBatchBegin();
  }

  override async onBatchEnd(_batch: number, logs?: Logs): Promise<void> {
    const going = await this.#recorder.callbackBatchEnd(logValue(logs, 'loss'), logValue(logs, 'acc', 'accuracy'));
    if (!going) this.model.stopTraining = true;
  }

  override async onTrainEnd(): Promise<void> {
    await this.#recorder.callbackTrainEnd();
  }
}
