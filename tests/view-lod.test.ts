/**
 * Zoom and level of detail (core/view/lod.ts): bins where neurons crowd, bundles between bins that
 * keep the links' scale, hit-testing of neurons, bins and links on screen, zooming about a point.
 */
import { describe, expect, it } from 'vitest';
import type { Frame, FrameEdges } from '../core/view/frame.js';
import { layoutNetwork } from '../core/view/layout.js';
import {
  binSize,
  BIN_SPACING,
  bundle,
  clampPan,
  displayFrame,
  displayLayout,
  IDENTITY,
  itemAt,
  linkAt,
  MAX_LINKS_PER_GAP,
  LINK_INK_BUDGET,
  shareInk,
  MIN_ITEM_SPACING,
  zoomAbout,
} from '../core/view/lod.js';
import { EMPTY_DOMAIN, extendDomain } from '../core/view/normalize.js';

describe('level of detail', () => {
  it('bins neurons that would sit closer than MIN_ITEM_SPACING, into bins at least BIN_SPACING apart', () => {
    expect(binSize(MIN_ITEM_SPACING, 128)).toBe(1);
    expect(binSize(MIN_ITEM_SPACING - 0.1, 128)).toBe(4);
    expect(binSize(0.9, 512)).toBe(16);
    expect(binSize(0.9, 512) * 0.9).toBeGreaterThanOrEqual(BIN_SPACING);
    // A bin never holds more than the layer.
    expect(binSize(0.01, 10)).toBe(16);
  });

  it('shows 784-512-256-128-10 at overview with its wide layers binned, and opens them as it zooms in', () => {
    const layout = layoutNetwork([784, 512, 256, 128, 10], 1400, 540);
    const overview = displayLayout(layout, IDENTITY);
    expect(overview.columns.map((column) => column.bin)).toEqual([16, 8, 1, 1]);
    expect(overview.columns.map((column) => column.y.length)).toEqual([32, 32, 128, 10]);
    // A bin's centre is the middle of its neurons.
    expect(overview.columns[0]!.y[0]).toBeCloseTo((layout.columns[0]!.y[0]! + layout.columns[0]!.y[15]!) / 2, 4);
    const zoomed = displayLayout(layout, zoomAbout(IDENTITY, 8, { x: 700, y: 270 }));
    expect(zoomed.columns.map((column) => column.bin)).toEqual([1, 1, 1, 1]);
    expect(zoomed.columns[0]!.spacing).toBeCloseTo(layout.columns[0]!.spacing * 8, 4);
  });

  it('finds the neuron or bin under a point, on screen, at any zoom', () => {
    const layout = layoutNetwork([784, 512, 256, 128, 10], 1400, 540);
    const overview = displayLayout(layout, IDENTITY);
    const column = overview.columns[0]!;
    expect(itemAt(overview, column.x, column.y[3]!)).toEqual({ layer: 1, item: 3, first: 48, count: 16, bin: 16 });
    const transform = zoomAbout(IDENTITY, 8, { x: 300, y: 100 });
    const zoomed = displayLayout(layout, transform);
    for (const neuron of [0, 100, 511]) {
      const world = layout.columns[0]!;
      const x = world.x * transform.zoom + transform.x;
      const y = world.y[neuron]! * transform.zoom + transform.y;
      expect(itemAt(zoomed, x, y)).toEqual({ layer: 1, item: neuron, first: neuron, count: 1, bin: 1 });
    }
    expect(itemAt(zoomed, (zoomed.columns[0]!.x + zoomed.columns[1]!.x) / 2, 200)).toBeUndefined();
  });

  it('zooms about a point, keeping it in place, between 1× and the largest zoom; the pan keeps some of the picture in view', () => {
    const zoomed = zoomAbout(IDENTITY, 4, { x: 100, y: 50 });
    expect(zoomed).toEqual({ zoom: 4, x: -300, y: -150 });
    // The point under the pointer stays put: world (100, 50) is still at screen (100, 50).
    expect(100 * zoomed.zoom + zoomed.x).toBe(100);
    expect(zoomAbout(zoomed, 0.01, { x: 0, y: 0 }).zoom).toBe(1);
    expect(zoomAbout(IDENTITY, 1000, { x: 0, y: 0 }).zoom).toBe(64);
    expect(clampPan({ zoom: 2, x: 5000, y: -5000 }, 800, 400)).toEqual({ zoom: 2, x: 400, y: -600 });
  });

  it('bundles links between bins: the mean |value| of the bundle, with the sign of its sum; NaN stays NaN', () => {
    // 4 inputs × 2 outputs, binned 2 × 1.
    const values = Float32Array.of(1, -4, 3, 2, -2, 0, -6, 0);
    expect(Array.from(bundle(values, 2, 2, 1))).toEqual([2, -3, -4, 0]);
    expect(Array.from(bundle(Float32Array.of(1, Number.NaN, 2, 3), 2, 2, 2))).toEqual([Number.NaN]);
    expect(bundle(values, 2, 1, 1)).toBe(values);
  });
});

