/**
 * The viewer's hold on a long run (viewer/src/lib/run-data.svelte.ts), loaded over HTTP from the
 * viewer's own server: only the chunks used last keep their probe rows; the others keep every
 * step's statistics and are read again when a step in them needs its probes.
 */
import { cpSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRunSource } from '../core/format/fetch-source.js';
import { openRun, type StepChunk } from '../core/format/reader.js';
import { HOT_CHUNKS, INPUT_STEPS, RunData } from '../viewer/src/lib/run-data.svelte.js';
import { createViewerServer } from '../viewer/server.js';
import { runRecorder, tempDir, waitFor } from './helpers.js';

/** The default network's chunks hold 48 steps: 15 chunks, 7 more than stay hot. */
const STEPS = 704;

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
    const hasProbeRows = (index: number) => run.probeRows.held.includes(index);
    // Streamed in order: the last HOT_CHUNKS chunks are hot, the first ones dropped their probe rows.
    expect(run.chunks.map((chunk) => hasProbeRows(chunk.index))).toEqual(run.chunks.map((_, index) => index >= chunkCount - HOT_CHUNKS));

    // Every step keeps what the network, the timeline and the histories draw.
    const reader = await openRun(fetchRunSource(runUrl));
    const first = await reader.readSteps(0);
    expect(run.scalar(5, 'loss')).toBe(first.values.get('loss')![5]);
    // The batch's mean input (3 kB a step) lives in its own cache, which holds INPUT_STEPS steps: all of this run.
    expect(STEPS).toBeLessThanOrEqual(INPUT_STEPS);
    expect(run.inputRows.held).toHaveLength(chunkCount);
    expect(run.meanInput(5)).toEqual(first.values.get('meanInput')!.subarray(5 * 784, 6 * 784));
    expect(run.chunks[0]!.values.get('meanInput')).toBeUndefined();
    expect(run.neuronValues(5, 2, 'gradPreActivation')).toEqual(first.values.get('gradPreActivation', 2)!.subarray(5 * 64, 6 * 64));
    // A run this short keeps every step of every neuron's history, exact.
    const history = run.neuronHistory(1, 7, 'meanActivation');
    expect(history.blockSteps).toBe(1);
    expect(history.mean).toHaveLength(STEPS);
    expect(history.mean[5]).toBe(first.values.get('meanActivation', 1)![5 * 128 + 7]);

    // Each probe's class and loss stay for every step; its per-neuron rows come back when a step needs them.
    const probes = reader.manifest.probes!.count;
    expect(run.probePredicted(5, 3)).toBe(first.values.get('probePredicted')![5 * probes + 3]);
    const row = (chunk: StepChunk, step: number, probe: number) =>
      chunk.values
        .get('probeActivation', 1)!
        .subarray(((step - chunk.firstStep) * probes + probe) * 128, ((step - chunk.firstStep) * probes + probe + 1) * 128);
    // A cold chunk's rows are not there to read, and reading them does not ask for them.
    expect(run.probeLayerValues(5, 1, 'probeActivation', 3)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hasProbeRows(0)).toBe(false);
    // Three cold chunks wanted in a row: one read at a time, and the newest wish wins over the one in between.
    const perChunk = reader.manifest.chunkSteps;
    run.wantProbeRows(5);
    run.wantProbeRows(perChunk + 5);
    run.wantProbeRows(2 * perChunk + 5);
    await waitFor(() => hasProbeRows(2), 10_000, 'chunk 2 read again');
    expect(run.probeLayerValues(5, 1, 'probeActivation', 3)).toEqual(row(first, 5, 3));
    expect(run.probeLayerValues(2 * perChunk + 5, 1, 'probeActivation', 3)).toEqual(row(await reader.readSteps(2), 2 * perChunk + 5, 3));
    expect(hasProbeRows(1)).toBe(false);
    // The chunks used longest ago went cold to make room.
    expect(run.probeRows.held).toHaveLength(HOT_CHUNKS);
    expect(hasProbeRows(chunkCount - HOT_CHUNKS)).toBe(false);
    expect(run.problems).toEqual([]);
  }, 60_000);

  it('keeps class means for the chunks used last and a 16-step summary of every chunk', async () => {
    const run = new RunData();
    await run.load(runUrl);
    const reader = await openRun(fetchRunSource(runUrl));
    const first = await reader.readSteps(0);
    expect(run.recordsClasses).toBe(true);
    expect(run.classRows.held).toHaveLength(HOT_CHUNKS);
    expect(run.classRows.held).not.toContain(0);
    // Step 30's window (steps 6…30) lies in the cold first chunk: nothing until its rows are wanted and read.
    expect(run.classPreference(30, 2)).toBeUndefined();
    run.wantClassRows(30);
    await waitFor(() => run.classRows.held.includes(0), 10_000, 'chunk 0 class means read again');
    const recorded = first.values.get('classActivation', 2)!;
    const preference = run.classPreference(30, 2)!;
    // Neuron 7 of layer 2 (64 neurons, 10 classes): its preferred class has the largest mean over the window.
    /** Neuron 7's mean over `steps` of class `c`'s recorded means (where its batch held it). */
    const meanOf = (steps: number[], c: number) => {
      const held = steps.map((step) => (step * 64 + 7) * 10 + c).filter((item) => recorded.valid[item]);
      return held.reduce((total, item) => total + recorded.values[item]!, 0) / held.length;
    };
    const window = Array.from({ length: 25 }, (_, index) => 6 + index);
    const means = Array.from({ length: 10 }, (_, c) => meanOf(window, c));
    expect(preference.preferred[7]).toBe(means.indexOf(Math.max(...means)));
    // The summary: one column per 16 steps of the whole run, the first the mean of steps 0…15.
    const history = run.classHistory(2, 7)!;
    expect(history).toHaveLength(Math.ceil(STEPS / 16) * 10);
    expect(history[3]).toBeCloseTo(
      meanOf(
        Array.from({ length: 16 }, (_, step) => step),
        3,
      ),
      5,
    );
  });

  it('holds a long run in a bounded page: neuron rows for the chunks used last, histories in blocks, bands every step', async () => {
    // The limits of a 100,000-step run, scaled to this one: 64 blocks of history (8 steps each), rows of as few chunks as held at all.
    const perStep = (128 + 64 + 10) * 3 * 4;
    const run = new RunData({ historyBlocks: 64, neuronRowBytes: 4 * 48 * perStep });
    await run.load(runUrl);
    expect(run.problems).toEqual([]);
    const reader = await openRun(fetchRunSource(runUrl));
    const first = await reader.readSteps(0);
    const recorded = first.values.get('gradPreActivation', 1)!;
    const chunkCount = run.chunks.length;
    expect(run.neuronRows.held).toEqual(Array.from({ length: HOT_CHUNKS }, (_, index) => chunkCount - HOT_CHUNKS + index));
    // The picture's values at a step in a dropped chunk: not there until wanted, then exact.
    expect(run.neuronValues(5, 1, 'gradPreActivation')).toBeUndefined();
    run.wantNeuronRows(5);
    await waitFor(() => run.neuronRows.held.includes(0), 10_000, 'chunk 0 neuron rows read again');
    expect(run.neuronValues(5, 1, 'gradPreActivation')).toEqual(recorded.subarray(5 * 128, 6 * 128));
    // A neuron's history: each step's 8-step block (steps 8…15 for step 10), mean, min and max of what was recorded.
    const history = run.neuronHistory(1, 7, 'gradPreActivation');
    expect(history.blockSteps).toBe(8);
    expect(history.mean).toHaveLength(STEPS);
    const block = Array.from({ length: 8 }, (_, row) => recorded[(8 + row) * 128 + 7]!);
    expect(history.mean[10]).toBeCloseTo(block.reduce((total, value) => total + value, 0) / 8, 9);
    expect(history.min[10]).toBe(Math.min(...block));
    expect(history.max[15]).toBe(Math.max(...block));
    expect(history.max[16]).not.toBe(history.max[15]);
    // The distributions stay exact at every step, from rows no longer held.
    const bands = run.distributionHistory(1, 'gradPreActivation');
    const sorted = Array.from(recorded.subarray(30 * 128, 31 * 128)).sort((a, b) => a - b);
    expect(bands[0]![30]).toBe(sorted[0]);
    expect(bands[4]![30]).toBeCloseTo((sorted[63]! + sorted[64]!) / 2, 6);
    expect(bands.at(-1)![30]).toBe(sorted[127]);
    expect(run.classBlockSteps).toBe(16);
  });

  it('says which file holds fewer steps than when it was first read, when rows are read again from it', async () => {
    cpSync(join(runs, 'long'), join(runs, 'shrinking'), { recursive: true });
    const run = new RunData();
    await run.load(runUrl.replace(/long$/, 'shrinking'));
    expect(run.probeRows.held).not.toContain(0);
    const file = join(runs, 'shrinking', 'steps-0000.arrows');
    truncateSync(file, Math.floor(statSync(file).size * 0.4));
    run.wantProbeRows(5);
    await waitFor(() => run.problems.length > 0, 10_000, 'the problem reported');
    expect(run.problems).toEqual([
      expect.stringMatching(/\/runs\/shrinking\/steps-0000\.arrows: holds \d+ steps, fewer than the 48 read before$/),
    ]);
    expect(run.probeLayerValues(5, 1, 'probeActivation', 0)).toBeUndefined();
  });

  it('reads the first chunk whole after its first-paint prefix when run.json lists no more steps than the prefix held', async () => {
    // A recorder killed just after writing run.json at its first step: the file holds a whole chunk, run.json lists
    // 1 step, which the first-paint prefix (the first step is a record batch of its own) already holds.
    cpSync(join(runs, 'long'), join(runs, 'lagging'), { recursive: true });
    const file = join(runs, 'lagging', 'run.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    const inFile: number = manifest.chunks[0].stepCount;
    manifest.status = 'interrupted';
    manifest.stepCount = 1;
    manifest.chunks = [{ ...manifest.chunks[0], stepCount: 1, complete: false }];
    writeFileSync(file, JSON.stringify(manifest));
    const run = new RunData();
    await run.load(runUrl.replace(/long$/, 'lagging'));
    expect(run.error).toBeUndefined();
    // Without the guard the prefix's 1 step would stand for the chunk; every step in the file is shown.
    expect(inFile).toBeGreaterThan(16);
    expect(run.loadedSteps).toBe(inFile);
  });
});
