/**
 * A hostile run.json against the tools that read runs (issue 18): names that leave the run folder are
 * refused before anything is opened, by the format itself, so `npm run check`, the viewer and the
 * export all keep to the folder. And what `record --force` may delete: only a run this tool wrote.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRunFileName, parseManifest } from '../core/format/manifest.js';
import { CHECK_EXIT, checkRun } from '../recorder/check.js';
import { enclosingRun, replaceRefusal } from '../recorder/run-folder.js';
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

describe('record --force', () => {
  const folder = tempDir('force');
  const runs = join(folder, 'runs');

  beforeAll(async () => {
    const recorded = await runRecorder([...TINY, '--max-steps', '4', '--out', runs, '--name', 'mine']);
    expect(recorded.code, recorded.stderr).toBe(0);
  }, 60_000);

  /** A copy of the recorded run under `name`, changed by `change`. */
  const copy = (name: string, change: (directory: string) => void = () => {}) => {
    const directory = join(runs, name);
    cpSync(join(runs, 'mine'), directory, { recursive: true });
    change(directory);
    return directory;
  };

  it('replaces only a run this tool wrote, holding only its files, that nobody is recording', () => {
    const refusal = (directory: string) => replaceRefusal(directory, readdirSync(directory));
    expect(refusal(join(runs, 'mine'))).toBeUndefined();
    const fake = join(runs, 'fake');
    mkdirSync(fake);
    writeFileSync(join(fake, 'run.json'), '{}');
    writeFileSync(join(fake, 'thesis.tex'), 'years of work');
    expect(refusal(fake)).toMatch(/is not a run this tool wrote \(.*field "schemaVersion"/);
    const notes = copy('with-notes', (directory) => writeFileSync(join(directory, 'notes.txt'), 'mine'));
    expect(refusal(notes)).toBe(`${notes} holds an entry a recorder does not write (notes.txt)`);
    const outer = copy('outer', (directory) => cpSync(join(runs, 'mine'), join(directory, 'inner'), { recursive: true }));
    expect(refusal(outer)).toBe(`${outer} holds an entry a recorder does not write (inner)`);
    const live = copy('live', (directory) => {
      const file = join(directory, 'run.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), status: 'recording' }));
    });
    expect(refusal(live)).toMatch(
      /^run "mine" in .* is being recorded \(its run\.json changed in the last 30 s\): stop that recorder first$/,
    );
    // A recorder that stopped long ago (killed): its run may be replaced.
    const past = Date.now() / 1000 - 60;
    utimesSync(join(live, 'run.json'), past, past);
    expect(refusal(live)).toBeUndefined();
  });

  it('refuses from the command line, exit 1, leaving every file', async () => {
    const fake = join(runs, 'cli-fake');
    mkdirSync(fake);
    writeFileSync(join(fake, 'run.json'), '{}');
    writeFileSync(join(fake, 'thesis.tex'), 'years of work');
    const result = await runRecorder([...TINY, '--max-steps', '2', '--out', runs, '--name', 'cli-fake', '--force']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${fake} is not a run this tool wrote (`);
    expect(result.stderr).toContain('refusing to delete it even with --force');
    expect(readFileSync(join(fake, 'thesis.tex'), 'utf8')).toBe('years of work');
    expect(readdirSync(fake).sort()).toEqual(['run.json', 'thesis.tex']);
  }, 60_000);

  it('refuses to record a run inside another run, exit 1 as for any run folder it cannot make, writing nothing', async () => {
    const mine = join(runs, 'mine');
    const before = readdirSync(mine).sort();
    for (const out of [mine, join(mine, 'deeper', 'still')]) {
      const result = await runRecorder([...TINY, '--max-steps', '2', '--out', out, '--name', 'inside']);
      expect(result.code, out).toBe(1);
      expect(result.stderr).toContain(
        `error: --out ${out} is inside the run folder ${mine} (it holds a run's run.json): a run recorded there would be mixed with that run's files; choose another --out, such as ${runs}`,
      );
    }
    expect(readdirSync(mine).sort()).toEqual(before);
    // A run.json of the user's own above the runs folder is not a run: recording goes ahead.
    expect(enclosingRun(join(mine, 'x'))).toBe(mine);
    writeFileSync(join(folder, 'run.json'), '{"someone": "else"}');
    expect(enclosingRun(join(runs, 'new'))).toBeUndefined();
  }, 60_000);
});
