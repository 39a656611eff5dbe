/**
 * Faults of the place a run is written to: a disk that fills up while recording, and an output
 * location that cannot hold a run folder. The full disk is simulated (NV_TEST_DISK_LIMIT_BYTES makes
 * the run's writes fail with ENOSPC past a byte count) so that the test needs no root and no mount;
 * where this machine lets the tests mount a tmpfs (root), a real small file system is filled too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_EXIT, checkRun } from '../recorder/check.js';
import { openRunFolder } from '../recorder/open-run.js';
import { runRecorder, tempDir } from './helpers.js';

describe('a disk that fills up while recording', () => {
  it('names the file, exits 1, marks the run failed and leaves every listed step readable', async () => {
    const out = tempDir('full');
    const result = await runRecorder(['--out', out, '--name', 'full', '--quiet'], { NV_TEST_DISK_LIMIT_BYTES: '3000000' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `error: cannot write ${join(out, 'full')}/[\\w-]+\\.arrows: no space left on the device \\(ENOSPC\\); the run is marked failed`,
      ),
    );
    const manifest = JSON.parse(readFileSync(join(out, 'full', 'run.json'), 'utf8'));
    expect(manifest.status).toBe('failed');
    expect(manifest.message).toMatch(/^writer failed: cannot write .*: no space left on the device \(ENOSPC\)$/);
    const run = await openRunFolder(join(out, 'full'));
    let rows = 0;
    for (let chunk = 0; chunk < run.manifest.chunks.length; chunk++) {
      const steps = await run.readSteps(chunk);
      expect(steps.problems).toEqual([]);
      rows += steps.rows;
      for (const weights of run.manifest.chunks[chunk]!.weights)
        expect((await run.readWeights(chunk, weights.layer))!.problems).toEqual([]);
      for (const links of run.manifest.chunks[chunk]!.links) expect((await run.readLinks(chunk, links.layer))!.problems).toEqual([]);
    }
    expect(rows).toBe(run.manifest.stepCount);
    expect(rows).toBeGreaterThan(16);
    // The space reserve that made room for the last run.json, and any temporary file, are gone.
    expect(readdirSync(join(out, 'full')).filter((file) => file.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it.each([1_000_000, 2_000_000, 3_500_000])(
    'lists only steps on disk when the write that fills a %d-byte disk comes back short: npm run check calls the run whole',
    async (limit) => {
      const out = tempDir('short-write');
      const result = await runRecorder(['--out', out, '--name', 'short', '--quiet'], { NV_TEST_DISK_LIMIT_BYTES: String(limit) });
      expect(result.code).toBe(1);
      const check = await checkRun(join(out, 'short'));
      expect(check.problems).toEqual([]);
      expect(check.exit).toBe(CHECK_EXIT.whole);
      const manifest = JSON.parse(readFileSync(join(out, 'short', 'run.json'), 'utf8'));
      expect(check.steps).toBe(manifest.stepCount);
      expect(manifest.status).toBe('failed');
    },
    60_000,
  );

  it('fails at once, naming the file, when the disk is full from the first data file', async () => {
    const out = tempDir('full-at-start');
    const result = await runRecorder(['--out', out, '--name', 'none', '--quiet'], { NV_TEST_DISK_LIMIT_BYTES: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: cannot write ${join(out, 'none', 'probes.arrows')}: no space left on the device (ENOSPC); the run is marked failed`,
    );
    expect(JSON.parse(readFileSync(join(out, 'none', 'run.json'), 'utf8')).status).toBe('failed');
  }, 60_000);
});

/** Mounts a tmpfs of `options` on a new scratch folder; undefined where mounting is not allowed (not root). */
function mountTmpfs(options: string): string | undefined {
  const mount = mkdtempSync(join(tmpdir(), 'nv-tmpfs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mount]).status === 0) return mount;
  rmSync(mount, { recursive: true, force: true });
  return undefined;
}

function unmount(mount: string): void {
  execFileSync('umount', [mount]);
  rmSync(mount, { recursive: true, force: true });
}

/** Whether these tests may mount file systems: tried once, and undone at once. */
const canMount = ((probe) => (probe === undefined ? false : (unmount(probe), true)))(mountTmpfs('size=64k'));

/** Fills the file system at `mount` until `free` bytes are left. */
function fillUntil(mount: string, free: number): void {
  const stats = statfsSync(mount);
  writeFileSync(join(mount, 'filler'), new Uint8Array(Math.max(0, stats.bavail * stats.bsize - free)));
}

describe.skipIf(!canMount)('a real 4 MiB tmpfs (mounted where the tests run as root)', () => {
  let smallDisk: string;
  beforeAll(() => {
    smallDisk = mountTmpfs('size=4m')!;
  });
  afterAll(() => unmount(smallDisk));

  it('full before the first byte: exits 1, names the file, and leaves no empty run folder', async () => {
    fillUntil(smallDisk, 8 * 1024);
    const result = await runRecorder(['--out', smallDisk, '--name', 'none', '--max-steps', '20', '--quiet']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: cannot write ${join(smallDisk, 'none', 'space-reserve.tmp')}: no space left on the device (ENOSPC); nothing was recorded, the run folder is removed`,
    );
    expect(existsSync(join(smallDisk, 'none'))).toBe(false);
  }, 60_000);

  it('filling while recording: exits 1, run.json lists only steps on disk, npm run check calls the run whole', async () => {
    fillUntil(smallDisk, 3 * 1024 * 1024);
    const result = await runRecorder(['--out', smallDisk, '--name', 'filled', '--max-steps', '400', '--quiet']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no space left on the device (ENOSPC); the run is marked failed');
    const check = await checkRun(join(smallDisk, 'filled'));
    expect(check.problems).toEqual([]);
    expect(check.exit).toBe(CHECK_EXIT.whole);
    const manifest = JSON.parse(readFileSync(join(smallDisk, 'filled', 'run.json'), 'utf8'));
    expect(manifest.status).toBe('failed');
    expect(check.steps).toBe(manifest.stepCount);
    expect(check.steps).toBeGreaterThan(0);
  }, 60_000);
});

describe.skipIf(!canMount)('a read-only file system (mounted where the tests run as root)', () => {
  it('is named as read-only, not as a missing folder, and nothing is written', async () => {
    const mount = mountTmpfs('ro,size=1m')!;
    try {
      for (const out of [mount, join(mount, 'sub', 'deeper')]) {
        const result = await runRecorder(['--out', out, '--name', 'r', '--max-steps', '5', '--quiet']);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(
          `error: cannot create the run folder ${join(out, 'r')}: read-only file system (EROFS); choose another --out`,
        );
      }
      expect(readdirSync(mount)).toEqual([]);
    } finally {
      unmount(mount);
    }
  }, 60_000);
});

describe('an output location that cannot hold a run folder', () => {
  it('names the path and what is wrong, exits non-zero and writes nothing', async () => {
    const out = tempDir('unwritable');
    const file = join(out, 'a-file');
    writeFileSync(file, 'not a folder');
    const result = await runRecorder(['--out', file, '--name', 'x', '--quiet']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: cannot create the run folder ${join(file, 'x')}: a part of the path is a file, not a folder (ENOTDIR); choose another --out`,
    );
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
    expect(existsSync(join(out, 'x'))).toBe(false);
  }, 60_000);
});

describe('a place that refuses new folders', () => {
  it("is named at once (/proc: Node's recursive mkdir spun there for ever)", async () => {
    const result = await runRecorder(['--out', '/proc/neural-vision', '--name', 'x', '--quiet', '--max-steps', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: cannot create the run folder /proc/neural-vision/x: this place does not allow creating folders (ENOENT); choose another --out',
    );
  }, 30_000);
});

describe('run names that are unsafe as file names', () => {
  it.each(['../escape', '/abs', 'a/b', '.hidden', '<script>', 'x'.repeat(101), ''])(
    'refuses --name %j before writing anything',
    async (name) => {
      const out = tempDir('unsafe-name');
      const result = await runRecorder(['--out', out, '--name', name, '--quiet', '--max-steps', '1']);
      // A bad flag like any other (docs/reliability.md): exit 2.
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `error: --name ${JSON.stringify(name)} is not a safe run name: use 1–100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
      expect(readdirSync(out)).toEqual([]);
    },
    60_000,
  );
});
