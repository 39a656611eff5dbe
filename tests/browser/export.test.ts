/**
 * An exported site under a sub path, served by a plain static file server (no rewrites, nothing
 * computed per request), in Debian's Chromium: what a GitHub Pages project site or a bucket does.
 * Exports the real `npm run build`; the test command builds first.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sirv from 'sirv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSite } from '../../viewer/export.js';
import { ROOT, runRecorder, tempDir, TINY } from '../helpers.js';
import { failOnPageErrors, openPage, paintedPixels, startSession, type ViewerSession } from './harness.js';

const BASE = '/sub/path';

let session: ViewerSession;
/** Every path the browser asked for, and the ones the server did not have. */
const requested: string[] = [];
const notFound: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'build', 'index.html')))
    throw new Error(`no built viewer in ${join(ROOT, 'build')}: run \`npm run build\` first`);
  const home = tempDir('browser-export');
  const runs = join(home, 'runs');
  for (const [name, steps] of [
    ['first', 40],
    ['second', 25],
  ] as const) {
    const recorded = await runRecorder([...TINY, '--out', runs, '--name', name, '--max-steps', String(steps)]);
    expect(recorded.code, recorded.stderr).toBe(0);
  }
  // The host's root is `root`; the site lives at /sub/path under it.
  const root = join(home, 'root');
  exportSite({ runs: ['first', 'second'], runsDirectory: runs, out: join(root, 'sub', 'path'), base: BASE });
  const files = sirv(root, { dev: true, etag: false, single: false });
  const http = createServer((request, response) => {
    requested.push(new URL(request.url ?? '/', 'http://localhost').pathname);
    files(request, response, () => {
      notFound.push(request.url ?? '');
      response.statusCode = 404;
      response.end('not found');
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  session = await startSession({ origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, close: () => http.close() });
}, 90_000);

afterAll(async () => {
  await session?.close();
});

const open = (path: string): Promise<Page> => openPage(session.browser, `${session.origin}${path}`);

failOnPageErrors();

describe('an exported site under a sub path on a plain static server', () => {
  it('lists the exported runs', async () => {
    const page = await open(`${BASE}/`);
    await page.getByRole('link', { name: 'first' }).waitFor();
    expect(
      await page
        .getByRole('row', { name: new RegExp(`first complete [\\d: -]+ mnist-embedded 784-16-8-10 relu he sgd 0\\.1 32 \\d+ 40 `) })
        .count(),
    ).toBe(1);
    expect(
      await page
        .getByRole('row', { name: new RegExp(`second complete [\\d: -]+ mnist-embedded 784-16-8-10 relu he sgd 0\\.1 32 \\d+ 25 `) })
        .count(),
    ).toBe(1);
    expect(await page.getByRole('row').count()).toBe(3);
    await page.close();
  });

  it('opens a deep link: the network draws at the linked step, and the link follows the step', async () => {
    const page = await open(`${BASE}/?run=first&step=3`);
    await page.getByText('step 3 of 39').waitFor();
    await page.locator('[data-testid="network"] canvas').waitFor();
    await page.waitForFunction(() => {
      const canvas = document.querySelector('[data-testid="network"] canvas') as HTMLCanvasElement | null;
      return canvas !== null && canvas.width > 0;
    });
    expect((await paintedPixels(page)).count).toBeGreaterThan(5000);
    await page.keyboard.press('ArrowRight');
    await page.getByText('step 4 of 39').waitFor();
    await page.waitForFunction((base) => window.location.pathname === `${base}/` && window.location.search.includes('step=4'), BASE);
    await page.close();
  });

  it('opens a compare deep link: both networks draw and move together', async () => {
    const page = await open(`${BASE}/?compare=first,second&step=3`);
    await page.getByTestId('compare-steps').filter({ hasText: 'A at step 3, B at step 3' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="network"] canvas').length === 3);
    expect((await paintedPixels(page, '[data-testid="compare-a"]')).count).toBeGreaterThan(5000);
    expect((await paintedPixels(page, '[data-testid="compare-b"]')).count).toBeGreaterThan(5000);
    await page.keyboard.press('End');
    // The cursor spans the longer run; the shorter one stays on its last step.
    await page.getByTestId('compare-steps').filter({ hasText: 'A at step 39, B at step 24' }).waitFor();
    await page.waitForFunction((base) => window.location.pathname === `${base}/` && window.location.search.includes('step=39'), BASE);
    await page.close();
  });

  it('asks the host only for files inside the site, and finds them all', () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((path) => !path.startsWith(`${BASE}/`))).toEqual([]);
    expect(notFound).toEqual([]);
  });
});
