/**
 * The network picture: one scene (core/view/scene.ts) that the canvas paints and the SVG export
 * writes — every neuron, the edges, the marks, the legend, escaped text.
 */
import { describe, expect, it } from 'vitest';
import { SELECTED_COLOR, SIGN_COLORS, STAGE_COLOR } from '../core/view/colors.js';
import type { Frame, FrameEdges } from '../core/view/frame.js';
import { extendDomain, EMPTY_DOMAIN } from '../core/view/normalize.js';
import { layoutNetwork } from '../core/view/layout.js';
import { displayFrame, displayLayout, IDENTITY } from '../core/view/lod.js';
import { buildScene, RECEDED, sceneLegend, type SceneOptions } from '../core/view/scene.js';
import { escapeXml, networkSvg, pictureFileName, type PictureInput } from '../core/view/svg.js';
import { paintScene } from '../viewer/src/lib/paint-scene.js';

const layout = displayLayout(layoutNetwork([784, 6, 3], 600, 300), IDENTITY);

/** Edges into layer 2 as a frame holds them, on the layer's own scale. */
function edgesOf(values: Float32Array, staleStep?: number): FrameEdges {
  const domain = extendDomain(EMPTY_DOMAIN, values);
  return { layer: 2, values, kind: 'weight', domain, mode: 'layer', staleStep };
}

const frame: Frame = {
  step: 3,
  values: [Float32Array.from({ length: 6 }, (_, neuron) => neuron / 5), Float32Array.of(0.2, Number.NaN, 0.9)],
  domains: [
    { min: 0, max: 1, minMagnitude: 0.2 },
    { min: 0.2, max: 0.9, minMagnitude: 0.2 },
  ],
  preferred: [undefined, undefined],
  input: new Float32Array(784).fill(0.5),
  edges: [edgesOf(Float32Array.from({ length: 18 }, (_, edge) => (edge % 3 === 0 ? -1 : 0.5) * (edge + 1)))],
  staleWeights: [],
};
const options: SceneOptions = {
  view: 'activation',
  scale: 'layer',
  palette: 'magnitude',
  classNames: ['zero', 'one', 'two'],
  inputShape: [28, 28],
  marked: new Map([[1, new Set([2])]]),
  selected: { layer: 2, index: 0 },
};

function picture(overrides: Partial<PictureInput> = {}): PictureInput {
  return {
    scene: buildScene(layout, displayFrame(frame, layout), options),
    title: 'run at step 3',
    legend: sceneLegend(frame, 1, options, 'mean activation'),
    background: 'stage',
    ...overrides,
  };
}

/** A 2D context that records what is painted: fills, arcs and lines. */
function recordingContext() {
  const painted = { arcs: 0, lines: 0, fills: [] as string[], strokes: 0, texts: [] as string[] };
  const context = {
    fillStyle: '',
    strokeStyle: '',
    globalAlpha: 1,
    lineWidth: 1,
    imageSmoothingEnabled: true,
    beginPath() {},
    moveTo() {},
    lineTo: () => painted.lines++,
    arc: () => painted.arcs++,
    fill() {
      painted.fills.push(context.fillStyle);
    },
    stroke: () => painted.strokes++,
    strokeRect() {},
    fillRect() {},
    fillText: (text: string) => painted.texts.push(text),
    drawImage() {},
  };
  return { context: context as unknown as CanvasRenderingContext2D, painted };
}

