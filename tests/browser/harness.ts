/**
 * What the browser tests share: the built viewer served over a runs folder by the same server as
 * `npm run view`, pages that fail on uncaught errors, and a digest of what a canvas shows.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { rgb } from 'd3-color';
import { STAGE_COLOR } from '../../core/view/colors.js';
import { launchChromium } from '../../viewer/headless.js';
import { afterEach, expect } from 'vitest';
import { createViewerServer } from '../../viewer/server.js';
import { ROOT } from '../helpers.js';

export const SITE = join(ROOT, 'build');

export async function serveRuns(runs: string): Promise<{ origin: string; close: () => void }> {
  if (!existsSync(join(SITE, 'index.html'))) throw new Error(`no built viewer in ${SITE}: run \`npm run build\` first`);
  const http = createViewerServer({ site: SITE, runs });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, close: () => http.close() };
}

export interface ViewerSession {
  browser: Browser;
  /** Where the site is served, e.g. http://127.0.0.1:41234 */
  origin: string;
  close: () => Promise<void>;
}

/** Chromium, and a served site (`serveRuns` or any static server) to open in it; `close` ends both. */
export async function startSession(served: { origin: string; close: () => void }): Promise<ViewerSession> {
  const browser = await launchChromium();
  return {
    browser,
    origin: served.origin,
    close: async () => {
      await browser.close();
      served.close();
    },
  };
}

/** Uncaught errors of the pages `openPage` opened, until `takePageErrors` reads them. */
const pageErrors: string[] = [];

/** Opens a page; an uncaught error in it, or anything its Content-Security-Policy refuses, fails the test (at once while it loads, later through `takePageErrors`). */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const start = pageErrors.length;
  page.on('pageerror', (error) => pageErrors.push(`${url}: ${error.message}`));
  // What the page's Content-Security-Policy refuses (a script, a style, a request) fails the test too.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) pageErrors.push(`${url}: ${message.text()}`);
  });
  await page.goto(url);
  expect(pageErrors.slice(start)).toEqual([]);
  return page;
}

/**
 * Makes every test of the calling file fail on an uncaught error of a page it opened, also one thrown
 * after the page loaded (while it streams a run, say).
 */
export function failOnPageErrors(): void {
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });
}

/** Pixels of the network canvas inside `scope` (a CSS selector) that differ from the stage's background, and a digest of them. */
export async function paintedPixels(page: Page, scope = 'body'): Promise<{ count: number; digest: string }> {
  const background = rgb(STAGE_COLOR);
  return page.evaluate(
    ({ scope, background }) => {
      const canvas = document.querySelector(`${scope} [data-testid="network"] canvas`) as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      let hash = 0;
      for (let index = 0; index < data.length; index += 4) {
        const distance =
          Math.abs(data[index]! - background.r) + Math.abs(data[index + 1]! - background.g) + Math.abs(data[index + 2]! - background.b);
        if (data[index + 3]! > 0 && distance > 6) count++;
        hash = (hash * 31 + data[index]! + data[index + 1]! * 7 + data[index + 2]! * 13) | 0;
      }
      return { count, digest: String(hash) };
    },
    { scope, background: { r: background.r, g: background.g, b: background.b } },
  );
}
