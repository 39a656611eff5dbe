/**
 * Which steps keep their full weights and weight gradients, within a byte budget for the run, and
 * which keep int8 link frames of them so that every drawn link stays fresh (`planLinkFrames`).
 *
 * The first and last steps are always kept. A reserve (1/8 of the budget) holds steps where the
 * loss or a layer's gradient norm jumps. The rest is shared out smallest layer first: a layer
 * whose every step takes at most half of what is left is kept every step; otherwise the layers
 * still to place share what is left equally, each at the smallest stride that fits its share.
 */
import type { SnapshotReason } from './format/columns.js';

export const ANOMALY_RESERVE_FRACTION = 1 / 8;

export interface SnapshotPlan {
  /** Keep every stride-th step (step % stride === 0), per dense layer. */
  strides: number[];
  /** Steps the anomaly reserve can hold (all layers each). */
  anomalyCapacity: number;
  /** Bytes the plan uses at most. */
  plannedBytes: number;
}

export class BudgetError extends Error {
  constructor(
    readonly budget: number,
    readonly minimum: number,
  ) {
    super(`--budget ${budget} bytes is too small: the first and last steps' weights and gradients alone take ${minimum} bytes`);
    this.name = 'BudgetError';
  }
}

/** Bytes one snapshot of a fanIn × fanOut layer takes: W, b, ∂L/∂W, ∂L/∂b as float32. */
export function snapshotBytes(fanIn: number, fanOut: number): number {
  return 2 * 4 * (fanIn * fanOut + fanOut);
}

export function planSnapshots(layerBytes: readonly number[], plannedSteps: number, budget: number): SnapshotPlan {
  const allLayers = layerBytes.reduce((sum, bytes) => sum + bytes, 0);
  const fixed = Math.min(plannedSteps, 2) * allLayers;
  if (budget < fixed) throw new BudgetError(budget, fixed);
  const anomalyCapacity = Math.floor(((budget - fixed) * ANOMALY_RESERVE_FRACTION) / allLayers);
  let remaining = budget - fixed - anomalyCapacity * allLayers;
  const strides = new Array<number>(layerBytes.length);
  const order = layerBytes.map((bytes, layer) => ({ bytes, layer })).sort((a, b) => a.bytes - b.bytes);
  order.forEach(({ bytes, layer }, position) => {
    const layersLeft = order.length - position;
    const everyStep = bytes * plannedSteps;
    const share = remaining / layersLeft;
    const fitsWhole = everyStep <= (layersLeft === 1 ? remaining : remaining / 2);
    const stride = fitsWhole ? 1 : Math.max(1, Math.ceil(everyStep / Math.max(share, 1)));
    const stridedSteps = Math.min(plannedSteps, Math.ceil(plannedSteps / stride));
    strides[layer] = stride;
    remaining -= stridedSteps * bytes;
  });
  const plannedBytes = budget - Math.max(0, remaining);
  return { strides, anomalyCapacity, plannedBytes };
}

/** Bytes one link frame of a fanIn × fanOut layer takes: W and ∂L/∂W as int8, their two float32 scales, its step. */
export function linkFrameBytes(fanIn: number, fanOut: number): number {
  return 2 * fanIn * fanOut + 2 * 4 + 4;
}

export interface LinkFramePlan {
  /** Steps a drawn link may lag the step shown: floor(linkAge × plannedSteps). */
  maxAge: number;
  /** Per dense layer: the stride of its link frames, or 0 where its exact snapshots are fresh enough. */
  strides: number[];
  /** Bytes the link frames take at most over the run: their allowance, which grows with the network. */
  plannedBytes: number;
}

/**
 * Which layers need int8 link frames, and how often, so that every drawn link is at most
 * floor(linkAge × plannedSteps) steps older than the step shown. A layer kept every `stride` steps
 * (plus the first and last) is at most stride − 1 steps old: one whose exact snapshots' stride is
 * short enough needs none, the others get a frame every maxAge + 1 steps (none at a step their exact
 * snapshot already holds). `linkAge` 0 plans none. `shapes` are [fanIn, fanOut] per dense layer.
 */
