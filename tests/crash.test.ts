/** A recorder stopped at any moment leaves a run that opens up to its last whole step. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRunFolder } from '../recorder/open-run.js';
import { SPACE_RESERVE_FILE } from '../recorder/writer/run-writer.js';
import { startRecorder, tempDir, waitFor } from './helpers.js';

/** Step count run.json reports right now, or -1 while it does not parse (it never should). */
function manifestSteps(directory: string): number {
  const path = join(directory, 'run.json');
  if (!existsSync(path)) return -1;
  return (JSON.parse(readFileSync(path, 'utf8')) as { stepCount: number }).stepCount;
}

async function expectReadable(directory: string): Promise<{ status: string; rows: number }> {
  const run = await openRunFolder(directory);
  let rows = 0;
  for (let chunk = 0; chunk < run.manifest.chunks.length; chunk++) {
    const data = await run.readSteps(chunk);
    expect(data.problems).toEqual([]);
    const steps = data.values.get('step')!;
    steps.forEach((step, row) => expect(step).toBe(data.firstStep + row));
    rows += data.rows;
    for (const weights of run.manifest.chunks[chunk]!.weights) {
      const snapshots = await run.readWeights(chunk, weights.layer);
      expect(snapshots!.problems).toEqual([]);
    }
    // The default network keeps link frames of layer 1 every 15 steps: every one listed is whole.
    for (const links of run.manifest.chunks[chunk]!.links) {
      const frames = await run.readLinks(chunk, links.layer);
      expect(frames!.problems).toEqual([]);
      expect(frames!.rows).toBeGreaterThanOrEqual(links.steps.length);
    }
  }
  expect(rows).toBeGreaterThanOrEqual(run.manifest.stepCount);
  return { status: run.manifest.status, rows };
}

// The default network, so files are large and chunks roll over while the recorder is killed.
const ARGS = ['--epochs', '5', '--quiet'];

describe('crash safety', () => {
  it.each([
    ['as soon as run.json exists', 0],
    ['after the first flush', 1],
    ['after a few chunks', 150],
    ['late in the run', 600],
  ])(
    'kill -9 %s leaves a readable run',
    async (_, minimum) => {
      const out = tempDir('kill');
      const directory = join(out, 'victim');
      const recorder = startRecorder([...ARGS, '--out', out, '--name', 'victim']);
      try {
        await waitFor(() => manifestSteps(directory) >= minimum, 60_000, `${minimum} steps in run.json`);
      } finally {
        recorder.child.kill('SIGKILL');
      }
      const finished = await recorder.done;
      expect(finished.signal).toBe('SIGKILL');
      const { status, rows } = await expectReadable(directory);
      expect(status).toBe('recording');
      expect(rows).toBeGreaterThanOrEqual(minimum);
      // At most the run.json being replaced, besides the space reserve a killed recorder leaves.
      expect(readdirSync(directory).filter((file) => file.endsWith('.tmp') && file !== SPACE_RESERVE_FILE).length).toBeLessThanOrEqual(1);
    },
    90_000,
  );

  it('Ctrl-C finishes the step, flushes, marks the run interrupted and exits 130', async () => {
    const out = tempDir('sigint');
    const directory = join(out, 'stopped');
    const recorder = startRecorder([...ARGS, '--out', out, '--name', 'stopped']);
    await waitFor(() => manifestSteps(directory) >= 40, 60_000, '40 steps');
    recorder.child.kill('SIGINT');
    const finished = await recorder.done;
    expect(finished.code).toBe(130);
    expect(finished.stderr).toMatch(/interrupted by SIGINT after \d+ of \d+ steps/);
    const run = await openRunFolder(directory);
    expect(run.manifest.status).toBe('interrupted');
    expect(run.manifest.chunks.every((chunk) => chunk.complete)).toBe(true);
    const { rows } = await expectReadable(directory);
    expect(rows).toBe(run.manifest.stepCount);
    const last = run.manifest.chunks.at(-1)!;
    const lastSnapshot = last.weights.find((entry) => entry.layer === 1)!;
    expect(lastSnapshot.reasons.at(-1)).toBe('last');
    expect(lastSnapshot.steps.at(-1)).toBe(run.manifest.stepCount - 1);
    expect(run.manifest.linkFrames).toMatchObject({ maxAge: 14, strides: [15, 0, 0] });
    expect(run.manifest.chunks.flatMap((chunk) => chunk.links.flatMap((entry) => entry.steps)).slice(0, 2)).toEqual([15, 30]);
  }, 90_000);
});
