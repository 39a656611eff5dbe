import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * The viewer's client code needed before the first paint in one chunk, not a dozen: every module the
 * page's entries import statically. Requests cost more than bytes on a busy machine (each is work in
 * the browser's network service and the page), and HTTP/1.1 allows six at a time per host. Code loaded
 * later (Konva, uPlot, the compare view) keeps its own chunks. Not for the server build (prerendering).
 */
const firstPaintChunk: Plugin = {
  name: 'neural-vision:first-paint-chunk',
  config(config) {
    if (config.build?.ssr) return;
    return { build: { rollupOptions: { output: { codeSplitting: { groups: [{ name: 'app', tags: ['$initial'] }] } } } } };
  },
};

export default defineConfig({
  plugins: [sveltekit(), firstPaintChunk],
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './tests/summary-reporter.ts'],
    globalSetup: ['./tests/global-setup.ts'],
    expect: { requireAssertions: true },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn recorders that each use a core; keep to the machine's two.
    maxWorkers: 2,
  },
});