export function planLinkFrames(
  exactStrides: readonly number[],
  shapes: readonly (readonly [number, number])[],
  plannedSteps: number,
  linkAge: number,
): LinkFramePlan | null {
  if (!(linkAge > 0)) return null;
  const maxAge = Math.floor(linkAge * plannedSteps);
  const stride = maxAge + 1;
  const strides = exactStrides.map((exact) => (exact - 1 <= maxAge ? 0 : stride));
  const plannedBytes = strides.reduce((sum, layerStride, index) => {
    if (layerStride === 0) return sum;
    const [fanIn, fanOut] = shapes[index]!;
    return sum + Math.ceil(plannedSteps / layerStride) * linkFrameBytes(fanIn, fanOut);
  }, 0);
  return { maxAge, strides, plannedBytes };
}

/** Whether `step` is a link frame of a layer with `stride` whose exact snapshot is not kept at it. */
export function linkFrameDue(step: number, stride: number, keptExactly: boolean): boolean {
  return stride > 0 && step % stride === 0 && !keptExactly;
}

/** Loss or gradient-norm jumps: a value more than `factor` × its running mean, after a warm-up. */
export class JumpDetector {
  static readonly WARMUP_STEPS = 20;
  static readonly LOSS_FACTOR = 2;
  static readonly GRAD_FACTOR = 3;
  static readonly COOLDOWN_STEPS = 10;
  static readonly SMOOTHING = 0.1;

  #seen = 0;
  #cooldown = 0;
  #lossMean = 0;
  #gradMeans: number[] = [];

  /** Feeds one step; true when it is a jump worth keeping. Non-finite values always are. */
  observe(loss: number, gradNorms: readonly number[]): boolean {
    if (!Number.isFinite(loss) || gradNorms.some((norm) => !Number.isFinite(norm))) return true;
    const warm = this.#seen >= JumpDetector.WARMUP_STEPS;
    const jump =
      warm &&
      this.#cooldown === 0 &&
      (loss > JumpDetector.LOSS_FACTOR * this.#lossMean ||
        gradNorms.some((norm, layer) => norm > JumpDetector.GRAD_FACTOR * this.#gradMeans[layer]!));
    const alpha = this.#seen === 0 ? 1 : JumpDetector.SMOOTHING;
    this.#lossMean += alpha * (loss - this.#lossMean);
    this.#gradMeans = gradNorms.map((norm, layer) => (this.#gradMeans[layer] ?? norm) + alpha * (norm - (this.#gradMeans[layer] ?? norm)));
    this.#seen++;
    if (jump) this.#cooldown = JumpDetector.COOLDOWN_STEPS;
    else if (this.#cooldown > 0) this.#cooldown--;
    return jump;
  }
}

/**
 * Decides, step by step, which layers keep a snapshot: the first step, stride multiples, and
 * jumps while the anomaly reserve lasts. The last step is kept by whoever ends the run.
 */
export class SnapshotPolicy {
  readonly #plan: SnapshotPlan;
  readonly #jumps = new JumpDetector();
  #anomaliesLeft: number;

  constructor(plan: SnapshotPlan) {
    this.#plan = plan;
    this.#anomaliesLeft = plan.anomalyCapacity;
  }

  /** Per dense layer (index 0 = layer 1), why this step is kept, or undefined. */
  decide(step: number, loss: number, gradNorms: readonly number[]): (SnapshotReason | undefined)[] {
    const jump = this.#jumps.observe(loss, gradNorms);
    const anomaly = jump && step > 0 && this.#anomaliesLeft > 0;
    const reasons = this.#plan.strides.map((stride): SnapshotReason | undefined => {
      if (step === 0) return 'first';
      if (step % stride === 0) return 'stride';
      return anomaly ? 'anomaly' : undefined;
    });
    if (anomaly && reasons.includes('anomaly')) this.#anomaliesLeft--;
    return reasons;
  }
}
