/**
 * Viewer speed and memory in headless Chromium (software raster), against `npm run build`, for the
 * default run and a 784-512-256-128-10 run (recorded into bench/out if missing): first network paint
 * after navigation (first visit and repeat visit; when the network is drawn, and when the frame
 * showing it has been painted), frame cost over a scripted scrub across the whole run (p50/p95/max)
 * at overview and zoomed in, the JS heap after that; for a 100,000-step run of the default network
 * (kept in bench/out), its first picture and the page's memory once every step is loaded (issue 16's
 * targets: ≤ 2 s, ≤ 150 MiB); then how old the drawn links are at most, as a fraction of the run, and
 * the run folders' sizes (bench/link-age.ts).
 *
 *   npm run bench:viewer [-- --runs runs --run <name> --long-steps 100000 --paint-samples 9 --against <dir>]
 *
 * `--against` takes another build (say `cp -r build /tmp/before` at an older commit) and measures its
 * first visits to the default run alternately with this build's, printing the ratio of the medians.
 */
import { Command } from 'commander';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from '../viewer/headless.js';
import { listRuns } from '../viewer/run-list.js';
import { createViewerServer } from '../viewer/server.js';
import { recordRun } from '../recorder/record.js';
import { resolveConfig } from '../core/config.js';
import { SCHEMA_VERSION } from '../core/format/manifest.js';
import { describeFreshness, linkFreshness } from './link-age.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const program = new Command('bench:viewer')
  .option('--runs <dir>', 'folder of runs that holds the default run', 'runs')
  .option('--run <name>', 'run in --runs to measure (default: the newest complete run of the default network)')
  .option('--long-steps <n>', 'steps of the long run: its first picture and the page’s memory once loaded (0 to skip)', '100000')
  .option('--paint-samples <n>', 'first visits (fresh browser contexts) measured for the first paint', '9')
  .option('--against <dir>', 'another built site (a copy of build/ from another commit): first visits to both, alternating')
  .parse(process.argv);
const options = program.opts<{ runs: string; run?: string; longSteps: string; paintSamples: string; against?: string }>();
const paintSamples = Number(options.paintSamples);
if (!(Number.isInteger(paintSamples) && paintSamples >= 1))
  throw new Error(`--paint-samples: expected a whole number ≥ 1, got ${options.paintSamples}`);

const site = join(ROOT, 'build');
if (!existsSync(join(site, 'index.html'))) throw new Error('no built viewer: run `npm run build` first');
if (options.against !== undefined && !existsSync(join(options.against, 'index.html')))
  throw new Error(`--against: no built viewer (index.html) in ${options.against}`);
const runsDir = resolve(options.runs);
// The target is for the default run: the newest complete run recorded with the default config (a lesson
// preset or a larger network loads differently), else the newest complete run.
const defaults = resolveConfig({});
const DEFAULT_KEYS = ['dataset', 'layers', 'activation', 'init', 'optimizer', 'learningRate', 'batchSize', 'preset'] as const;
const isDefault = (name: string) => {
  const { config } = JSON.parse(readFileSync(join(runsDir, name, 'run.json'), 'utf8')) as { config: Record<string, unknown> };
  return DEFAULT_KEYS.every((key) => JSON.stringify(config[key] ?? null) === JSON.stringify(defaults[key]));
};
const complete = listRuns(runsDir).filter((run) => run.status === 'complete');
const runName = options.run ?? (complete.find((run) => isDefault(run.name)) ?? complete[0])?.name;
if (!runName) throw new Error(`no complete run in ${runsDir}: record one with \`npm run record\``);

const isCurrent = (file: string) => {
  if (!existsSync(file)) return false;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { schemaVersion: number; status: string };
  return manifest.schemaVersion === SCHEMA_VERSION && manifest.status === 'complete';
};

const benchRuns = join(import.meta.dirname, 'out', 'viewer-runs');
const longSteps = Number(options.longSteps);
const longManifest = join(benchRuns, 'long', 'run.json');
// Kept between runs of the bench (100,000 steps take two minutes and 3.8 GB): recorded again when another length or format.
const longIsCurrent = () =>
  isCurrent(longManifest) && (JSON.parse(readFileSync(longManifest, 'utf8')) as { stepCount: number }).stepCount === longSteps;
