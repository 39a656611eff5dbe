/**
 * Fresh links (issue 19): int8 link frames keep every drawn W and ∂L/∂W at most `--link-age` of the
 * run old. Their encoding's error bound, the plan for the default and the 784-512-256-128-10
 * network, and a recorded run read back by the format module, the viewer's RunData and
 * `npm run check`.
 */
import { cpSync, statSync, truncateSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { dequantizeInt8, int8Extremes, NON_FINITE_CODE, quantizeInt8 } from '../core/format/int8.js';
import { parseManifest, type RunManifest } from '../core/format/manifest.js';
import { createRandom } from '../core/random.js';
import { linkFrameDue, planLinkFrames, planSnapshots, snapshotBytes } from '../core/snapshots.js';
import { largestLinkAge } from '../core/view/links.js';
import { loadDataset } from '../datasets/index.js';
import { checkRun } from '../recorder/check.js';
import { openRunFolder } from '../recorder/open-run.js';
import { plannedStepsOf } from '../recorder/record.js';
import { RunData } from '../viewer/src/lib/run-data.svelte.js';
import { createViewerServer } from '../viewer/server.js';
import { runRecorder, tempDir, TINY } from './helpers.js';

/** Largest |v − decoded v| over the finite values, and whether every non-finite value decoded as NaN. */
function roundTrip(values: Float32Array): { scale: number; largest: number; error: number; nonFiniteAsNaN: boolean } {
  const codes = new Int8Array(values.length);
  const scale = quantizeInt8(values, codes);
  const decoded = dequantizeInt8(codes, scale);
  let largest = 0;
  let error = 0;
  let nonFiniteAsNaN = true;
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) {
      nonFiniteAsNaN &&= codes[index] === NON_FINITE_CODE && Number.isNaN(decoded[index]);
      return;
    }
    largest = Math.max(largest, Math.abs(value));
    error = Math.max(error, Math.abs(value - decoded[index]!));
  });
  return { scale, largest, error, nonFiniteAsNaN };
}

/** scale / 2, and the float32 rounding of code × scale (at most 127 × scale × 2⁻²⁴). */
const bound = (scale: number) => scale * (0.5 + 127 * 2 ** -24);

describe('the int8 encoding of link frames', () => {
  it('decodes every value within scale / 2 = 1/254 of the matrix’s largest |value|, whatever its magnitude', () => {
    const random = createRandom(19);
    for (const magnitude of [1e-30, 1e-6, 0.05, 1, 3e4, 1e30]) {
      // Weights and weight gradients are heavy-tailed: a few large values, most near zero.
      const values = Float32Array.from({ length: 5000 }, () => magnitude * (random.next() - 0.5) ** 3);
      const { scale, largest, error } = roundTrip(values);
      expect(Math.abs(scale - largest / 127) / (largest / 127)).toBeLessThan(1e-6);
      expect(error, `magnitude ${magnitude}`).toBeLessThanOrEqual(bound(scale));
      // The bar: at most 1% of the layer's largest |w|.
      expect(error / largest).toBeLessThan(0.004);
    }
  });

  it('rounds the halfway points within the bound, and keeps the largest value’s code at ±127', () => {
    const values = Float32Array.from({ length: 255 }, (_, index) => (index - 127) / 127 + (index % 2 ? 0.5 / 127 : 0));
    values[0] = -1;
    const codes = new Int8Array(values.length);
    const scale = quantizeInt8(values, codes);
    expect(Math.min(...codes)).toBe(-127);
    expect(Math.max(...codes)).toBe(127);
    expect(roundTrip(values).error).toBeLessThanOrEqual(bound(scale));
  });

  it('codes NaN and ±Inf as −128 (drawn as NaN) and scales the rest by the finite values alone', () => {
    const values = Float32Array.of(0.5, Number.NaN, -2, Number.POSITIVE_INFINITY, 1e-3, Number.NEGATIVE_INFINITY);
    const result = roundTrip(values);
    expect(result.nonFiniteAsNaN).toBe(true);
    expect(result.scale).toBeCloseTo(2 / 127, 9);
    expect(result.error).toBeLessThanOrEqual(bound(result.scale));
    const codes = new Int8Array(values.length);
    quantizeInt8(values, codes);
    expect(int8Extremes(codes, result.scale)).toEqual([-127 * result.scale, 32 * result.scale, 32 * result.scale]);
  });

  it('never wraps a finite value into the non-finite code, even where the scale is below float32’s normal range', () => {
    for (const largest of [1e-36, 1e-40, 3e-45]) {
      const values = Float32Array.of(largest, -largest, largest / 3, 0);
      const codes = new Int8Array(values.length);
      const scale = quantizeInt8(values, codes);
      expect(Array.from(codes).every((code) => code >= -127 && code <= 127)).toBe(true);
      if (largest >= 127 * 2 ** -126) expect(roundTrip(values).error).toBeLessThanOrEqual(bound(scale));
    }
  });

  it('gives an all-zero matrix scale 0 and zeros back, and a matrix of nothing finite only NaN', () => {
    const zeros = new Float32Array(64);
    const codes = new Int8Array(64).fill(5);
    expect(quantizeInt8(zeros, codes)).toBe(0);
    expect(Array.from(dequantizeInt8(codes, 0))).toEqual(Array.from(zeros));
    expect(int8Extremes(codes, 0)).toEqual([0, 0]);
    const nothing = Float32Array.of(Number.NaN, Number.POSITIVE_INFINITY);
    expect(roundTrip(nothing)).toMatchObject({ scale: 0, nonFiniteAsNaN: true });
    expect(int8Extremes(Int8Array.of(NON_FINITE_CODE, NON_FINITE_CODE), 0)).toEqual([]);
  });
});

