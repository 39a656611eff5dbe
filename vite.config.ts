import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * The viewer's client code needed before the first paint in two chunks, not a dozen: Konva, and every
 * other module the page's entries import statically. Requests cost more than bytes on a busy machine
 * (each is work in the browser's network service and the page), and HTTP/1.1 allows six at a time per
 * host. Konva keeps a chunk of its own so that it is fetched and compiled beside the app, in parallel;
 * code loaded later (uPlot, the compare view) keeps its own chunks. Not for the server build (prerendering).
 */
const firstPaintChunks: Plugin = {
  name: 'neural-vision:first-paint-chunks',
  config(config) {
    if (config.build?.ssr) return;
    const groups = [
      { name: 'konva', test: /node_modules[\\/]konva[\\/]/, priority: 2 },
      { name: 'app', tags: ['$initial' as const], priority: 1 },
    ];
    return { build: { rollupOptions: { output: { codeSplitting: { groups } } } } };
  },
};

export default defineConfig({
  plugins: [sveltekit(), firstPaintChunks],
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
