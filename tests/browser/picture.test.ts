/**
 * The network picture, measured in pixels of the canvas in Chromium: that it shows what the numbers
 * say. The vanishing lesson in the links' ink, a selection that stands out, zoom that makes every
 * neuron of a 512-neuron layer clickable, stale links marked on the picture.
 */
import type { Page } from 'playwright-core';
import { rgb } from 'd3-color';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINDING_COLOR, signedColorOf, STAGE_COLOR } from '../../core/view/colors.js';
import { layoutNetwork, type NetworkLayout } from '../../core/view/layout.js';
import { RunData } from '../../viewer/src/lib/run-data.svelte.js';
import { runRecorder, tempDir, TINY } from '../helpers.js';
import { failOnPageErrors, openPage, serveRuns, startSession, type ViewerSession } from './harness.js';

let session: ViewerSession;

beforeAll(async () => {
  const runs = tempDir('picture');
  const recorded = await Promise.all([
    runRecorder(['--preset', 'vanishing', '--max-steps', '40', '--out', runs, '--name', 'vanishing', '--quiet']),
    runRecorder([...TINY, '--out', runs, '--name', 'tiny', '--max-steps', '30']),
    runRecorder([...TINY, '--layers', '512,16', '--out', runs, '--name', 'wide', '--max-steps', '6']),
    // A budget that keeps layer 2's weights only at the first and last steps (784-16-8-10: 205 kB for those).
    runRecorder([...TINY, '--out', runs, '--name', 'sparse', '--max-steps', '40', '--budget', '210000', '--link-age', '0']),
  ]);
  for (const run of recorded) expect(run.code, run.stderr).toBe(0);
  session = await startSession(await serveRuns(runs));
}, 120_000);

afterAll(async () => {
  await session?.close();
});

failOnPageErrors();

async function openRun(query: string): Promise<{ page: Page; layout: NetworkLayout; sizes: number[] }> {
  const page = await openPage(session.browser, `${session.origin}/?${query}`);
  await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
  const run = new URLSearchParams(query).get('run')!;
  const manifest = JSON.parse(await (await page.request.get(`${session.origin}/runs/${run}/run.json`)).text());
  const sizes = manifest.layers.map((layer: { size: number }) => layer.size) as number[];
  const box = (await page.locator('[data-testid="network"] canvas').boundingBox())!;
  // Draws happen once per animation frame: let the last one land.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve))));
  return { page, layout: layoutNetwork(sizes, box.width, box.height), sizes };
}

/** The canvas's pixels, and their brightness above the stage's background. */
async function pixels(
  page: Page,
): Promise<{ width: number; height: number; light: (x: number, y: number) => number; rgb: Uint8ClampedArray }> {
  const { width, height, data } = await page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="network"] canvas') as HTMLCanvasElement;
    const image = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    return { width: image.width, height: image.height, data: Array.from(image.data) };
  });
  const background = rgb(STAGE_COLOR);
  const base = background.r + background.g + background.b;
  const values = Uint8ClampedArray.from(data);
  return {
    width,
    height,
    rgb: values,
    light: (x, y) => {
      const index = (Math.round(y) * width + Math.round(x)) * 4;
      return Math.max(0, values[index]! + values[index + 1]! + values[index + 2]! - base);
    },
  };
}

/** Ink between two columns: brightness summed over the gap, away from the dots and the labels above and below. */
function gapInk(image: Awaited<ReturnType<typeof pixels>>, layout: NetworkLayout, gap: number): number {
  const from = layout.columns[gap]!;
  const to = layout.columns[gap + 1]!;
  let ink = 0;
  for (let x = Math.ceil(from.x + 12); x < to.x - 12; x++) for (let y = 24; y < image.height - 24; y++) ink += image.light(x, y);
  return ink;
}