/** Every step's age if layer `layer` keeps the plan's exact snapshots (first, stride, last) and link frames. */
function plannedAge(exactStride: number, linkStride: number, steps: number): number {
  const exact = Array.from({ length: steps }, (_, step) => step).filter((step) => step % exactStride === 0 || step === steps - 1);
  const kept = new Set(exact);
  const links = Array.from({ length: steps }, (_, step) => step).filter((step) => linkFrameDue(step, linkStride, kept.has(step)));
  return largestLinkAge(exact, links, steps);
}

describe('the link frame plan', () => {
  const trainCount = loadDataset('mnist-embedded').train.count;

  it.each([
    [
      [128, 64],
      [12, 0, 0],
    ],
    [
      [512, 256, 128],
      [12, 12, 12, 0],
    ],
  ])(
    'keeps every link of %j within 2%% of the run with the default budget (link frame strides %j: only where snapshots are older)',
    (hidden, strides) => {
      const config = resolveConfig({ layers: hidden });
      const sizes = [784, ...hidden, 10];
      const steps = plannedStepsOf(config, trainCount);
      const shapes = sizes.slice(1).map((fanOut, index) => [sizes[index]!, fanOut] as const);
      const exact = planSnapshots(
        shapes.map(([fanIn, fanOut]) => snapshotBytes(fanIn, fanOut)),
        steps,
        config.budget,
      );
      const plan = planLinkFrames(exact.strides, shapes, steps, config.linkAge)!;
      expect(steps).toBe(560);
      expect(plan.maxAge).toBe(11);
      expect(plan.strides).toEqual(strides);
      exact.strides.forEach((exactStride, layer) => {
        const age = plannedAge(exactStride, plan.strides[layer]!, steps);
        expect(age, `layer ${layer + 1}`).toBeLessThanOrEqual(plan.maxAge);
        expect(age / steps).toBeLessThanOrEqual(0.02);
      });
      // Without them the 512×256 layer is drawn from step 0 at step 300 (issue 19).
      if (hidden.length === 3) expect(plannedAge(exact.strides[1]!, 0, steps)).toBeGreaterThan(300);
      // The allowance: W and ∂L/∂W as one byte each, ceil(560 / 12) = 47 frames per layer that keeps them.
      const frameBytes = shapes.reduce((sum, [fanIn, fanOut], layer) => sum + (plan.strides[layer] ? 2 * fanIn * fanOut + 12 : 0), 0);
      expect(plan.plannedBytes).toBe(47 * frameBytes);
    },
  );

  it('keeps none with a link age of 0, and every step when the age rounds to under one step', () => {
    expect(planLinkFrames([5, 1], [[4, 3] as const, [3, 2] as const], 100, 0)).toBeNull();
    expect(planLinkFrames([5, 1], [[4, 3] as const, [3, 2] as const], 40, 0.02)).toMatchObject({ maxAge: 0, strides: [1, 0] });
    for (const steps of [1, 2, 37, 100, 1234]) {
      const plan = planLinkFrames([steps + 5], [[2, 2] as const], steps, 0.05)!;
      expect(plannedAge(steps + 5, plan.strides[0]!, steps)).toBeLessThanOrEqual(0.05 * steps);
    }
  });
});

