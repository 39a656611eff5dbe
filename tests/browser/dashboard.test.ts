/**
 * The dashboard under the picture, in Debian's Chromium against the built viewer: what a chart shows
 * on hover is what the run recorded, smoothing changes the line and not the value, zoom and reset,
 * and the step cursor linked with the timeline.
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatValue } from '../../core/view/chart-series.js';
import { openRunFolder } from '../../recorder/open-run.js';
import { runRecorder, tempDir, TINY } from '../helpers.js';
import { failOnPageErrors, openPage, serveRuns, startSession, type ViewerSession } from './harness.js';

let session: ViewerSession;
let runs = '';

beforeAll(async () => {
  runs = tempDir('dashboard');
  const recorded = await runRecorder([...TINY, '--out', runs, '--name', 'tiny', '--max-steps', '60']);
  expect(recorded.code).toBe(0);
  session = await startSession(await serveRuns(runs));
}, 90_000);

afterAll(async () => {
  await session?.close();
});

failOnPageErrors();

/** The run's only chunk, read by the format reader. */
async function recorded() {
  const reader = await openRunFolder(join(runs, 'tiny'));
  return reader.readSteps(0);
}

async function openRun(query: string): Promise<Page> {
  const page = await openPage(session.browser, `${session.origin}/?${query}`);
  await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
  await page.locator('[data-testid="chart"][data-title="Loss"] .u-over').waitFor();
  return page;
}

const chart = (page: Page, title: string): Locator => page.locator(`[data-testid="chart"][data-title="${title}"]`);
const readoutValue = (of: Locator, label: string): Locator =>
  of.locator(`[data-testid="chart-readout"] [data-label="${label}"] [data-testid="value"]`);

/** Moves the pointer over a chart's plot at `fraction` of its width; returns the step the readout then shows. */
async function hover(page: Page, of: Locator, fraction: number): Promise<number> {
  await of.scrollIntoViewIfNeeded();
  const box = (await of.locator('.u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  const readout = of.getByTestId('chart-readout');
  await readout.filter({ hasText: '(pointer)' }).waitFor();
  return Number(await readout.getAttribute('data-step'));
}

async function canvasDigest(of: Locator): Promise<string> {
  return of.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 0;
    for (let index = 0; index < data.length; index += 4)
      hash = (hash * 31 + data[index]! + data[index + 1]! * 7 + data[index + 2]! * 13) | 0;
    return String(hash);
  });
}

describe('the dashboard', () => {
  it('shows, at the current step and under the pointer, exactly the values the run recorded', async () => {
    const chunk = await recorded();
    const page = await openRun('run=tiny&step=20');
    const loss = chart(page, 'Loss');
    // Without the pointer: the timeline's step, every series (held-out loss was evaluated at step 20).
    await expect.poll(() => loss.getByTestId('chart-readout').getAttribute('data-step')).toBe('20');
    expect(await readoutValue(loss, 'loss').innerText()).toBe(formatValue(chunk.values.get('loss')![20]!));
    expect(await readoutValue(loss, 'held-out loss').innerText()).toBe(formatValue(chunk.values.get('evalLoss')!.values[20]!));
    const accuracy = chart(page, 'Accuracy');
    await expect.poll(() => accuracy.getByTestId('chart-readout').getAttribute('data-step')).toBe('20');
    expect(await readoutValue(accuracy, 'held-out accuracy').innerText()).toBe(formatValue(chunk.values.get('evalAccuracy')!.values[20]!));
    const gradNorm = chart(page, 'Gradient norm per layer');
    // A chart off screen follows the step once it settles (scrubbing redraws only the charts that are seen).
    await expect.poll(() => gradNorm.getByTestId('chart-readout').getAttribute('data-step')).toBe('20');
    expect(await readoutValue(gradNorm, 'layer 2').innerText()).toBe(formatValue(chunk.values.get('gradNorm', 2)![20]!));
    // The distribution of layer 1's mean activations at step 20: its median, computed here from the 16 neurons.
    const row = Array.from(chunk.values.get('meanActivation', 1)!.subarray(20 * 16, 21 * 16)).sort((a, b) => a - b);
    await expect.poll(() => chart(page, 'Layer 1').getByTestId('chart-readout').getAttribute('data-step')).toBe('20');
    expect(Number(await readoutValue(chart(page, 'Layer 1'), 'median').innerText())).toBeCloseTo((row[7]! + row[8]!) / 2, 5);
    // Under the pointer: the hovered step's values, in every chart (their cursors move together).
    const step = await hover(page, loss, 0.7);
    expect(step).toBeGreaterThan(30);
    expect(await readoutValue(loss, 'loss').innerText()).toBe(formatValue(chunk.values.get('loss')![step]!));
    await expect.poll(() => gradNorm.getByTestId('chart-readout').getAttribute('data-step')).toBe(String(step));
    expect(await readoutValue(gradNorm, 'layer 1').innerText()).toBe(formatValue(chunk.values.get('gradNorm', 1)![step]!));
    await page.close();
  });

  it('smooths the line, not the value: the readout keeps the recorded value beside the smoothed one', async () => {
    const chunk = await recorded();
    const page = await openRun('run=tiny&step=40');
    const loss = chart(page, 'Loss');
    await expect.poll(() => loss.getByTestId('chart-readout').getAttribute('data-step')).toBe('40');
    const raw = formatValue(chunk.values.get('loss')![40]!);
    const before = { picture: await canvasDigest(loss), smoothed: await loss.getByTestId('smoothed').first().innerText() };
    await page.getByLabel('Smoothing').fill('0.95');
    await expect.poll(() => loss.getByTestId('smoothed').first().innerText()).not.toBe(before.smoothed);
    expect(await canvasDigest(loss)).not.toBe(before.picture);
    expect(await readoutValue(loss, 'loss').innerText()).toBe(raw);
    // No smoothing: the recorded line alone, no smoothed value.
    await page.getByLabel('Smoothing').fill('0');
    await expect.poll(() => loss.getByTestId('smoothed').count()).toBe(0);
    expect(await readoutValue(loss, 'loss').innerText()).toBe(raw);
    await page.close();
  });

  it('zooms every chart into a dragged step range, resets, and goes to a clicked step', async () => {
    const page = await openRun('run=tiny&step=5');
    const loss = chart(page, 'Loss');
    const charts = await page.getByTestId('chart').count();
    expect(charts).toBeGreaterThanOrEqual(9);
    await loss.scrollIntoViewIfNeeded();
    const box = (await loss.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    // Every chart shows the same step range, each with its reset.
    await expect.poll(() => page.getByRole('button', { name: 'reset zoom' }).count()).toBe(charts);
    const zoomedLeft = await hover(page, loss, 0.01);
    expect(zoomedLeft).toBeGreaterThanOrEqual(28);
    expect(await hover(page, chart(page, 'Update-to-weight ratio per layer'), 0.01)).toBe(zoomedLeft);
    await page.getByRole('button', { name: 'reset zoom' }).first().click();
    await expect.poll(() => page.getByRole('button', { name: 'reset zoom' }).count()).toBe(0);
    expect(await hover(page, loss, 0.01)).toBeLessThanOrEqual(1);
    // A click goes to the step under the pointer; the timeline and the picture follow.
    const target = await hover(page, loss, 0.4);
    await page.mouse.down();
    await page.mouse.up();
    await page.getByText(`step ${target} of 59`).waitFor();
    await page.waitForFunction((target) => window.location.search.includes(`step=${target}`), target);
    await page.close();
  });
});
