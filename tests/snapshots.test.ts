import { describe, expect, it } from 'vitest';
import { BudgetError, JumpDetector, planSnapshots, snapshotBytes, SnapshotPolicy } from '../core/snapshots.js';

describe('snapshot planning', () => {
  const layers = [snapshotBytes(784, 128), snapshotBytes(128, 64), snapshotBytes(64, 10)];

  it('keeps small layers every step and strides the large one within the budget', () => {
    const plan = planSnapshots(layers, 560, 12 * 1024 ** 2);
    expect(plan.strides[2]).toBe(1);
    expect(plan.strides[0]).toBeGreaterThan(1);
    const worst = layers.reduce((sum, bytes, layer) => sum + bytes * (Math.ceil(560 / plan.strides[layer]!) + 2 + plan.anomalyCapacity), 0);
    expect(worst).toBeLessThanOrEqual(12 * 1024 ** 2 + layers.reduce((a, b) => a + b, 0));
    expect(plan.anomalyCapacity).toBeGreaterThan(0);
  });

  it('keeps everything every step when the budget allows', () => {
    expect(planSnapshots(layers, 10, 1e9).strides).toEqual([1, 1, 1]);
  });

  it('refuses a budget smaller than the first and last snapshots', () => {
    expect(() => planSnapshots(layers, 100, 1000)).toThrow(BudgetError);
    expect(() =>
      planSnapshots(
        layers,
        1,
        layers.reduce((a, b) => a + b, 0),
      ),
    ).not.toThrow();
  });
});

describe('jump detection', () => {
  it('fires on a loss spike after warm-up, not on a steady series', () => {
    const detector = new JumpDetector();
    const fired: number[] = [];
    for (let step = 0; step < 100; step++) {
      const loss = step === 60 ? 9 : 1 + 0.01 * Math.sin(step);
      if (detector.observe(loss, [0.5, 0.2])) fired.push(step);
    }
    expect(fired).toEqual([60]);
  });

  it('fires on a gradient-norm spike and on non-finite values, even at step 0', () => {
    const detector = new JumpDetector();
    expect(detector.observe(Number.NaN, [1])).toBe(true);
    const steady = new JumpDetector();
    for (let step = 0; step < 30; step++) expect(steady.observe(1, [1, 1])).toBe(false);
    expect(steady.observe(1, [1, 10])).toBe(true);
  });
});

describe('snapshot policy', () => {
  it('keeps the first step, stride multiples, and jumps while the reserve lasts', () => {
    const policy = new SnapshotPolicy({ strides: [10, 1], anomalyCapacity: 1, plannedBytes: 0 });
    const kept: string[] = [];
    for (let step = 0; step < 80; step++) {
      const loss = step === 45 || step === 70 ? 50 : 1;
      const reasons = policy.decide(step, loss, [1, 1]);
      if (reasons[0]) kept.push(`${step}:${reasons[0]}`);
      expect(reasons[1]).toBe(step === 0 ? 'first' : 'stride');
    }
    expect(kept).toEqual([
      '0:first',
      '10:stride',
      '20:stride',
      '30:stride',
      '40:stride',
      '45:anomaly',
      '50:stride',
      '60:stride',
      '70:stride',
    ]);
  });
});