describe('a run recorded with link frames', () => {
  const runs = tempDir('link-frames');
  const server = createViewerServer({ site: runs, runs });
  const folder = join(runs, 'links');
  let manifest: RunManifest;
  let runUrl = '';

  beforeAll(async () => {
    // 60 steps: drawn links at most floor(0.02 × 60) = 1 step old. The budget keeps layer 1 at its first and
    // last step and layer 2 every 3rd: both need link frames, every 2nd step; the output layer is kept every step.
    const recorded = await runRecorder([...TINY, '--out', runs, '--name', 'links', '--max-steps', '60', '--budget', '300kB']);
    if (recorded.code !== 0) throw new Error(`recorder exited ${recorded.code}: ${recorded.stderr}`);
    expect(recorded.stdout).toMatch(/links: drawn links at most 1 step old; int8 link frames of layers 1, 2 every 2 steps, \d+ KiB beside/);
    manifest = (await openRunFolder(folder)).manifest;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    runUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runs/links`;
  }, 60_000);

  afterAll(() => {
    server.close();
  });

  const listed = (kind: 'weights' | 'links', layer: number) =>
    manifest.chunks.flatMap(
      (chunk) => (chunk[kind] as { layer: number; steps: number[] }[]).find((entry) => entry.layer === layer)?.steps ?? [],
    );

  it('lists a link frame at every 2nd step its layer’s snapshot does not hold, and every step is at most 1 step old', () => {
    expect(manifest.schemaVersion).toBe(4);
    expect(manifest.config.linkAge).toBe(0.02);
    expect(manifest.weightStrides).toEqual([198, 3, 1]);
    expect(manifest.linkFrames).toMatchObject({ maxAge: 1, strides: [2, 2, 0] });
    for (const layer of [1, 2]) {
      const exact = listed('weights', layer);
      expect(exact.at(-1)).toBe(59);
      const expected = Array.from({ length: 60 }, (_, step) => step).filter((step) => step % 2 === 0 && !exact.includes(step));
      expect(listed('links', layer)).toEqual(expected);
      expect(largestLinkAge(exact, listed('links', layer), 60)).toBe(1);
    }
    expect(listed('links', 3)).toEqual([]);
    expect(largestLinkAge(listed('weights', 3), [], 60)).toBe(0);
    // Without link frames layer 1 would be drawn from step 0 until step 58.
    expect(largestLinkAge(listed('weights', 1), [], 60)).toBe(58);
  });

  it('holds each frame’s own step: decoded, W(t) − lr·∂L/∂W(t) is the next step’s exact W within the bound', async () => {
    const run = await openRunFolder(folder);
    const { learningRate } = manifest.config;
    // Layer 2's frame at step 2 and snapshot at 3; layer 1's frame at 58 and its last snapshot at 59.
    for (const [layer, step] of [
      [2, 2],
      [1, 58],
    ] as const) {
      const links = (await run.readLinks(0, layer))!;
      const weights = (await run.readWeights(0, layer))!;
      expect(links.problems).toEqual([]);
      const width = manifest.layers[layer - 1]!.size * manifest.layers[layer]!.size;
      const row = links.values.get('linkStep')!.indexOf(step);
      const next = weights.values.get('snapshotStep')!.indexOf(step + 1);
      expect(row).toBeGreaterThanOrEqual(0);
      expect(next).toBeGreaterThanOrEqual(0);
      const weightScale = links.values.get('weightScale')![row]!;
      const gradScale = links.values.get('weightGradScale')![row]!;
      const weight = dequantizeInt8(links.values.get('weightCode')!.subarray(row * width, (row + 1) * width), weightScale);
      const grad = dequantizeInt8(links.values.get('weightGradCode')!.subarray(row * width, (row + 1) * width), gradScale);
      const exactNext = weights.values.get('weight')!.subarray(next * width, (next + 1) * width);
      expect(weightScale).toBeGreaterThan(0);
      let worst = 0;
      for (let edge = 0; edge < width; edge++) {
        const difference = Math.abs(weight[edge]! - learningRate * grad[edge]! - exactNext[edge]!);
        worst = Math.max(worst, difference / (bound(weightScale) + learningRate * bound(gradScale) + 1e-6));
      }
      expect(worst, `layer ${layer} step ${step}`).toBeLessThanOrEqual(1);
    }
  });

  it('is drawn by the viewer from frames at most 1 step old, int8 where a link frame is newer than the snapshot', async () => {
    const run = new RunData();
    await run.load(runUrl);
    expect(run.error).toBeUndefined();
    expect(run.problems).toEqual([]);
    // Layer 1's files are read once asked for.
    expect(run.snapshotAt(1, 30)).toBeUndefined();
    expect(run.incomingWeights(3, 58)).toBeUndefined();
    run.wantLayerOne();
    await run.loader.loadLayerOne();
    for (let layer = 1; layer <= 3; layer++) {
      const links = new Set(listed('links', layer));
      for (let step = 0; step < 60; step++) {
        const drawn = run.snapshotAt(layer, step)!;
        expect(step - drawn.step, `layer ${layer} step ${step}`).toBeLessThanOrEqual(1);
        expect(drawn.precision).toBe(links.has(drawn.step) ? 'int8' : 'float32');
      }
    }
    // A link frame is the file's codes decoded, and the same Snapshot while it is drawn.
    const frames = (await (await openRunFolder(folder)).readLinks(0, 2))!;
    const drawn = run.snapshotAt(2, 11)!;
    expect(drawn.step).toBe(10);
    expect(run.snapshotAt(2, 10)).toBe(drawn);
    const row = frames.values.get('linkStep')!.indexOf(10);
    const width = 16 * 8;
    expect(drawn.weightGrad).toEqual(
      dequantizeInt8(
        frames.values.get('weightGradCode')!.subarray(row * width, (row + 1) * width),
        frames.values.get('weightGradScale')![row]!,
      ),
    );
    // The inspector's receptive field: one neuron's 784 incoming weights, from the newer link frame.
    const incoming = run.incomingWeights(3, 58)!;
    expect(incoming).toMatchObject({ step: 58, precision: 'int8' });
    expect(incoming.weights).toHaveLength(784);
    expect(run.incomingWeights(3, 59)).toMatchObject({ step: 59, precision: 'float32' });
  });

  it('reads layer 1 for the inspector when asked before the run has loaded (as its effect does)', async () => {
    const run = new RunData();
    run.wantLayerOne();
    await run.load(runUrl);
    await run.loader.loadLayerOne();
    expect(run.incomingWeights(3, 58)).toMatchObject({ step: 58, precision: 'int8' });
    expect(run.snapshotAt(1, 0)).toMatchObject({ step: 0, precision: 'float32' });
  });

  it('reads a version 2 run.json (before link frames) as one without any', () => {
    const { linkFrames: _plan, ...older } = structuredClone(manifest) as RunManifest & Record<string, unknown>;
    const { linkAge: _age, ...config } = older.config;
    const chunks = older.chunks.map(({ links: _links, ...chunk }) => chunk);
    const upgraded = parseManifest('v2/run.json', { ...older, schemaVersion: 2, config, chunks });
    expect(upgraded).toMatchObject({ schemaVersion: 2, linkFrames: null, config: { linkAge: 0 } });
    expect(upgraded.chunks.map((chunk) => chunk.links)).toEqual(manifest.chunks.map(() => []));
  });

  it('passes `npm run check`, which names a cut links file and the frames it lost', async () => {
    expect(await checkRun(folder)).toMatchObject({ exit: 0, problems: [] });
    const broken = join(runs, 'broken');
    cpSync(folder, broken, { recursive: true });
    const file = join(broken, 'links-layer1-0000.arrows');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const result = await checkRun(broken);
    expect(result.exit).toBe(1);
    expect(result.problems).toEqual([
      expect.stringMatching(/\/broken\/links-layer1-0000\.arrows: run\.json lists 29 link frames, the file holds \d+ \(cut short\)$/),
    ]);
  });
});
