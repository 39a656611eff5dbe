/**
 * A hostile run.json against the tools that read runs (issue 18): names that leave the run folder are
 * refused before anything is opened, by the format itself, so `npm run check`, the viewer and the
 * export all keep to the folder.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRunFileName, parseManifest } from '../core/format/manifest.js';
import { CHECK_EXIT, checkRun } from '../recorder/check.js';
import { runRecorder, tempDir, TINY } from './helpers.js';

describe('run files named in run.json', () => {
  const folder = tempDir('hostile-runs');
  const run = join(folder, 'runs', 'tiny');

  beforeAll(async () => {
    const recorded = await runRecorder([...TINY, '--max-steps', '4', '--out', join(folder, 'runs'), '--name', 'tiny']);
    expect(recorded.code, recorded.stderr).toBe(0);
    writeFileSync(join(folder, 'secret.txt'), 'outside the run');
  }, 60_000);

  it('are plain names inside the folder', () => {
    for (const name of ['steps-0000.arrows', 'probes.arrows', 'a b.arrows', '..x', 'x..']) expect(isRunFileName(name), name).toBe(true);
    for (const name of ['../secret.txt', '../../../../dev/zero', '/etc/passwd', 'a/b', 'a\\b', '..', '.', '', 'a\0b', 7])
      expect(isRunFileName(name), String(name)).toBe(false);
  });

  it('that leave the folder make run.json invalid, naming the field, and npm run check opens nothing outside', async () => {
    const manifest = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    const cases: [string, (copy: typeof manifest) => void, RegExp][] = [
      ['chunk', (copy) => (copy.chunks[0].file = '../../secret.txt'), /chunks\.0\.file|chunks\[0\]\.file/],
      ['probes', (copy) => (copy.probes.file = '../../../../dev/zero'), /probes\.file/],
      ['snapshot', (copy) => (copy.chunks[0].weights[0].file = '/etc/passwd'), /weights\.0\.file|weights\[0\]\.file/],
    ];
    for (const [what, change, field] of cases) {
      const copy = structuredClone(manifest);
      change(copy);
      expect(() => parseManifest('run.json', copy), what).toThrow(field);
      const hostile = join(folder, `hostile-${what}`);
      cpSync(run, hostile, { recursive: true });
      writeFileSync(join(hostile, 'run.json'), JSON.stringify(copy));
      const result = await checkRun(hostile);
      expect(result.exit, what).toBe(CHECK_EXIT.unreadable);
      expect(result.problems.join('\n'), what).toMatch(/expected a file name inside the run folder/);
    }
  });
});
