/**
 * Runs recorded through the library in the built viewer: a user's model.fit seen through callbacks
 * (mode 2) shows what it recorded and says what it could not, instead of drawing NaN as data.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { rgb } from 'd3-color';
import type { Page } from 'playwright-core';
import { NON_FINITE_COLORS } from '../../core/view/colors.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobsCsv, writeShapes } from '../../examples/make-data.js';
import { ROOT, tempDir } from '../helpers.js';
import { failOnPageErrors, openPage, paintedPixels, serveRuns, startSession, type ViewerSession } from './harness.js';

let session: ViewerSession;

/** Pixels of the network canvas of exactly this colour. */
function pixelsOf(page: Page, color: { r: number; g: number; b: number }): Promise<number> {
  return page.evaluate(
    ({ r, g, b }) => {
      const canvas = document.querySelector('[data-testid="network"] canvas') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let index = 0; index < data.length; index += 4) if (data[index] === r && data[index + 1] === g && data[index + 2] === b) count++;
      return count;
    },
    { r: color.r, g: color.g, b: color.b },
  );
}

beforeAll(async () => {
  const runs = tempDir('browser-library');
  const data = tempDir('browser-data');
  writeFileSync(join(data, 'blobs.csv'), blobsCsv(300));
  writeShapes(join(data, 'shapes'), 20);
  const run = promisify(execFile);
  const record = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'recorder', 'cli.ts'), ...args, '--out', runs, '--quiet'], { cwd: ROOT });
  await Promise.all([
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'callbacks.ts'), '--out', runs, '--epochs', '1'], { cwd: ROOT }),
    record(['--data', join(data, 'blobs.csv'), '--layers', '16', '--epochs', '2', '--name', 'table']),
    record(['--data', join(data, 'shapes'), '--layers', '8', '--epochs', '2', '--batch-size', '9', '--name', 'images']),
  ]);
  session = await startSession(await serveRuns(runs));
}, 120_000);

/** The picture saved as SVG: its input image's cells, and its text. */
async function savedSvg(page: Page): Promise<{ cells: string[]; svg: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'SVG' }).click()]);
  const svg = readFileSync((await download.path())!, 'utf8');
  const input = /<g shape-rendering="crispEdges">(.*?)<\/g>/.exec(svg)![1]!;
  return { cells: input.match(/fill="rgb\([^)]*\)"/g) ?? [], svg };
}

afterAll(async () => {
  await session?.close();
});

const open = (path: string): Promise<Page> => openPage(session.browser, `${session.origin}${path}`);

failOnPageErrors();

describe('a run of model.fit recorded through callbacks', () => {
  it('says what is not recorded and why, and shows the probes instead of the batch', async () => {
    const page = await open('/?run=callbacks-example&step=100');
    await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
    // The model's Dropout(0.2) after its second Dense layer is in the header.
    expect(await page.getByTestId('run-header').innerText()).toContain('784-128-64-10 relu, dropout 0.2 after layer 2, sgd lr 0.1');
    const note = page.getByTestId('absent');
    expect(await note.innerText()).toMatch(
      /^Recorded from digits through model\.fit's callbacks; not recorded: batch indices, .*∂L\/∂z.* — model\.fit's callbacks do not see the batch .*; gradient norm, .* — model\.fit's callbacks see the weights before and after each update, not the gradients\. The picture shows the probes, which are recorded\.$/,
    );
    // The first probe is shown; the batch cannot be chosen.
    await page.waitForFunction(() => window.location.search.includes('probe=0'));
    const probes = page.getByRole('group', { name: 'Probe inputs' });
    expect(await probes.getByRole('button', { name: 'batch mean' }).isDisabled()).toBe(true);
    // Drawn from the probe's recorded values: no neuron in the NaN colour (as every neuron was when the batch's NaN was drawn).
    await page.locator('[data-testid="network"] canvas').waitFor();
    expect((await paintedPixels(page)).count).toBeGreaterThan(5000);
    expect(await pixelsOf(page, rgb(NON_FINITE_COLORS.nan))).toBe(0);
    // The dashboard says which charts have nothing to show.
    await page.locator('[data-testid="chart"][data-title="Gradient norm per layer"]').waitFor();
    expect(
      await page.getByText("Not recorded in this run: model.fit's callbacks see the weights before and after each update").count(),
    ).toBe(1);
    await page.close();
  });
});

describe('runs of the user’s own data', () => {
  it('draws a table’s 20 features as a labelled strip', async () => {
    const page = await open('/?run=table&step=10');
    await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
    expect(await page.getByTestId('run-header').innerText()).toContain('blobs.csv, 20-16-3 relu');
    const { cells, svg } = await savedSvg(page);
    expect(cells).toHaveLength(20);
    for (const name of ['f01', 'f10', 'f20']) expect(svg).toContain(`>${name}</text>`);
    // Three class names beside the output neurons.
    for (const name of ['setosa-like', 'versicolor-like', 'virginica-like']) expect(svg).toContain(`>${name}</text>`);
    await page.close();
  });

  it('draws 32×32 colour images in colour, in the picture and the probe strip', async () => {
    const page = await open('/?run=images&step=5&probe=1');
    await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
    const { cells } = await savedSvg(page);
    expect(cells).toHaveLength(32 * 32);
    // A shape in colour on a dark ground: some cells are not grey.
    const coloured = cells.filter((cell) => {
      const [r, g, b] = cell.match(/\d+/g)!.map(Number);
      return r !== g || g !== b;
    });
    expect(coloured.length).toBeGreaterThan(20);
    expect(await page.getByRole('group', { name: 'Probe inputs' }).getByRole('img').count()).toBeGreaterThan(2);
    await page.close();
  });
});
