/**
 * The viewer's hold on a long run (viewer/src/lib/run-data.svelte.ts), loaded over HTTP from the
 * viewer's own server: only the chunks used last keep their probe rows; the others keep every
 * step's statistics and are read again when a step in them needs its probes.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerColumnName } from '../core/format/columns.js';
import { fetchRunSource } from '../core/format/fetch-source.js';
import { openRun, type StepChunk } from '../core/format/reader.js';
import { HOT_CHUNKS, isProbeRowColumn, RunData } from '../viewer/src/lib/run-data.svelte.js';
import { createViewerServer } from '../viewer/server.js';
import { runRecorder, tempDir, waitFor } from './helpers.js';

/** The default network's chunks hold 64 steps: 11 chunks, 3 more than stay hot. */
const STEPS = 704;
const hasProbeRows = (chunk: StepChunk) => Object.keys(chunk.columns).some(isProbeRowColumn);

describe('RunData on a long run', () => {
  const runs = tempDir('run-data');
  const server = createViewerServer({ site: runs, runs });
  let runUrl = '';

  beforeAll(async () => {
    const recorded = await runRecorder([
      '--out',
      runs,
      '--name',
      'long',
      '--max-steps',
      String(STEPS),
      '--epochs',
      '10',
      '--eval-every',
      '64',
      '--quiet',
    ]);
    if (recorded.code !== 0) throw new Error(`recorder exited ${recorded.code}: ${recorded.stderr}`);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    runUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runs/long`;
  }, 120_000);

  afterAll(() => {
    server.close();
  });

  it('keeps probe rows for the chunks used last and reads an evicted chunk again when a step needs it', async () => {
    const run = new RunData();
    await run.load(runUrl);
    expect(run.error).toBeUndefined();
    expect(run.problems).toEqual([]);
    expect(run.loadedSteps).toBe(STEPS);
    const chunkCount = run.chunks.length;
    expect(chunkCount).toBeGreaterThan(HOT_CHUNKS);
    // Streamed in order: the last HOT_CHUNKS chunks are hot, the first ones dropped their probe rows.
    expect(run.chunks.map(hasProbeRows)).toEqual(run.chunks.map((_, index) => index >= chunkCount - HOT_CHUNKS));

    // Every step keeps what the network, the timeline and the histories draw.
    const reader = await openRun(fetchRunSource(runUrl));
    const first = await reader.readSteps(0);
    expect(run.scalar(5, 'loss')).toBe((first.columns.loss as Float32Array)[5]);
    expect(run.meanInput(5)).toEqual((first.columns.meanInput as Float32Array).subarray(5 * 784, 6 * 784));
    expect(run.neuronValues(5, 2, 'gradPreActivation')).toEqual(
      (first.columns[layerColumnName(2, 'gradPreActivation')] as Float32Array).subarray(5 * 64, 6 * 64),
    );
    expect(run.neuronHistory(1, 7, 'meanActivation')).toHaveLength(STEPS);

    // Each probe's class and loss stay for every step; its per-neuron rows come back when a step needs them.
    const probes = reader.manifest.probes!.count;
    expect(run.probePredicted(5, 3)).toBe((first.columns.probePredicted as Uint8Array)[5 * probes + 3]);
    const row = (chunk: StepChunk, step: number, probe: number) =>
      (chunk.columns[layerColumnName(1, 'probeActivation')] as Float32Array).subarray(
        ((step - chunk.firstStep) * probes + probe) * 128,
        ((step - chunk.firstStep) * probes + probe + 1) * 128,
      );
    // Three cold chunks asked for in a row: one read at a time, and the newest wish wins over the one in between.
    expect(run.probeLayerValues(5, 1, 'probeActivation', 3)).toBeUndefined();
    expect(run.probeLayerValues(64 + 5, 1, 'probeActivation', 3)).toBeUndefined();
    expect(run.probeLayerValues(128 + 5, 1, 'probeActivation', 3)).toBeUndefined();
    await waitFor(() => hasProbeRows(run.chunks[2]!), 10_000, 'chunk 2 read again');
    expect(run.probeLayerValues(5, 1, 'probeActivation', 3)).toEqual(row(first, 5, 3));
    expect(run.probeLayerValues(128 + 5, 1, 'probeActivation', 3)).toEqual(row(await reader.readSteps(2), 128 + 5, 3));
    expect(hasProbeRows(run.chunks[1]!)).toBe(false);
    // The chunks used longest ago went cold to make room.
    expect(run.chunks.filter(hasProbeRows)).toHaveLength(HOT_CHUNKS);
    expect(hasProbeRows(run.chunks[chunkCount - HOT_CHUNKS]!)).toBe(false);
    expect(run.problems).toEqual([]);
  }, 60_000);

  it('reads the first chunk whole after its first-paint prefix when run.json lists fewer steps than the file holds', async () => {
    // A recorder killed just after writing run.json early in the run: the file holds 64 steps, run.json lists 16.
    cpSync(join(runs, 'long'), join(runs, 'lagging'), { recursive: true });
    const file = join(runs, 'lagging', 'run.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.status = 'interrupted';
    manifest.stepCount = 16;
    manifest.chunks = [{ ...manifest.chunks[0], stepCount: 16, complete: false }];
    writeFileSync(file, JSON.stringify(manifest));
    const run = new RunData();
    await run.load(runUrl.replace(/long$/, 'lagging'));
    expect(run.error).toBeUndefined();
    // The prefix (640 KiB of a ~2 MiB chunk) held the 16 listed steps; the file's 64 are all shown.
    expect(run.loadedSteps).toBe(64);
  });
});
