/**
 * The network picture as a standalone SVG document, for papers and slides: the scene the canvas
 * draws (scene.ts), with a title and the colour legend. Text from the run (its name, its class
 * names) is escaped: the document never carries markup it was given.
 */
import { binBar, SCENE_COLORS, type LegendStop, type NetworkScene, type SceneLegend } from './scene.js';

export interface PictureInput {
  scene: NetworkScene;
  title: string;
  legend: SceneLegend;
  /** `stage`: the picture's own dark background; `transparent`: none (for slides with their own). */
  background: 'stage' | 'transparent';
}

/** Height of the title band above the network, and of each line of the legend below it. */
const TITLE_BAND = 28;
const LINE_HEIGHT = 18;
const PAD = 24;

export function networkSvg(picture: PictureInput): string {
  const { scene } = picture;
  const width = Math.round(scene.width);
  const key = legend(picture.legend, scene.height + TITLE_BAND + 8, width);
  const height = Math.round(scene.height + TITLE_BAND + key.height + 8);
  const ink = picture.background === 'stage' ? SCENE_COLORS.ink : '#888';
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
  ];
  if (picture.background === 'stage') parts.push(`<rect width="100%" height="100%" fill="${scene.background}"/>`);
  parts.push(`<text x="${PAD}" y="19" font-size="14" fill="${ink}">${escapeXml(picture.title)}</text>`);
  parts.push(`<g transform="translate(0 ${TITLE_BAND})">`);
  const { input } = scene;
  if (input.pixels) parts.push(inputImage(scene));
  parts.push(
    `<rect x="${fixed(input.x - 0.5)}" y="${fixed(input.y - 0.5)}" width="${fixed(input.side + 1)}" height="${fixed(input.side + 1)}" fill="none" stroke="#808080" stroke-opacity="0.6"/>`,
  );
  for (const batch of scene.edges) {
    const d: string[] = [];
    for (let line = 0; line < batch.lines.length; line += 4) {
      const [x1, y1, x2, y2] = batch.lines.subarray(line, line + 4);
      d.push(`M${fixed(x1!)} ${fixed(y1!)}L${fixed(x2!)} ${fixed(y2!)}`);
    }
    parts.push(
      `<path d="${d.join('')}" stroke="${batch.color}" stroke-opacity="${fixed(batch.alpha, 3)}" stroke-width="${fixed(batch.width)}" fill="none"/>`,
    );
  }
  for (const column of scene.columns) {
    parts.push(column.ring ? `<g stroke="${SCENE_COLORS.ring}">` : '<g>');
    const bar = binBar(column);
    column.y.forEach((y, item) => {
      const fill = column.colors[item] || SCENE_COLORS.missing;
      parts.push(
        bar
          ? `<rect x="${fixed(column.x - bar.width / 2)}" y="${fixed(y - bar.height / 2)}" width="${fixed(bar.width)}" height="${fixed(bar.height)}" fill="${fill}"/>`
          : `<circle cx="${fixed(column.x)}" cy="${fixed(y)}" r="${fixed(column.radius)}" fill="${fill}"/>`,
      );
    });
    parts.push('</g>');
  }
  if (scene.findingMarks.length > 0) {
    parts.push(`<g fill="none" stroke="${SCENE_COLORS.finding}" stroke-width="1.5">`);
    for (const mark of scene.findingMarks) {
      parts.push(
        mark.radius >= 2
          ? `<circle cx="${fixed(mark.x)}" cy="${fixed(mark.y)}" r="${fixed(mark.radius + 2)}"/>`
          : `<path d="M${fixed(mark.x - 7)} ${fixed(mark.y)}H${fixed(mark.x - 3)}"/>`,
      );
    }
    parts.push('</g>');
  }
  if (scene.selected) {
    const { x, y, radius } = scene.selected;
    parts.push(
      `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="${fixed(radius + 3)}" fill="none" stroke="${SCENE_COLORS.selected}" stroke-width="2.5"/>`,
    );
  }
  for (const text of scene.texts) {
    parts.push(
      `<text x="${fixed(text.x)}" y="${fixed(text.y)}" font-size="${text.size ?? 12}" dominant-baseline="middle" text-anchor="${text.align}" fill="${text.color}">${escapeXml(text.text)}</text>`,
    );
  }
  parts.push('</g>');
  parts.push(`<g font-size="12" fill="${ink}">`, ...key.parts, '</g>');
  parts.push('</svg>');
  return parts.join('\n');
}

function inputImage(scene: NetworkScene): string {
  const { pixels, drawn } = scene.input;
  const { rows, columns, rgba } = pixels!;
  const width = drawn.width / columns;
  const height = drawn.height / rows;
  const rects: string[] = [`<g shape-rendering="crispEdges">`];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const at = 4 * (row * columns + column);
      if (rgba[at + 3] === 0) continue;
      rects.push(
        `<rect x="${fixed(drawn.x + column * width)}" y="${fixed(drawn.y + row * height)}" width="${fixed(width + 0.05)}" height="${fixed(height + 0.05)}" fill="rgb(${rgba[at]},${rgba[at + 1]},${rgba[at + 2]})"/>`,
      );
    }
  }
  rects.push('</g>');
  return rects.join('');
}

/** The legend below the picture: each caption, then its stops, wrapped onto as many lines as the width needs. */
function legend(legend: SceneLegend, top: number, width: number): { parts: string[]; height: number } {
  const parts: string[] = [];
  let line = top;
  const group = (caption: string, stops: readonly LegendStop[]) => {
    parts.push(`<text x="${PAD}" y="${fixed(line + 13)}">${escapeXml(caption)}</text>`);
    let x = PAD + 7 * caption.length + 16;
    for (const stop of stops) {
      const itemWidth = 30 + 7.5 * stop.label.length;
      if (x + itemWidth > width - PAD && x > PAD) {
        x = PAD;
        line += LINE_HEIGHT;
      }
      parts.push(
        stop.ring
          ? `<circle cx="${fixed(x + 6.5)}" cy="${fixed(line + 8.5)}" r="5.5" fill="none" stroke="${stop.color}" stroke-width="2"/>`
          : `<rect x="${fixed(x)}" y="${fixed(line + 2)}" width="13" height="13" fill="${stop.color}" stroke="#888"/>`,
      );
      parts.push(`<text x="${fixed(x + 18)}" y="${fixed(line + 13)}">${escapeXml(stop.label)}</text>`);
      x += itemWidth;
    }
    line += LINE_HEIGHT;
  };
  group(legend.caption, legend.stops);
  if (legend.domains.length > 0) group(legend.domains.join(' · '), []);
  if (legend.links) group(legend.links.caption, legend.links.stops);
  return { parts, height: line - top + 8 };
}

/** Whether XML can hold a character at all: not the C0 controls but tab, LF and CR, nor U+FFFE and U+FFFF. */
function isXmlChar(code: number): boolean {
  return code === 9 || code === 10 || code === 13 || (code >= 32 && code !== 0xfffe && code !== 0xffff);
}

/** Text as XML character data: markup characters escaped, and characters XML cannot hold dropped. */
export function escapeXml(text: string): string {
  let held = '';
  for (const character of text) if (isXmlChar(character.charCodeAt(0))) held += character;
  return held.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
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
