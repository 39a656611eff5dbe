/**
 * `npm run docs:lessons`: records every lesson preset with its default seed and saves a screenshot
 * of the viewer on it, at the step and view that show its lesson, to docs/lessons/<preset>.jpg
 * (used by docs/lessons.md). Needs `npm run build` and Chromium.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../core/config.js';
import { PRESETS, PRESET_NAMES, type PresetName } from '../core/presets.js';
import { recordRun } from '../recorder/record.js';
import { launchChromium } from '../viewer/headless.js';
import { createViewerServer } from '../viewer/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const runs = join(ROOT, 'bench', 'out', 'lesson-runs');
const shots = join(ROOT, 'docs', 'lessons');

/** Where each lesson is best seen: the query the screenshot opens. */
const VIEWS: Record<PresetName, string> = {
  healthy: 'step=300&neuron=1.5',
  vanishing: 'step=60&view=gradient&scale=log',
  exploding: 'step=15&view=gradient&scale=log',
  'dying-relu': 'step=60',
  'bad-init': 'step=60',
  saturation: 'step=40&neuron=1.0',
};

rmSync(runs, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });
for (const name of PRESET_NAMES) {
  console.log(`recording ${name}…`);
  await recordRun({
    config: resolveConfig({ ...PRESETS[name].config, preset: name }),
    name,
    out: runs,
    reproduce: () => `npm run record -- --preset ${name}`,
  });
}

const server = createViewerServer({ site: join(ROOT, 'build'), runs });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await launchChromium();
for (const name of PRESET_NAMES) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  await page.goto(`${origin}/?run=${name}&${VIEWS[name]}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loading') === 'false');
  await page.getByTestId('findings').waitFor();
  await page.waitForTimeout(500);
  const findings = await page.getByTestId('findings').boundingBox();
  const height = Math.min(1000, Math.ceil((findings?.y ?? 900) + (findings?.height ?? 0)) + 8);
  await page.screenshot({ path: join(shots, `${name}.jpg`), type: 'jpeg', quality: 82, clip: { x: 0, y: 0, width: 1100, height } });
  console.log(`docs/lessons/${name}.jpg`);
  await page.close();
}
await browser.close();
server.close();