describe('the network picture', () => {
  it('is one scene: the canvas and the SVG draw the same neurons, colours, edges and marks', () => {
    const scene = buildScene(layout, displayFrame(frame, layout), options);
    const svg = networkSvg(picture());
    const { context, painted } = recordingContext();
    paintScene(context, scene, undefined);
    const fills = scene.columns.flatMap((column) => column.colors);
    expect(fills).toHaveLength(9);
    // NaN has its own colour; the others follow the layer's domain.
    expect(fills[7]).toBe('#39ff14');
    expect(painted.fills).toEqual(fills);
    const circles = [...svg.matchAll(/<circle cx="[^"]+" cy="[^"]+" r="[^"]+" fill="([^"]+)"\/>/g)].map((match) => match[1]);
    expect(circles).toEqual(fills);
    const lines = scene.edges.reduce((total, batch) => total + batch.lines.length / 4, 0);
    expect(lines).toBeGreaterThan(0);
    // (Finding marks on dots too small for rings would add ticks; these dots are big enough.)
    expect(painted.lines).toBe(lines);
    expect((svg.match(/M[\d.]+ [\d.]+L/g) ?? []).length).toBe(lines);
    // One ring for the finding, one for the selected neuron, on both surfaces.
    expect(scene.findingMarks).toHaveLength(1);
    expect(painted.arcs).toBe(9 + 1 + 1);
    expect(svg.match(new RegExp(`fill="none" stroke="${SELECTED_COLOR}"`, 'g'))).toHaveLength(1);
    // The output neurons' class names, and each column's size, on both surfaces.
    expect(painted.texts).toEqual(['zero', 'one', 'two', '6', '3']);
    for (const name of ['zero', 'one', 'two']) expect(svg).toContain(`text-anchor="start" fill="#c9ccd3">${name}</text>`);
  });

  it('brings the selected neuron’s links forward and lets the rest recede', () => {
    const plain = buildScene(layout, displayFrame(frame, layout), { ...options, selected: undefined });
    const scene = buildScene(layout, displayFrame(frame, layout), options);
    // Output neuron 0 is selected: its 6 incoming edges come last, each at least half opaque.
    const drawn = plain.edges.reduce((total, batch) => total + batch.lines.length / 4, 0);
    const highlighted = scene.edges.slice(-6);
    expect(highlighted.every((batch) => batch.lines.length === 4 && batch.alpha >= 0.5)).toBe(true);
    expect(highlighted.map((batch) => batch.lines[3])).toEqual(highlighted.map(() => layout.columns[1]!.y[0]));
    const rest = scene.edges.slice(0, -6);
    expect(rest.reduce((total, batch) => total + batch.lines.length / 4, 0)).toBe(drawn);
    rest.forEach((batch, index) => expect(batch.alpha).toBeCloseTo(plain.edges[index]!.alpha * RECEDED, 6));
  });

  it('says in the legend which links come from 8-bit link frames', () => {
    const plain = sceneLegend(frame, 1, options, 'mean activation');
    const coded = sceneLegend({ ...frame, edges: [{ ...frame.edges[0]!, precision: 'int8' }] }, 1, options, 'mean activation');
    expect(plain.links!.caption).not.toContain('8-bit');
    expect(coded.links!.caption).toContain('; layer 2 from 8-bit link frames (within 0.4% of the largest |value|)');
  });

  it('marks links older than the step shown on the picture, and dims those older than the run’s link-frame bound', () => {
    const fresh = buildScene(layout, displayFrame(frame, layout), { ...options, selected: undefined });
    const stale = buildScene(layout, displayFrame({ ...frame, edges: [edgesOf(frame.edges[0]!.values, 1)] }, layout), {
      ...options,
      selected: undefined,
    });
    expect(stale.texts.map((text) => text.text)).toContain('weights of step 1');
    expect(fresh.texts.map((text) => text.text)).not.toContain('weights of step 1');
    stale.edges.forEach((batch, index) => expect(batch.alpha).toBeLessThan(fresh.edges[index]!.alpha));
    // Within the run's link-frame bound the links are current: labelled with their step, not dimmed.
    const age = frame.step - 1;
    for (const freshAge of [age, age + 5]) {
      const within = buildScene(layout, displayFrame({ ...frame, edges: [edgesOf(frame.edges[0]!.values, 1)] }, layout), {
        ...options,
        selected: undefined,
        freshAge,
      });
      expect(within.texts.map((text) => text.text)).toContain('weights of step 1');
      expect(within.edges.map((batch) => batch.alpha)).toEqual(fresh.edges.map((batch) => batch.alpha));
    }
    const beyond = buildScene(layout, displayFrame({ ...frame, edges: [edgesOf(frame.edges[0]!.values, 1)] }, layout), {
      ...options,
      selected: undefined,
      freshAge: age - 1,
    });
    expect(beyond.edges.map((batch) => batch.alpha)).toEqual(stale.edges.map((batch) => batch.alpha));
  });

  it('holds the input image, batched edges by sign, the legend and the stage’s background', () => {
    const svg = networkSvg(picture());
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="600" height="434"/);
    // 300 px of network, the title band, and five lines of legend: the neurons' caption and its stops
    // (wrapped once), every layer's domain, the links' caption and its stops.
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('fill="rgb(128,128,128)"');
    const paths = svg.match(/<path d="[^"]+" stroke="(#[0-9a-f]+)"/g) ?? [];
    expect(paths.some((path) => path.includes(SIGN_COLORS.negative))).toBe(true);
    expect(paths.some((path) => path.includes(SIGN_COLORS.positive))).toBe(true);
    expect(svg).toContain(
      '>Neurons: mean activation (activation), layer scale: each layer its own domain over the run; colours below for layer 1</text>',
    );
    expect(svg).toContain('>layer 1: 0 … 1.0 · layer 2: 0.20 … 0.90</text>');
    expect(svg).toMatch(
      />Links: weight W; width and brightness = \|value\|, each layer on its own scale \(largest \|value\|: layer 2 16\)<\/text>/,
    );
    expect(svg).toContain('>named by a finding</text>');
    expect(svg).toContain(`<rect width="100%" height="100%" fill="${STAGE_COLOR}"/>`);
  });

  it('colours the class view by preferred class and selectivity, with every class in its legend', () => {
    const classFrame: Frame = {
      ...frame,
      preferred: [Uint8Array.of(0, 1, 2, 0, 1, 2), Uint8Array.of(2, 2, 2)],
      values: [new Float32Array(6).fill(1), Float32Array.of(0, 0.5, Number.NaN)],
    };
    const classOptions = { ...options, view: 'class' as const };
    const scene = buildScene(layout, displayFrame(classFrame, layout), classOptions);
    // Fully selective neurons of the same class share its hue; less selective ones are dimmer, NaN has the NaN colour.
    expect(scene.columns[0]!.colors[0]).toBe(scene.columns[0]!.colors[3]);
    expect(scene.columns[0]!.colors[0]).not.toBe(scene.columns[0]!.colors[1]);
    expect(scene.columns[1]!.colors[0]).toBe('rgb(72, 72, 72)');
    expect(scene.columns[1]!.colors[2]).toBe('#39ff14');
    const legend = sceneLegend(classFrame, 1, classOptions, 'mean activation by class');
    expect(legend.stops.slice(0, 3).map((stop) => stop.label)).toEqual(['zero', 'one', 'two']);
    const svg = networkSvg({ ...picture(), scene, legend });
    for (const name of ['zero', 'one', 'two', 'selectivity 0']) expect(svg).toContain(`>${name}</text>`);
  });

  it('wraps a long legend onto more lines instead of past the picture’s edge', () => {
    const names = Array.from({ length: 30 }, (_, index) => `class number ${index}`);
    const legend = sceneLegend(
      { ...frame, preferred: [new Uint8Array(6), new Uint8Array(3)] },
      1,
      { ...options, view: 'class', classNames: names },
      'x',
    );
    const svg = networkSvg({ ...picture(), legend });
    const height = Number(/height="(\d+)"/.exec(svg)![1]);
    expect(height).toBeGreaterThan(380 + 18 * 4);
    const xs = [...svg.matchAll(/<text x="([\d.]+)"/g)].map((match) => Number(match[1]));
    expect(Math.max(...xs)).toBeLessThan(600);
  });

  it('leaves the background out when asked for transparency', () => {
    expect(networkSvg(picture({ background: 'transparent' }))).not.toContain(`fill="${STAGE_COLOR}"`);
  });

  it('escapes text from the run', () => {
    const svg = networkSvg(picture({ title: '<script>alert("x")</script> & co' }));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co');
    const legend = sceneLegend(
      { ...frame, preferred: [new Uint8Array(6), new Uint8Array(3)] },
      1,
      { ...options, view: 'class', classNames: ['<img src=x onerror=alert(1)>'] },
      'x',
    );
    expect(networkSvg({ ...picture(), legend })).not.toContain('<img');
    expect(escapeXml(`'`)).toBe('&#39;');
    // Control characters XML cannot hold would make the whole document unreadable.
    expect(escapeXml('a\u0000b\u0007c\td\ne')).toBe('abc\td\ne');
  });

  it('names files safely whatever the run is called', () => {
    expect(pictureFileName('my run at step 3', 'svg')).toBe('my_run_at_step_3.svg');
    expect(pictureFileName('../../etc/passwd', 'png')).toBe('etc_passwd.png');
    expect(pictureFileName('<>', 'png')).toBe('network.png');
  });
});
