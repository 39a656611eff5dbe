/**
 * Property-based fuzzing of everything that reads untrusted input (a short run; `npm run bench:fuzz`
 * runs ≥ 10,000 inputs per target): every input is accepted or refused with the error that names the
 * file or field — never another exception, never a hang.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeStream } from '../core/format/ipc.js';
import { parseManifest } from '../core/format/manifest.js';
import { chunkTarget, configTarget, fuzz, manifestTarget, STEP_COLUMNS, validChunk, type FuzzTarget } from './fuzz/targets.js';
import { runRecorder, tempDir, TINY } from './helpers.js';

/** Fixed seeds: a failure here reproduces; bench/fuzz.ts varies them. */
const SEED = 20261124;

async function expectRobust<T>(target: FuzzTarget<T>, runs: number) {
  await fc.assert(
    fc.asyncProperty(target.inputs, async (input) => {
      await target.run(input);
    }),
    { numRuns: runs, seed: SEED },
  );
  const counts = await fuzz(target, runs, SEED + 1);
  expect(counts.unexpected).toEqual([]);
  expect(counts.slow).toBe(0);
  // Both outcomes happen: the mutations are neither all harmless nor all fatal.
  expect(counts.accepted).toBeGreaterThan(0);
  expect(counts.refused).toBeGreaterThan(0);
}

describe('fuzzing', () => {
  let recorded: { manifest: unknown; chunk: Uint8Array };

  beforeAll(async () => {
    const out = tempDir('fuzz');
    const result = await runRecorder([...TINY, '--out', out, '--name', 'seed', '--max-steps', '20']);
    expect(result.code).toBe(0);
    recorded = {
      manifest: JSON.parse(readFileSync(join(out, 'seed', 'run.json'), 'utf8')),
      chunk: new Uint8Array(readFileSync(join(out, 'seed', 'steps-0000.arrows'))),
    };
  }, 60_000);

  it('the chunk decoder refuses damaged chunks with a RunFormatError or reads their whole batches', async () => {
    expect(decodeStream('valid', validChunk(), STEP_COLUMNS).rows).toBe(20);
    await expectRobust(chunkTarget(), 400);
  });

  it('run.json validation refuses damaged manifests with a ManifestError or RunFormatError', async () => {
    await expectRobust(manifestTarget(recorded), 400);
    // Found by the long run (seed 12345): no layers passed validation, then the reader crashed on them.
    const noLayers = JSON.stringify({ ...(recorded.manifest as object), layers: [] });
    expect(await manifestTarget(recorded).run(noLayers)).toBe('refused');
    expect(() => parseManifest('fuzz/run.json', JSON.parse(noLayers))).toThrowError(
      'fuzz/run.json: field "layers": expected the input layer and at least the output layer',
    );
  });

  it('config validation refuses damaged values and files with a ConfigError', async () => {
    await expectRobust(configTarget(), 400);
  });

  it('refuses the damage that made Arrow loop for minutes: a schema overwritten from byte 1616 on', () => {
    const damaged = validChunk();
    damaged.fill(2, 1616);
    expect(() => decodeStream('damaged.arrows', damaged, STEP_COLUMNS)).toThrowError(
      'damaged.arrows: not an Arrow IPC stream (byte 0: unreadable message metadata (implausible field nesting or lengths))',
    );
  });
});
