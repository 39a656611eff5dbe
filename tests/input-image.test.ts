/** How an input sample is drawn by its shape (core/view/input-image.ts), and the feature names the scene writes beside a strip. */
import { describe, expect, it } from 'vitest';
import { featureColor, inputGrid, inputKindOf, inputPixels } from '../core/view/input-image.js';
import { layoutNetwork } from '../core/view/layout.js';
import { displayFrame, displayLayout, IDENTITY } from '../core/view/lod.js';
import { buildScene, sceneLegend, type SceneOptions } from '../core/view/scene.js';
import { networkSvg } from '../core/view/svg.js';
import type { Frame } from '../core/view/frame.js';

const pixel = (rgba: Uint8ClampedArray, index: number) => Array.from(rgba.subarray(4 * index, 4 * index + 4));

describe('an input sample', () => {
  it('of shape [h, w] is a grey image, values clamped to [0, 1]', () => {
    const drawn = inputPixels(Float32Array.of(0, 0.5, 1, 2, -1, 0.25), [2, 3]);
    expect(drawn).toMatchObject({ kind: 'grey', rows: 2, columns: 3 });
    expect(pixel(drawn.rgba, 1)).toEqual([128, 128, 128, 255]);
    expect(pixel(drawn.rgba, 3)).toEqual([255, 255, 255, 255]);
    expect(pixel(drawn.rgba, 4)).toEqual([0, 0, 0, 255]);
  });

  it('of shape [h, w, 3] is a colour image, channels last', () => {
    const drawn = inputPixels(Float32Array.of(1, 0, 0, 0, 0.5, 1), [1, 2, 3]);
    expect(drawn).toMatchObject({ kind: 'rgb', rows: 1, columns: 2 });
    expect(pixel(drawn.rgba, 0)).toEqual([255, 0, 0, 255]);
    expect(pixel(drawn.rgba, 1)).toEqual([0, 128, 255, 255]);
  });

  it('of shape [features] is a strip, coloured by sign and by size against the largest |value|', () => {
    const drawn = inputPixels(Float32Array.of(4, -2, 0), [3]);
    expect(drawn).toMatchObject({ kind: 'features', rows: 3, columns: 1 });
    expect(pixel(drawn.rgba, 0).slice(0, 3)).toEqual(featureColor(4, 4).map(Math.round));
    expect(pixel(drawn.rgba, 0)).toEqual([77, 163, 255, 255]);
    expect(pixel(drawn.rgba, 1)).not.toEqual(pixel(drawn.rgba, 0));
    expect(pixel(drawn.rgba, 2)).toEqual([42, 45, 53, 255]);
    // A thumbnail: a near-square grid.
    expect(inputGrid([20], 20, true)).toEqual([4, 5]);
    expect(inputKindOf([20])).toBe('features');
  });
});

describe('the picture of a table-shaped run', () => {
  const frame: Frame = {
    step: 0,
    values: [Float32Array.of(0.1, 0.2), Float32Array.of(0.5, 0.5)],
    domains: [
      { min: 0, max: 1, minMagnitude: 0.1 },
      { min: 0, max: 1, minMagnitude: 0.1 },
    ],
    preferred: [undefined, undefined],
    input: Float32Array.of(1, -1, 0.5),
    edges: [],
    staleWeights: [],
  };
  const options: SceneOptions = {
    view: 'activation',
    scale: 'layer',
    palette: 'magnitude',
    classNames: ['a', 'b'],
    inputShape: [3],
    featureNames: ['petal <length>', 'width', 'depth'],
    marked: new Map(),
    selected: undefined,
  };

  it('draws the features as a labelled strip, in the canvas scene and the SVG, names as text', () => {
    const display = displayLayout(layoutNetwork([3, 2, 2], 600, 400), IDENTITY);
    const scene = buildScene(display, displayFrame(frame, display), options);
    expect(scene.input.drawn.width).toBeCloseTo(scene.input.side / 4, 6);
    expect(scene.input.drawn.height).toBeCloseTo(scene.input.side, 6);
    const labels = scene.texts.filter((text) => text.align === 'end').map((text) => text.text);
    expect(labels).toEqual(['petal <length>', 'width', 'depth']);
    const svg = networkSvg({ scene, title: 'table', legend: sceneLegend(frame, 0, options, 'mean activation'), background: 'stage' });
    expect(svg).toContain('>petal &#60;length&#62;</text>');
    // The input image: one cell per feature.
    const input = /<g shape-rendering="crispEdges">(.*?)<\/g>/.exec(svg)![1]!;
    expect(input.match(/<rect /g)).toHaveLength(3);
  });

  it('leaves the names out when the cells are too small for them', () => {
    const display = displayLayout(layoutNetwork([300, 2, 2], 600, 400), IDENTITY);
    const many = { ...frame, input: new Float32Array(300) };
    const scene = buildScene(display, displayFrame(many, display), {
      ...options,
      inputShape: [300],
      featureNames: Array.from({ length: 300 }, (_, index) => `f${index}`),
    });
    expect(scene.texts.filter((text) => text.align === 'end')).toEqual([]);
  });
});
