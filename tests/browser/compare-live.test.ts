/**
 * Two runs side by side with one cursor, and a run watched while it records, in Debian's Chromium
 * against the built viewer (`npm run build` first; the test command does).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatValue } from '../../core/view/chart-series.js';
import { layoutNetwork } from '../../core/view/layout.js';
import { openRunFolder } from '../../recorder/open-run.js';
import { runRecorder, startRecorder, tempDir, TINY, waitFor } from '../helpers.js';
import { failOnPageErrors, openPage, paintedPixels, serveRuns, startSession, type ViewerSession } from './harness.js';

let session: ViewerSession;
let runs = '';

beforeAll(async () => {
  runs = tempDir('compare');
  const recorded = await Promise.all([
    runRecorder([...TINY, '--out', runs, '--name', 'a', '--max-steps', '40', '--seed', '1']),
    // Two learning rates from one seed (their neurons correspond), and another seed (they do not).
    runRecorder([...TINY, '--out', runs, '--name', 'b', '--max-steps', '40', '--seed', '1', '--lr', '0.05']),
    runRecorder([...TINY, '--out', runs, '--name', 'seed2', '--max-steps', '40', '--seed', '2']),
    runRecorder([...TINY, '--out', runs, '--name', 'wide', '--max-steps', '40', '--layers', '24,8', '--batch-size', '64']),
  ]);
  expect(recorded.map((run) => run.code)).toEqual([0, 0, 0, 0]);
  session = await startSession(await serveRuns(runs));
}, 90_000);

afterAll(async () => {
  await session?.close();
});

const open = (path: string): Promise<Page> => openPage(session.browser, `${session.origin}${path}`);

/** The rows of the "what differs" table: field, A, B. */
function configRows(page: Page): Promise<string[][]> {
  return page
    .getByTestId('config-diff')
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((row) => Array.from(row.querySelectorAll('td, th'), (cell) => cell.textContent!.trim())));
}

/** A per-step scalar of a run at one step, read by the format reader. */
async function recordedAt(run: string, step: number, quantity: 'loss' | 'accuracy'): Promise<number> {
  const reader = await openRunFolder(join(runs, run));
  const chunk = await reader.readSteps(0);
  return chunk.values.get(quantity)![step - chunk.firstStep]!;
}

/** Mean activation of one neuron at one step, read from the run's files by the format reader. */
async function meanActivation(run: string, step: number, layer: number, neuron: number): Promise<number> {
  const reader = await openRunFolder(join(runs, run));
  const chunk = await reader.readSteps(0);
  const size = reader.manifest.layers[layer]!.size;
  return chunk.values.get('meanActivation', layer)![(step - chunk.firstStep) * size + neuron]!;
}

failOnPageErrors();

