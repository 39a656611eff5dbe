/**
 * Lining two runs up on one timeline. The cursor counts run A's steps; run B is at the same step
 * (`step`), or at the same fraction of an epoch (`epoch`), which is what matters when the batch
 * sizes or training-set sizes differ. Each side is clamped to the steps it has.
 */
import type { Alignment } from './url-state.js';

export interface AlignedRun {
  /** Steps per epoch: the training-set size over the batch size, rounded down (partial batches are dropped). */
  stepsPerEpoch: number;
  /** The last step that can be shown (loaded), or −1 when none is. */
  lastStep: number;
  /** Steps the run will have when complete. */
  plannedSteps: number;
}

/** How many of B's steps one of A's steps is worth. */
export function stepRatio(a: AlignedRun, b: AlignedRun, align: Alignment): number {
  return align === 'epoch' && a.stepsPerEpoch > 0 && b.stepsPerEpoch > 0 ? b.stepsPerEpoch / a.stepsPerEpoch : 1;
}

export function alignedSteps(cursor: number, a: AlignedRun, b: AlignedRun, align: Alignment): { a: number; b: number } {
  const atB = Math.round(cursor * stepRatio(a, b, align));
  return { a: clamp(cursor, a.lastStep), b: clamp(atB, b.lastStep) };
}

/** The cursor's range: both runs' full length, in A's steps. */
export function cursorSpan(a: AlignedRun, b: AlignedRun, align: Alignment): { planned: number; last: number } {
  const ratio = stepRatio(a, b, align);
  return {
    planned: Math.max(a.plannedSteps, Math.ceil(b.plannedSteps / ratio)),
    last: Math.max(a.lastStep, Math.floor(b.lastStep / ratio)),
  };
}

/** B's per-step series on A's step axis (nearest step), so both can share one chart. */
export function resampleToA(values: Float32Array, length: number, ratio: number): Float32Array {
  if (ratio === 1 && values.length === length) return values;
  return Float32Array.from({ length }, (_, cursor) => {
    const at = Math.round(cursor * ratio);
    return at < values.length ? values[at]! : Number.NaN;
  });
}

function clamp(step: number, last: number): number {
  return Math.max(0, Math.min(step, last));
}
