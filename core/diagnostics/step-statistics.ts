/**
 * What the detectors see of one training step: the values the recorder already has when it writes
 * the step's row (the row buffer's cells and the engine's read-back), never copied for them.
 */
import type { Finding } from './finding.js';

export interface LayerStepStatistics {
  /** ‖W‖ (Frobenius, bias excluded) before the step's update. */
  weightNorm: number;
  /** ‖∂L/∂W‖ (Frobenius) of the step's batch. */
  gradNorm: number;
  /** ‖ΔW‖ / ‖W‖ of the update the optimizer applied. */
  updateRatio: number;
  /** Per neuron, [neurons]: mean f(z) over the batch. */
  meanActivation: Float32Array;
  /** Per neuron, [neurons]: fraction of the batch with z > 0. */
  fractionActive: Float32Array;
  /** Per neuron, [neurons]: ∂L/∂z summed over the batch. */
  gradPreActivation: Float32Array;
  /**
   * Per neuron, [neurons]: 1 where it is inactive on the batch by the activation function's rule
   * (core/nn/inactive.ts), else 0; hidden layers only (undefined for the output).
   */
  inactive: Uint8Array | undefined;
  /** f(z) for every probe, row-major [probe × neuron]; empty without probes. */
  probeActivation: Float32Array;
}

export interface StepStatistics {
  step: number;
  /** Mean cross-entropy of the batch, nats. */
  loss: number;
  /** Cross-entropy of each probe, nats; empty without probes. */
  probeLoss: Float32Array;
  /** Dense layers in order: index 0 is layer 1, the last is the output layer. */
  layers: LayerStepStatistics[];
}

/** Every detector: fed one step at a time, cheaply, in bounded memory; asked for its findings at any moment. */
export interface Detector {
  observe(statistics: StepStatistics): void;
  /** Its findings as of the latest observed step (fresh objects, safe to keep). */
  findings(): Finding[];
}
