/**
 * The malformed-input corpus (tests/corpus/build.ts) through `npm run check`: every damaged run gets
 * its specific message naming the file, and the exit code says whether anything is readable.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECK_EXIT } from '../recorder/check.js';
import { buildCorpus, SOURCE_FLAGS, type CorpusCase } from './corpus/build.js';
import { ROOT, runRecorder, tempDir, TINY } from './helpers.js';

function check(directories: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'recorder', 'check.ts'), ...directories], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })));
}

let runs = '';
let cases: CorpusCase[] = [];

beforeAll(async () => {
  const source = tempDir('corpus-source');
  const recorded = await runRecorder([...TINY, ...SOURCE_FLAGS, '--out', source, '--name', 'tiny']);
  expect(recorded.code).toBe(0);
  runs = tempDir('corpus');
  cases = await buildCorpus(join(source, 'tiny'), runs);
}, 60_000);

describe('npm run check on the malformed-input corpus', () => {
  it('names the file and what is wrong for every damaged run, and exits by what is readable', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const entry of cases) {
      const directory = join(runs, entry.name);
      const result = await check([directory]);
      if (entry.message === undefined) {
        expect(result.stdout, entry.name).toBe(`${directory}: whole; 60 steps readable, status complete\n`);
        expect(result.code).toBe(CHECK_EXIT.whole);
        continue;
      }
      expect(result.stdout, entry.name).toContain(entry.message.replace('<run>', directory));
      expect(result.code, entry.name).toBe(entry.readable ? CHECK_EXIT.damaged : CHECK_EXIT.unreadable);
    }
  }, 120_000);

  it('reports every run given and exits with the worst', async () => {
    const result = await check([join(runs, 'values-nan-inf'), join(runs, 'weights-missing')]);
    expect(result.stdout).toMatch(/values-nan-inf: whole;[\s\S]*weights-missing: damaged; 60 steps readable/);
    expect(result.code).toBe(CHECK_EXIT.damaged);
  }, 60_000);
});