describe('comparing two runs', () => {
  it('draws both, lists what differs, moves both with one cursor, and shows A − B per neuron from one seed', async () => {
    const page = await open('/?compare=a,b&step=10&neuron=2.3');
    // Exactly the one setting that differs.
    await page.getByTestId('config-diff').waitFor();
    expect(await configRows(page)).toEqual([['learningRate', '0.1', '0.05']]);
    await page.getByTestId('compare-steps').filter({ hasText: 'A at step 10, B at step 10' }).waitFor();
    await page.locator('[data-testid="difference"] [data-testid="network"] canvas').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="network"] canvas').length === 3);
    const before = [await paintedPixels(page, '[data-testid="compare-a"]'), await paintedPixels(page, '[data-testid="compare-b"]')];
    expect(before.every((side) => side.count > 5000)).toBe(true);
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('compare-steps').filter({ hasText: 'A at step 11, B at step 11' }).waitFor();
    await page.waitForFunction(() => window.location.search.includes('step=11') && window.location.search.includes('compare=a,b'));
    const after = [await paintedPixels(page, '[data-testid="compare-a"]'), await paintedPixels(page, '[data-testid="compare-b"]')];
    expect(after[0]!.digest).not.toBe(before[0]!.digest);
    expect(after[1]!.digest).not.toBe(before[1]!.digest);

    // The difference panel's tooltip for neuron 2.3 against the values in the two runs' files.
    const canvas = page.locator('[data-testid="difference"] [data-testid="network"] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const column = layoutNetwork([784, 16, 8, 10], box.width, box.height).columns[1]!;
    await page.mouse.move(box.x + column.x, box.y + column.y[3]!);
    const tooltip = await page.getByRole('tooltip').filter({ hasText: 'A − B activation' }).textContent();
    const expected = (await meanActivation('a', 11, 2, 3)) - (await meanActivation('b', 11, 2, 3));
    expect(tooltip).toContain(`neuron 2.3\nA − B activation: ${expected.toPrecision(6)}`);
    // The inspector overlays both runs' histories of the selected neuron.
    await page.getByRole('heading', { name: 'Neuron 2.3, both runs' }).waitFor();
    const inspector = page.getByRole('region', { name: 'Neuron inspector' });
    expect(await inspector.locator('[data-testid="chart-readout"] [data-label="B mean activation"]').count()).toBe(1);
    await page.close();
  });

  it('refuses a neuron-level difference for two seeds, saying why, and compares the layers’ distributions and curves instead', async () => {
    const page = await open('/?compare=a,seed2&step=20');
    await page.getByTestId('difference-unavailable').filter({ hasText: 'different seeds (1 and 2)' }).waitFor();
    expect(await page.locator('[data-testid="difference"] [data-testid="network"]').count()).toBe(0);
    expect(await configRows(page)).toEqual([['seed', '1', '2']]);
    // Both runs on every chart, a colour each: the loss of A and of B at step 20 as recorded.
    const loss = page.locator('[data-testid="chart"][data-title="Loss"]');
    await expect.poll(() => loss.getByTestId('chart-readout').getAttribute('data-step')).toBe('20');
    const value = (chart: typeof loss, label: string) =>
      chart.locator(`[data-testid="chart-readout"] [data-label="${label}"] [data-testid="value"]`).innerText();
    expect(await value(loss, 'A loss')).toBe(formatValue(await recordedAt('a', 20, 'loss')));
    expect(await value(loss, 'B loss')).toBe(formatValue(await recordedAt('seed2', 20, 'loss')));
    const layer2 = page.locator('[data-testid="chart"][data-title="Layer 2"]');
    expect(await layer2.locator('[data-label="A median"]').count()).toBe(1);
    expect(await layer2.locator('[data-label="B median"]').count()).toBe(1);
    // The weights too, each run at its own kept snapshots: at step 0 both kept theirs.
    await page.getByLabel('Distribution of').selectOption('weight');
    const weights = page.locator('[data-testid="chart"][data-title="Layer 2"]');
    await weights.locator('[data-label="A median"] [data-testid="value"]').waitFor();
    expect(await weights.locator('[data-label="B median"]').count()).toBe(1);
    await page.close();
  });

  it('says why there is no difference view for different shapes, and aligns by epoch', async () => {
    const page = await open('/?compare=a,wide&align=epoch&step=20');
    await page.getByTestId('difference-unavailable').filter({ hasText: 'these runs are 784-16-8-10 and 784-24-8-10' }).waitFor();
    // Batch 32 against batch 64: one step of B is two of A.
    await page.getByTestId('compare-steps').filter({ hasText: 'A at step 20, B at step 10' }).waitFor();
    await page.getByLabel('Align by').selectOption('step');
    await page.getByTestId('compare-steps').filter({ hasText: 'A at step 20, B at step 20' }).waitFor();
    await page.close();
  });

  it('is reached from the run list by ticking two runs, A the first ticked whatever the table’s order', async () => {
    const page = await open('/');
    await page.getByRole('checkbox', { name: 'Compare wide' }).check();
    await page.getByRole('checkbox', { name: 'Compare a' }).check();
    await page.getByTestId('compare-link').click();
    await page.getByRole('heading', { name: 'A: wide' }).waitFor();
    await page.getByRole('heading', { name: 'B: a' }).waitFor();
    expect(new URL(page.url()).search).toBe('?compare=wide,a');
    await page.close();
  });

  it('sorts the runs table by any column, both ways, and filters it', async () => {
    const page = await open('/');
    await page.getByRole('link', { name: 'wide' }).waitFor();
    const order = () => page.locator('tbody tr[data-run]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run')));
    const header = (label: string) => page.getByRole('columnheader', { name: label, exact: false });
    // Seeds: a, b and wide 1, seed2 2.
    await header('Seed').getByRole('button').click();
    expect(await header('Seed').getAttribute('aria-sort')).toBe('ascending');
    const bySeed = await order();
    for (const run of ['a', 'b', 'wide']) expect(bySeed.indexOf('seed2')).toBeGreaterThan(bySeed.indexOf(run));
    await header('Seed').getByRole('button').click();
    expect(await header('Seed').getAttribute('aria-sort')).toBe('descending');
    expect((await order())[0]).toBe('seed2');
    // The network by its number of weights: wide (784-24-8-10) above a and b (784-16-8-10) when descending.
    await header('Network').getByRole('button').click();
    await header('Network').getByRole('button').click();
    expect(await header('Network').getAttribute('aria-sort')).toBe('descending');
    expect((await order())[0]).toBe('wide');
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('batch:64');
    await expect.poll(order).toEqual(['wide']);
    await page.getByRole('searchbox', { name: 'Filter runs' }).fill('');
    await expect.poll(async () => (await order()).length).toBeGreaterThanOrEqual(3);
    await page.close();
  });
});