describe('the network picture', () => {
  it('shows the vanishing gradient in the links: their ink falls gap by gap toward the input (global and log scale)', async () => {
    // The global scale from the link; the log scale by choosing the finding, which sets the view that shows it.
    for (const scale of ['global', 'log']) {
      const { page, layout } = await openRun(`run=vanishing&step=30&view=${scale === 'global' ? 'gradient&scale=global' : 'activation'}`);
      if (scale === 'log') {
        await page
          .getByTestId('findings')
          .getByRole('button', { name: /^vanishing gradient — layer 3/ })
          .click();
        await page.waitForFunction(() => /view=gradient.*scale=log|scale=log.*view=gradient/.test(window.location.search));
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve))));
      }
      const image = await pixels(page);
      // Gaps between dense layers 1–2, 2–3, 3–4, 4–5 (layer 1's inputs are the image).
      const ink = [0, 1, 2, 3].map((gap) => gapInk(image, layout, gap));
      // The output side carries ink, and every gap toward the input carries less, down to none (measured:
      // global 0, 0, 0, 3.2e6; log 0, 0, 1.1e7, 1.6e7 — the 3–4 gap has 4096 links to the 4–5 gap's 640).
      // On the global (linear) scale the gradient one gap down is already too small to see.
      expect(ink[3]).toBeGreaterThan(scale === 'global' ? 20 * ink[2]! : ink[2]!);
      if (scale === 'log') expect(ink[2]).toBeGreaterThan(ink[1]!);
      expect(ink[2]).toBeGreaterThanOrEqual(ink[1]!);
      expect(ink[1]).toBeGreaterThanOrEqual(ink[0]!);
      await page.close();
    }
  });

  it('draws a selected neuron’s links stronger than before and the other links weaker', async () => {
    const before = await openRun('run=tiny&step=20&view=activation');
    const after = await openRun('run=tiny&step=20&view=activation&neuron=2.3');
    const [plain, selected] = [await pixels(before.page), await pixels(after.page)];
    const { layout } = after;
    const from = layout.columns[1]!;
    const to = layout.columns[2]!;
    // The middle of each link out of neuron 2.3, and of each link out of the other neurons of layer 2.
    const middle = (neuron: number, target: number) => [(from.x + to.x) / 2, (from.y[neuron]! + to.y[target]!) / 2] as const;
    const own = Array.from({ length: 10 }, (_, target) => middle(3, target));
    const others = Array.from({ length: 8 }, (_, neuron) => neuron)
      .filter((neuron) => neuron !== 3)
      .flatMap((neuron) => Array.from({ length: 10 }, (_, target) => middle(neuron, target)))
      // Points where another link crosses one of neuron 2.3's links are not the others' own.
      .filter(([, y]) => own.every(([, ownY]) => Math.abs(ownY - y) > 3));
    const mean = (image: typeof plain, points: (readonly [number, number])[]) =>
      points.reduce((total, [x, y]) => total + image.light(x, y), 0) / points.length;
    expect(mean(selected, own)).toBeGreaterThan(1.5 * mean(plain, own));
    expect(mean(selected, others)).toBeLessThan(0.7 * mean(plain, others));
    await before.page.close();
    await after.page.close();
  });

  it('names the link under the pointer with its recorded value', async () => {
    const { page, layout } = await openRun('run=tiny&step=5&view=activation');
    const run = new RunData();
    await run.load(`${session.origin}/runs/tiny`);
    const kept = run.snapshotAt(3, 5)!;
    const box = (await page.locator('[data-testid="network"] canvas').boundingBox())!;
    const from = layout.columns[1]!;
    const to = layout.columns[2]!;
    // Down a line a third of the way across the gap between layers 2 and 3: every link named there
    // passes within reach of the pointer and carries its own recorded W.
    const x = from.x + (to.x - from.x) / 3;
    const named = new Set<string>();
    for (let y = 30; y < box.height - 30; y += 9) {
      await page.mouse.move(box.x + x, box.y + y);
      const tooltip = page.getByRole('tooltip');
      const text = (await tooltip.count()) > 0 ? await tooltip.textContent() : '';
      const link = /^link 2\.(\d+) → 3\.(\d+)\nW = (\S+)/.exec(text ?? '');
      if (!link) continue;
      const [source, target, value] = [Number(link[1]), Number(link[2]), Number(link[3])];
      const lineY = from.y[source]! + ((to.y[target]! - from.y[source]!) * (x - from.x)) / (to.x - from.x);
      expect(Math.abs(lineY - y)).toBeLessThanOrEqual(3.5);
      const recorded = kept.weight[source * 10 + target]!;
      expect(Math.abs(value - recorded)).toBeLessThanOrEqual(Math.abs(recorded) * 1e-3);
      named.add(`${source}→${target}`);
    }
    expect(named.size).toBeGreaterThanOrEqual(5);
    await page.close();
  });

  it('zooms until every neuron of a 512-neuron layer can be clicked: 20 random ones select exactly themselves', async () => {
    const { page, layout, sizes } = await openRun('run=wide&step=3&view=activation');
    // At the overview the 512 neurons are binned; a bin opens by zooming in.
    expect(layout.columns[0]!.spacing).toBeLessThan(3.5);
    for (let press = 0; press < 3; press++) await page.keyboard.press('+');
    const network = page.getByTestId('network');
    await page.waitForFunction(() => document.querySelector('[data-testid="network"]')?.getAttribute('data-zoom') === '8');
    const transform = async () => ({
      zoom: Number(await network.getAttribute('data-zoom')),
      x: Number(await network.getAttribute('data-pan-x')),
      y: Number(await network.getAttribute('data-pan-y')),
    });
    // A seeded choice of 20 neurons of the 512.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    const chosen = new Set<number>();
    while (chosen.size < 20) chosen.add(Math.floor(random() * 512));
    for (const neuron of chosen) {
      // The picture narrows once the inspector opens beside it: its layout is read again each time.
      const box = (await page.locator('[data-testid="network"] canvas').boundingBox())!;
      const column = layoutNetwork(sizes, box.width, box.height).columns[0]!;
      let view = await transform();
      const onScreen = () => ({ x: column.x * view.zoom + view.x, y: column.y[neuron]! * view.zoom + view.y });
      let at = onScreen();
      // Out of view: drag the picture (from near its top) until the neuron is in the middle.
      for (let drag = 0; drag < 8 && (at.x < 30 || at.x > box.width - 30 || at.y < 30 || at.y > box.height - 30); drag++) {
        const grab = { x: box.x + box.width / 2, y: box.y + 40 };
        const reach = (distance: number, room: number) => Math.max(-room, Math.min(room, distance));
        await page.mouse.move(grab.x, grab.y);
        await page.mouse.down();
        await page.mouse.move(
          grab.x + reach(box.width / 2 - at.x, box.width / 2 - 20),
          grab.y + reach(box.height / 2 - at.y, box.height - 60),
          {
            steps: 4,
          },
        );
        await page.mouse.up();
        view = await transform();
        at = onScreen();
      }
      await page.mouse.click(box.x + at.x, box.y + at.y);
      await page.getByRole('heading', { name: `Neuron 1.${neuron}` }).waitFor();
      await page.waitForFunction(
        (neuron) => window.location.search.includes(`neuron=1.${neuron}&`) || window.location.search.endsWith(`neuron=1.${neuron}`),
        neuron,
      );
    }
    await page.close();
  });

  it('shows every first-layer neuron’s incoming weights as a wall that follows the step, and selects a neuron from it', async () => {
    const { page } = await openRun('run=tiny&step=12&view=activation');
    await page.getByText("Layer 1's receptive fields").click();
    const wall = page.getByTestId('receptive-fields');
    await wall.getByText(/incoming weights W[\s\S]*\(step 12\)/).waitFor();
    await page.keyboard.press('ArrowRight');
    await wall.getByText(/\(step 13\)/).waitFor();
    // 16 tiles of 28 × 28 values in the index order: tile 5 is neuron 1.5; every tile is painted.
    const tiles = await wall.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let index = 3; index < data.length; index += 4) if (data[index] === 255) painted++;
      return { painted, width: canvas.width };
    });
    expect(tiles.painted).toBe(16 * 784 * 9);
    const box = (await wall.locator('canvas').boundingBox())!;
    const tile = 3 * 28 + 2;
    await page.mouse.click(box.x + 5 * tile + 10, box.y + 10);
    await page.getByRole('heading', { name: 'Neuron 1.5' }).waitFor();
    await page.close();
  });

  it('shows on the wall what training changed since step 0: nothing at step 0, a pattern later', async () => {
    const { page } = await openRun('run=tiny&step=0&view=activation');
    await page.getByText("Layer 1's receptive fields").click();
    const wall = page.getByTestId('receptive-fields');
    await wall.getByText(/\(step 0\)/).waitFor();
    await wall.getByLabel('What the receptive fields show').selectOption('change');
    await wall.getByText(/change since step 0, W − W₀/).waitFor();
    const colours = () =>
      wall.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const seen = new Set<string>();
        for (let index = 0; index < data.length; index += 4)
          if (data[index + 3] === 255) seen.add(`${data[index]},${data[index + 1]},${data[index + 2]}`);
        return [...seen];
      });
    const zero = rgb(signedColorOf(0));
    expect(await colours()).toEqual([`${zero.r},${zero.g},${zero.b}`]);
    // The keys move the step once the select has let go of the focus: End, to the last step.
    await wall.getByLabel('What the receptive fields show').evaluate((select: HTMLElement) => select.blur());
    await page.keyboard.press('End');
    await wall.getByText(/\(step 29\b|the nearest kept at or before 29\b/).waitFor();
    expect((await colours()).length).toBeGreaterThan(20);
    await page.close();
  });

  it('marks links older than the step shown on the picture itself', async () => {
    const finding = rgb(FINDING_COLOR);
    // The label's colour above the gap between layers 1 and 2.
    const marks = async (step: number) => {
      const { page, layout } = await openRun(`run=sparse&step=${step}&view=activation`);
      const image = await pixels(page);
      let count = 0;
      for (let x = Math.round(layout.columns[0]!.x); x < layout.columns[1]!.x; x++)
        for (let y = 0; y < 22; y++) {
          const index = (y * image.width + x) * 4;
          const [r, g, b] = [image.rgb[index]!, image.rgb[index + 1]!, image.rgb[index + 2]!];
          if (Math.abs(r - finding.r) + Math.abs(g - finding.g) + Math.abs(b - finding.b) < 60) count++;
        }
      const note = await page.getByText(/Not kept at this step; showing the nearest earlier snapshot \(layer 2: step 0/).count();
      await page.close();
      return { count, note };
    };
    const stale = await marks(20);
    const fresh = await marks(0);
    expect(stale.note).toBe(1);
    expect(stale.count).toBeGreaterThan(20);
    expect(fresh).toEqual({ count: 0, note: 0 });
  });
});
