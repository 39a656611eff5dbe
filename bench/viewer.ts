/**
 * Viewer speed and memory in headless Chromium (software raster), against `npm run build`:
 * first network paint after navigation, frame cost over a scripted scrub across the whole run
 * (p50/p95/max), and JS heap after loading the default run and a long run.
 *
 *   npm run bench:viewer [-- --run <name> --long-steps 10000]
 */
import { Command } from 'commander';
import { existsSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from '../viewer/headless.js';
import { listRuns } from '../viewer/run-list.js';
import { createViewerServer } from '../viewer/server.js';
import { recordRun } from '../recorder/record.js';
import { resolveConfig } from '../core/config.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const program = new Command('bench:viewer')
  .option('--run <name>', 'run in runs/ to measure (default: the newest complete one)')
  .option('--long-steps <n>', 'steps of the long run recorded for the heap measurement (0 to skip)', '10000')
  .parse(process.argv);
const options = program.opts<{ run?: string; longSteps: string }>();

const site = join(ROOT, 'build');
if (!existsSync(join(site, 'index.html'))) throw new Error('no built viewer: run `npm run build` first');
const runsDir = join(ROOT, 'runs');
const runName = options.run ?? listRuns(runsDir).find((run) => run.status === 'complete')?.name;
if (!runName) throw new Error('no complete run in runs/: record one with `npm run record`');

const benchRuns = join(import.meta.dirname, 'out', 'viewer-runs');
const longSteps = Number(options.longSteps);
if (longSteps > 0) {
  rmSync(benchRuns, { recursive: true, force: true });
  console.log(`recording a ${longSteps}-step run for the heap measurement…`);
  await recordRun({
    config: resolveConfig({ maxSteps: longSteps, epochs: 10_000 }),
    name: 'long',
    out: benchRuns,
    reproduce: () => 'npm run bench:viewer',
  });
}

const server = createViewerServer({ site, runs: runsDir });
const longServer = createViewerServer({ site, runs: benchRuns });
await Promise.all([server, longServer].map((http) => new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))));
const origin = (http: typeof server) => `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

const browser = await launchChromium();

/** JS heap and ArrayBuffer backing stores (where the decoded Arrow columns live), after a GC. */
async function heapMiB(page: Page): Promise<{ heap: number; buffers: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
  return { heap: usage.usedSize / 1024 ** 2, buffers: (usage.backingStorageSize ?? Number.NaN) / 1024 ** 2 };
}

async function loaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loading') === 'false',
    undefined,
    {
      timeout: 600_000,
      polling: 100,
    },
  );
}

const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${origin(server)}/?run=${encodeURIComponent(runName)}`);
await page.waitForFunction(() => performance.getEntriesByName('nv:first-network-paint').length > 0, undefined, { timeout: 60_000 });
const firstPaint = await page.evaluate(() => performance.getEntriesByName('nv:first-network-paint')[0]!.startTime);
await loaded(page);
const steps = await page.evaluate(() => Number((document.querySelector('input[type=range]') as HTMLInputElement).max) + 1);

// Scrub: move the slider one step at a time; each step's cost is the synchronous update (input
// handler and effects) plus the drawing work in the next animation frame.
const frames = await page.evaluate(async (count) => {
  const slider = document.querySelector('input[type=range]') as HTMLInputElement;
  const costs: number[] = [];
  for (let step = 0; step < count; step++) {
    const started = performance.now();
    slider.value = String(step);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    await Promise.resolve();
    const updated = performance.now();
    const drawn = await new Promise<number>((resolve) =>
      requestAnimationFrame((frameStart) => resolve(performance.now() - Math.max(frameStart, updated))),
    );
    costs.push(updated - started + drawn);
  }
  return costs;
}, steps);
const sorted = [...frames].sort((a, b) => a - b);
const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const heapDefault = await heapMiB(page);

let heapLong: { heap: number; buffers: number } | undefined;
let longLoaded = 0;
if (longSteps > 0) {
  const long = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await long.goto(`${origin(longServer)}/?run=long`);
  await loaded(long);
  heapLong = await heapMiB(long);
  longLoaded = await long.evaluate(() => Number(document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loaded-steps')));
  await long.close();
}
await browser.close();
server.close();
longServer.close();

console.log(`run ${runName}: ${steps} steps`);
console.log(`first network paint after navigation   ${firstPaint.toFixed(0)} ms   (target ≤ 300 ms)`);
console.log(
  `scrub across the run, per step           p50 ${percentile(50).toFixed(1)} ms, p95 ${percentile(95).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms   (target p95 ≤ 33 ms)`,
);
const memory = (usage: { heap: number; buffers: number }) =>
  `JS heap ${usage.heap.toFixed(1)} MiB + array buffers ${usage.buffers.toFixed(1)} MiB`;
console.log(`after loading ${runName.padEnd(27)} ${memory(heapDefault)}`);
if (heapLong !== undefined) console.log(`after loading a ${longSteps}-step run (${longLoaded} steps loaded) ${memory(heapLong)}`);