describe('a run that is recording', () => {
  it('grows on the timeline while it records, then says it finished', async () => {
    const recorder = startRecorder([...TINY, '--out', runs, '--name', 'growing', '--max-steps', '240', '--pace', '40']);
    await waitFor(() => existsSync(join(runs, 'growing', 'run.json')), 30_000, 'the recorder to start');
    const page = await open('/?run=growing');
    const live = page.getByTestId('live');
    await live.and(page.locator('[data-state="recording"]')).waitFor();
    const loaded = async () => Number(await page.getByTestId('run-header').getAttribute('data-loaded-steps'));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loaded-steps')) > 0);
    const first = await loaded();
    // New steps reach the page while the recorder is still going.
    await page.waitForFunction(
      (first) => Number(document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loaded-steps')) >= first + 32,
      first,
      { timeout: 10_000 },
    );
    expect(existsSync(join(runs, 'growing', 'run.json'))).toBe(true);
    const finished = await recorder.done;
    expect(finished.code).toBe(0);
    await live.and(page.locator('[data-state="finished"]')).filter({ hasText: 'The recording finished.' }).waitFor({ timeout: 10_000 });
    expect(await loaded()).toBe(240);
    // Pinned to the newest step while live: the cursor ends on the last step.
    await page.getByText('step 239 of 239').waitFor();
    await page.close();
  }, 60_000);

  it('opened before its run.json exists, waits and appears without a reload; the run list says starting', async () => {
    // The recorder's first moment: its folder made, run.json not yet written.
    mkdirSync(join(runs, 'early'));
    const list = await open('/');
    await list.getByRole('row', { name: /early starting/ }).waitFor();
    const page = await open('/?run=early');
    await page.getByTestId('run-loading').filter({ hasText: 'its run.json not yet' }).waitFor();
    // Still waiting after two polls: not an error.
    await page.waitForTimeout(2500);
    expect(await page.getByRole('alert').count()).toBe(0);
    const recorder = startRecorder([...TINY, '--out', runs, '--name', 'early', '--force', '--max-steps', '120', '--pace', '40']);
    await page.getByTestId('live').and(page.locator('[data-state="recording"]')).waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loaded-steps')) > 0);
    expect((await recorder.done).code).toBe(0);
    await page.getByText('step 119 of 119').waitFor({ timeout: 10_000 });
    await list.close();
    await page.close();
  }, 60_000);
});