/** A frame of a 784-512-16-10 network whose links into layer 2 are all 0.5 except one of 1. */
function wideFrame(): Frame {
  const links = new Float32Array(512 * 16).fill(0.5);
  links[100 * 16 + 3] = 1;
  const edges: FrameEdges = {
    layer: 2,
    values: links,
    kind: 'weight',
    domain: extendDomain(EMPTY_DOMAIN, links),
    mode: 'global',
    staleStep: undefined,
  };
  return {
    step: 0,
    values: [Float32Array.from({ length: 512 }, (_, neuron) => neuron), new Float32Array(16), new Float32Array(10)],
    domains: [extendDomain(EMPTY_DOMAIN, [0, 511]), EMPTY_DOMAIN, EMPTY_DOMAIN],
    preferred: [undefined, undefined, undefined],
    input: undefined,
    edges: [edges],
    staleWeights: [],
  };
}

describe('the frame on screen', () => {
  const layout = layoutNetwork([784, 512, 16, 10], 1000, 500);

  it('gives each bin its neurons’ mean, and each bundle its links’ mean |value| on the same scale', () => {
    const overview = displayLayout(layout, IDENTITY);
    const bin = overview.columns[0]!.bin;
    const shown = displayFrame(wideFrame(), overview);
    expect(shown.values[0]![1]).toBe((bin + 2 * bin - 1) / 2);
    const edges = shown.edges[0]!;
    expect(edges.values).toHaveLength((512 / bin) * 16);
    // The bundle holding the one strong link: (bin − 1) × 0.5 + 1, over the bin.
    const strong = Math.floor(100 / bin) * 16 + 3;
    expect(edges.values[strong]).toBeCloseTo(((bin - 1) * 0.5 + 1) / bin, 6);
    expect(edges.domain).toEqual(wideFrame().edges[0]!.domain);
  });

  it('draws, zoomed in, only the links between neurons on screen, and at most MAX_LINKS_PER_GAP', () => {
    const transform = zoomAbout(IDENTITY, 4, { x: 500, y: 250 });
    const zoomed = displayLayout(layout, transform);
    const shown = displayFrame(wideFrame(), zoomed);
    const from = zoomed.columns[0]!;
    const to = zoomed.columns[1]!;
    expect(from.bin).toBe(1);
    const drawn = [...shown.edges[0]!.buckets.positive.flat(), ...shown.edges[0]!.buckets.negative.flat()];
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.length).toBeLessThan(512 * 16);
    const inView = (y: number) => y >= 0 && y <= 500;
    for (const edge of drawn) {
      expect(inView(from.y[Math.floor(edge / 16)]!)).toBe(true);
      expect(inView(to.y[edge % 16]!)).toBe(true);
    }
    // A tall, narrow picture: the ink budget allows more than MAX_LINKS_PER_GAP there.
    const narrow = displayLayout(layoutNetwork([784, 512, 16, 10], 300, 5000), IDENTITY);
    const gapLength = narrow.columns[1]!.x - narrow.columns[0]!.x;
    expect(LINK_INK_BUDGET / gapLength).toBeGreaterThan(MAX_LINKS_PER_GAP);
    const overview = displayFrame(
      { ...wideFrame(), edges: [{ ...wideFrame().edges[0]!, values: new Float32Array(512 * 16).fill(1) }] },
      narrow,
    );
    expect(overview.edges[0]!.buckets.positive.flat()).toHaveLength(MAX_LINKS_PER_GAP);
    expect(overview.edgesOmitted).toBe(512 * 16 - MAX_LINKS_PER_GAP);
  });

  it('draws at most LINK_INK_BUDGET pixels of links, the strongest, gaps sharing it', () => {
    const wide = displayLayout(layoutNetwork([784, 512, 16, 10], 4000, 5000), IDENTITY);
    const gapLength = wide.columns[1]!.x - wide.columns[0]!.x;
    const values = Float32Array.from({ length: 512 * 16 }, (_, edge) => ((edge * 7919) % 1000) / 1000 + 0.05);
    const shown = displayFrame(
      { ...wideFrame(), edges: [{ ...wideFrame().edges[0]!, values, domain: extendDomain(EMPTY_DOMAIN, values) }] },
      wide,
    );
    const drawn = [...shown.edges[0]!.buckets.positive.flat()];
    expect(drawn).toHaveLength(Math.floor(LINK_INK_BUDGET / gapLength));
    expect(drawn.length).toBeLessThan(MAX_LINKS_PER_GAP);
    expect(shown.edgesOmitted).toBe(512 * 16 - drawn.length);
    // The strongest: nothing left out is stronger than the weakest drawn by more than a bin of the cut.
    const weakest = Math.min(...drawn.map((edge) => values[edge]!));
    const left = new Set(drawn);
    const strongestLeft = Math.max(...values.filter((_, edge) => !left.has(edge)));
    expect(strongestLeft).toBeLessThanOrEqual(weakest + 1.05 / 256);
    // Shares: equal, a gap that needs less leaving the rest to the others.
    expect(
      shareInk(
        [
          { links: 10, length: 100 },
          { links: 1e6, length: 100 },
          { links: 1e6, length: 200 },
        ],
        10_000,
      ),
    ).toEqual([10, Math.floor((10_000 - 1000) / 2 / 100), Math.floor((10_000 - 1000 - 4500) / 200)]);
    expect(shareInk([{ links: 5, length: 0 }], 100)).toEqual([5]);
  });

  it('finds the link under the pointer: the strongest of those drawn within reach', () => {
    const overview = displayLayout(layoutNetwork([784, 4, 2, 10], 600, 300), IDENTITY);
    const links = Float32Array.of(0.1, -0.9, 0.3, 0.2, 0.4, 0.5, 0.6, 0.7);
    const frame: Frame = {
      ...wideFrame(),
      values: [new Float32Array(4), new Float32Array(2), new Float32Array(10)],
      edges: [{ layer: 2, values: links, kind: 'weight', domain: extendDomain(EMPTY_DOMAIN, links), mode: 'layer', staleStep: undefined }],
    };
    const shown = displayFrame(frame, overview);
    const from = overview.columns[0]!;
    const to = overview.columns[1]!;
    // The middle of the link from neuron 1.0 to 2.1.
    const x = (from.x + to.x) / 2;
    const y = (from.y[0]! + to.y[1]!) / 2;
    expect(linkAt(overview, shown, x, y)).toEqual({ layer: 2, from: 0, to: 1, value: Math.fround(-0.9) });
    expect(linkAt(overview, shown, x, 2)).toBeUndefined();
  });
});