if (longSteps > 0 && !longIsCurrent()) {
  rmSync(benchRuns, { recursive: true, force: true });
  console.log(`recording a ${longSteps}-step run for the long-run measurement…`);
  await recordRun({
    config: resolveConfig({ maxSteps: longSteps, epochs: 10_000 }),
    name: 'long',
    out: benchRuns,
    reproduce: () => 'npm run bench:viewer',
  });
}

// The large network of issue 19, with every default but its layers: kept between runs of the bench
// (recording it takes a while), recorded again when missing or of an older format.
const largeRuns = join(import.meta.dirname, 'out', 'viewer-large-runs');
const largeRun = join(largeRuns, 'large');
const largeManifest = join(largeRun, 'run.json');
if (!isCurrent(largeManifest)) {
  console.log('recording a 784-512-256-128-10 run for the link freshness…');
  await recordRun({
    config: resolveConfig({ layers: [512, 256, 128] }),
    name: 'large',
    out: largeRuns,
    force: true,
    reproduce: () => 'npm run bench:viewer',
  });
}

const server = createViewerServer({ site, runs: runsDir });
const largeServer = createViewerServer({ site, runs: largeRuns });
const longServer = createViewerServer({ site, runs: benchRuns });
const againstServer = options.against === undefined ? undefined : createViewerServer({ site: options.against, runs: runsDir });
await Promise.all(
  [server, largeServer, longServer, againstServer].map(
    (http) => http && new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve)),
  ),
);
const origin = (http: typeof server) => `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

const browser = await launchChromium();
const VIEWPORT = { width: 1280, height: 900 };

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
      timeout: 1_200_000,
      polling: 100,
    },
  );
}

const FIRST_PAINT_MARKS = `['nv:first-network-paint', 'nv:first-network-frame'].map(
  (name) => performance.getEntriesByName(name)[0]?.startTime ?? -1)`;

/**
 * Navigates `page` to `url` and returns, in ms after navigation, when the network was first drawn
 * (`drawn`) and when the frame showing it had been painted (`frame`; undefined for a build without
 * that mark, as older ones given to --against). Nothing of Playwright's runs in the page before
 * that: `goto` returns at commit, and the marks are polled with a one-line CDP expression.
 * (`waitForFunction` compiles Playwright's injected script on the page's main thread right after
 * the load event, which comes before the app's modules run: it added about 40 ms to every first
 * visit measured here, work no user's browser does.)
 */
async function firstPaint(page: Page, url: string): Promise<{ drawn: number; frame: number | undefined }> {
  const cdp = await page.context().newCDPSession(page);
  await page.goto(url, { waitUntil: 'commit' });
  const deadline = Date.now() + 60_000;
  let drawnSeenAt: number | undefined;
  try {
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const { result } = await cdp.send('Runtime.evaluate', { expression: FIRST_PAINT_MARKS, returnByValue: true });
      const [drawn, frame] = result.value as [number, number];
      if (frame >= 0) return { drawn, frame };
      if (drawn >= 0 && (drawnSeenAt ??= Date.now()) < Date.now() - 1000) return { drawn, frame: undefined };
    }
  } finally {
    await cdp.detach();
  }
  throw new Error(`${url}: the network did not draw within 60 s`);
}

interface Scrub {
  p50: number;
  p95: number;
  max: number;
  missed: number[];
}

/**
 * Scrub: moves the slider one step at a time, as fast as the page lets it; each step's cost is from
 * the input event to the end of the network's next draw (the viewer draws the newest step asked for
 * once per animation frame). Held = pointer down on the scrubber: the level of detail draws only the
 * strongest edges; released = every edge (every edge on screen when zoomed in).
 */
async function scrub(page: Page, held: boolean): Promise<Scrub> {
  const steps = await page.evaluate(() => Number((document.querySelector('input[type=range]') as HTMLInputElement).max) + 1);
  const frames = await page.evaluate(
    async ({ count, held }) => {
      const slider = document.querySelector('input[type=range]') as HTMLInputElement;
      const network = document.querySelector('[data-testid="network"]')!;
      if (held) slider.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const costs: number[] = [];
      // Steps whose request drew nothing within a second (none expected): reported, not waited for.
      const missed: number[] = [];
      // Forwards from step 1, then backwards: every request changes the step.
      const order = held
        ? Array.from({ length: count - 1 }, (_, index) => count - 2 - index)
        : Array.from({ length: count - 1 }, (_, index) => index + 1);
      for (const step of order) {
        const started = performance.now();
        const drawn = new Promise<number | undefined>((resolve) => {
          network.addEventListener('nv-drawn', () => resolve(performance.now()), { once: true });
          setTimeout(() => resolve(undefined), 1000);
        });
        slider.value = String(step);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        const at = await drawn;
        if (at === undefined) missed.push(step);
        else costs.push(at - started);
      }
      if (held) slider.dispatchEvent(new PointerEvent('pointerup', { bubbles: true }));
      return { costs, missed };
    },
    { count: steps, held },
  );
  const sorted = [...frames.costs].sort((a, b) => a - b);
  const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return { p50: percentile(50), p95: percentile(95), max: sorted.at(-1)!, missed: frames.missed };
}

/** The zoom the scrub "zoomed in" is measured at: single neurons of a 512-neuron column are apart. */
const ZOOM_IN = 8;

interface RunSpeed {
  name: string;
  steps: number;
  firstVisits: number[];
  firstFrames: number[];
  againstVisits: number[];
  repeatVisits: number[];
  overview: { released: Scrub; held: Scrub };
  zoomed: { released: Scrub; held: Scrub };
  heap: { heap: number; buffers: number };
}

/**
 * First visits: a fresh browser context each time (nothing cached, no compiled code kept). Repeat
 * visits: the same page loaded again (HTTP cache and V8's code cache warm), as when a user comes
 * back. With `against`, each first visit is followed by one to the other build: how fast this
 * machine is drifts over minutes, so only builds measured side by side compare. Then scrubs, at
 * overview and zoomed in ×8 about the picture's centre.
 */
async function measureRun(http: typeof server, name: string, samples: number, against?: typeof server): Promise<RunSpeed> {
  const url = (at: typeof server) => `${origin(at)}/?run=${encodeURIComponent(name)}`;
  const result: Omit<RunSpeed, 'steps' | 'overview' | 'zoomed' | 'heap'> = {
    name,
    firstVisits: [],
    firstFrames: [],
    againstVisits: [],
    repeatVisits: [],
  };
  for (let visit = 0; visit < samples; visit++) {
    if (against) {
      const other = await browser.newContext({ viewport: VIEWPORT });
      result.againstVisits.push((await firstPaint(await other.newPage(), url(against))).drawn);
      await other.close();
    }
    const context = await browser.newContext({ viewport: VIEWPORT });
    const fresh = await context.newPage();
    const first = await firstPaint(fresh, url(http));
    result.firstVisits.push(first.drawn);
    if (first.frame !== undefined) result.firstFrames.push(first.frame);
    if (visit < 3) {
      for (let again = 0; again < 3; again++) {
        await fresh.waitForTimeout(300);
        result.repeatVisits.push((await firstPaint(fresh, url(http))).drawn);
      }
    }
    await context.close();
  }
  const page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(url(http));
  await loaded(page);
  const steps = await page.evaluate(() => Number((document.querySelector('input[type=range]') as HTMLInputElement).max) + 1);
  const overview = { released: await scrub(page, false), held: await scrub(page, true) };
  const zoomIn = page.getByRole('button', { name: 'Zoom in' });
  for (let zoom = 1; zoom < ZOOM_IN; zoom *= 2) await zoomIn.click();
  const zoom = Number(await page.getByTestId('network').getAttribute('data-zoom'));
  if (zoom !== ZOOM_IN) throw new Error(`${name}: zoomed to ×${zoom}, expected ×${ZOOM_IN}`);
  const zoomed = { released: await scrub(page, false), held: await scrub(page, true) };
  const heap = await heapMiB(page);
  await page.close();
  return { ...result, steps, overview, zoomed, heap };
}

const defaultSpeed = await measureRun(server, runName, paintSamples, againstServer);
const largeSpeed = await measureRun(largeServer, 'large', Math.min(paintSamples, 5));

let heapLong: { heap: number; buffers: number } | undefined;
let longLoaded = 0;
let longLoadSeconds = 0;
const longFirstPaints: number[] = [];
if (longSteps > 0) {
  const longUrl = `${origin(longServer)}/?run=long`;
  for (let visit = 0; visit < 3; visit++) {
    const context = await browser.newContext({ viewport: VIEWPORT });
    longFirstPaints.push((await firstPaint(await context.newPage(), longUrl)).drawn);
    await context.close();
  }
  const long = await browser.newPage({ viewport: VIEWPORT });
  const started = Date.now();
  await long.goto(longUrl);
  await loaded(long);
  longLoadSeconds = (Date.now() - started) / 1000;
  heapLong = await heapMiB(long);
  longLoaded = await long.evaluate(() => Number(document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loaded-steps')));
  await long.close();
}
await browser.close();
for (const http of [server, largeServer, longServer, againstServer]) http?.close();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
const memory = (usage: { heap: number; buffers: number }) =>
  `JS heap ${usage.heap.toFixed(1)} MiB + array buffers ${usage.buffers.toFixed(1)} MiB`;
const scrubLine = (what: string, result: Scrub) =>
  console.log(
    `  scrub, ${what.padEnd(38)} p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, max ${result.max.toFixed(1)} ms   (target p95 ≤ 33 ms)` +
      (result.missed.length > 0
        ? `; no draw within 1 s for steps ${result.missed.slice(0, 10).join(', ')} (${result.missed.length} in all)`
        : ''),
  );

for (const [label, speed, target] of [
  ['default run', defaultSpeed, '   (target ≤ 300 ms)'],
  ['784-512-256-128-10 run (bench/out)', largeSpeed, ''],
] as const) {
  console.log(`${label} ${speed.name}: ${speed.steps} steps, viewport ${VIEWPORT.width}×${VIEWPORT.height}`);
  console.log(
    `  first network paint after navigation, first visit: median ${median(speed.firstVisits).toFixed(0)} ms (${range(speed.firstVisits)}, ${speed.firstVisits.length} fresh contexts)${target}`,
  );
  if (speed.againstVisits.length > 0)
    console.log(
      `                          first visit, --against: median ${median(speed.againstVisits).toFixed(0)} ms (${range(speed.againstVisits)}); this build ÷ that: ${(median(speed.firstVisits) / median(speed.againstVisits)).toFixed(2)}`,
    );
  if (speed.firstFrames.length > 0)
    console.log(
      `      the frame showing it painted, first visit: median ${median(speed.firstFrames).toFixed(0)} ms (${range(speed.firstFrames)})`,
    );
  console.log(
    `                                   repeat visit: median ${median(speed.repeatVisits).toFixed(0)} ms (${range(speed.repeatVisits)}, ${speed.repeatVisits.length} reloads)`,
  );
  scrubLine('overview, released (every edge)', speed.overview.released);
  scrubLine('overview, held (strongest edges)', speed.overview.held);
  scrubLine(`zoomed ×${ZOOM_IN}, released (edges on screen)`, speed.zoomed.released);
  scrubLine(`zoomed ×${ZOOM_IN}, held`, speed.zoomed.held);
  console.log(`  after loading and scrubbing: ${memory(speed.heap)}`);
}
if (heapLong !== undefined) {
  console.log(`${longSteps}-step run of the default network (bench/out):`);
  console.log(
    `  first picture after navigation, first visit: median ${median(longFirstPaints).toFixed(0)} ms (${range(longFirstPaints)}, 3 fresh contexts)   (target ≤ 2000 ms)`,
  );
  console.log(
    `  every step loaded (${longLoaded}) after ${longLoadSeconds.toFixed(0)} s: ${memory(heapLong)} = ${(heapLong.heap + heapLong.buffers).toFixed(1)} MiB in the page   (target ≤ 150 MiB)`,
  );
}

console.log('');
for (const [label, directory] of [
  [`run ${runName}:`, join(runsDir, runName)],
  ['bench/out run:', largeRun],
] as const) {
  for (const line of describeFreshness(label, await linkFreshness(directory))) console.log(line);
}
