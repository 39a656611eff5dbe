/**
 * The network picture as a standalone SVG document, for papers and slides: the same layout,
 * colours and batched edges as the canvas, with a title and the colour legend. Text from the run
 * (its name) is escaped: the document never carries markup it was given.
 */
import { bucketAlpha, edgeDensity, type EdgeBuckets } from './edges.js';
import type { NetworkLayout } from './layout.js';

export interface PictureLegend {
  /** e.g. "layer 1, mean activation" */
  caption: string;
  stops: { label: string; color: string }[];
}

export interface PictureInput {
  layout: NetworkLayout;
  /** Fill colour of every neuron, per dense layer. */
  neuronColors: readonly (readonly string[])[];
  edges: readonly { layer: number; buckets: EdgeBuckets }[];
  edgeColors: { positive: string; negative: string; nonFinite: string };
  /** The input image, values in [0, 1], row-major and square. */
  input: Float32Array | undefined;
  title: string;
  legend: PictureLegend;
  background: 'white' | 'transparent';
}

/** Height of the title band above the network and the legend band below it. */
const TITLE_BAND = 28;
const LEGEND_BAND = 34;

export function networkSvg(picture: PictureInput): string {
  const { layout } = picture;
  const width = Math.round(layout.width);
  const height = Math.round(layout.height + TITLE_BAND + LEGEND_BAND);
  const ink = picture.background === 'white' ? '#222' : '#888';
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
  ];
  if (picture.background === 'white') parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${LAYOUT_PAD}" y="19" font-size="14" fill="${ink}">${escapeXml(picture.title)}</text>`);
  parts.push(`<g transform="translate(0 ${TITLE_BAND})">`);
  if (picture.input) parts.push(inputImage(layout, picture.input));
  parts.push(
    `<rect x="${fixed(layout.input.x - 0.5)}" y="${fixed(layout.input.y - 0.5)}" width="${fixed(layout.input.side + 1)}" height="${fixed(layout.input.side + 1)}" fill="none" stroke="#808080" stroke-opacity="0.6"/>`,
  );
  parts.push(edgePaths(picture));
  for (const column of layout.columns) {
    const colors = picture.neuronColors[column.layer - 1] ?? [];
    const ring = column.radius >= 2 ? ` stroke="#808080" stroke-opacity="0.55"` : '';
    parts.push(`<g${ring}>`);
    column.y.forEach((y, neuron) =>
      parts.push(`<circle cx="${fixed(column.x)}" cy="${fixed(y)}" r="${fixed(column.radius)}" fill="${colors[neuron] ?? '#444'}"/>`),
    );
    parts.push('</g>');
  }
  parts.push('</g>');
  parts.push(legend(picture.legend, layout.height + TITLE_BAND + 8, ink));
  parts.push('</svg>');
  return parts.join('\n');
}

const LAYOUT_PAD = 24;

function inputImage(layout: NetworkLayout, input: Float32Array): string {
  const side = Math.round(Math.sqrt(input.length));
  const cell = layout.input.side / side;
  const rects: string[] = [`<g shape-rendering="crispEdges">`];
  for (let row = 0; row < side; row++) {
    for (let column = 0; column < side; column++) {
      const level = Math.round(255 * Math.min(1, Math.max(0, input[row * side + column]!)));
      rects.push(
        `<rect x="${fixed(layout.input.x + column * cell)}" y="${fixed(layout.input.y + row * cell)}" width="${fixed(cell + 0.05)}" height="${fixed(cell + 0.05)}" fill="rgb(${level},${level},${level})"/>`,
      );
    }
  }
  rects.push('</g>');
  return rects.join('');
}

function edgePaths(picture: PictureInput): string {
  const { columns } = picture.layout;
  const paths: string[] = [];
  for (const { layer, buckets } of picture.edges) {
    const from = columns[layer - 2];
    const to = columns[layer - 1];
    if (!from || !to) continue;
    const fanOut = to.y.length;
    const density = edgeDensity(from.y.length, fanOut);
    const path = (indices: number[], color: string, alpha: number) => {
      if (indices.length === 0) return;
      const d = indices
        .map((edge) => `M${fixed(from.x)} ${fixed(from.y[Math.floor(edge / fanOut)]!)}L${fixed(to.x)} ${fixed(to.y[edge % fanOut]!)}`)
        .join('');
      paths.push(`<path d="${d}" stroke="${color}" stroke-opacity="${fixed(alpha, 3)}" stroke-width="0.5" fill="none"/>`);
    };
    buckets.positive.forEach((_, bucket) => {
      path(buckets.negative[bucket]!, picture.edgeColors.negative, bucketAlpha(bucket) * density);
      path(buckets.positive[bucket]!, picture.edgeColors.positive, bucketAlpha(bucket) * density);
    });
    path(buckets.nonFinite, picture.edgeColors.nonFinite, 1);
  }
  return paths.join('\n');
}

function legend(legend: PictureLegend, top: number, ink: string): string {
  const parts = [`<g font-size="12" fill="${ink}">`, `<text x="${LAYOUT_PAD}" y="${fixed(top + 13)}">${escapeXml(legend.caption)}</text>`];
  let x = LAYOUT_PAD + 8 * legend.caption.length + 16;
  for (const stop of legend.stops) {
    parts.push(`<rect x="${fixed(x)}" y="${fixed(top + 2)}" width="13" height="13" fill="${stop.color}" stroke="#888"/>`);
    parts.push(`<text x="${fixed(x + 18)}" y="${fixed(top + 13)}">${escapeXml(stop.label)}</text>`);
    x += 30 + 7.5 * stop.label.length;
  }
  parts.push('</g>');
  return parts.join('\n');
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function fixed(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/** A file name for a saved picture: safe characters only, whatever the run is called. */
export function pictureFileName(name: string, extension: 'svg' | 'png'): string {
  const safe = name
    .replace(/[^\w.-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 120);
  return `${safe || 'network'}.${extension}`;
}
