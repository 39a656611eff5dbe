/**
 * The view server against a hostile or broken runs folder (issue 18): it never serves outside the
 * folder, one bad run costs that run only, and it answers only for the address it serves.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_MANIFEST_BYTES } from '../core/format/manifest.js';
import { listRuns, readRunSummary } from '../viewer/run-list.js';
import { ROOT } from './helpers.js';
import { createViewerServer } from '../viewer/server.js';

/** A GET with any headers (fetch forbids setting Host), its status, headers and body; rejects after 5 s. */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers }, timeout: 5000 },
      (response) => {
        let body = '';
        response.setEncoding('latin1');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${path}: no answer within 5 s`)));
    request.on('error', reject);
    request.end();
  });
}

// readFileSync, watched: the run list must not read again a run.json that has not changed.
vi.mock('node:fs', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs')>();
  return { ...original, readFileSync: vi.fn(original.readFileSync) };
});

describe('the view server on a hostile runs folder', () => {
  // Under the system's temporary folder, not the project's: links to / and a FIFO are no place for
  // tools that walk the project (formatters, linters) to wander into.
  const folder = mkdtempSync(join(tmpdir(), 'nv-hostile-server-'));
  const site = join(folder, 'site');
  const runs = join(folder, 'runs');
  mkdirSync(site, { recursive: true });
  // sirv lists the site's files when it is created.
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>viewer</title><p>the viewer</p>');
  const server = createViewerServer({ site, runs });
  let port = 0;

  beforeAll(async () => {
    mkdirSync(join(runs, 'good'), { recursive: true });
    writeFileSync(join(folder, 'secret.txt'), 'outside the runs folder');
    writeFileSync(join(runs, 'good', 'run.json'), '{}');
    // A link to the folder above the runs, one to the root, one inside a run to a file outside, a dangling one.
    symlinkSync(folder, join(runs, 'outlink'));
    symlinkSync('/', join(runs, 'rootlink'));
    symlinkSync(join(folder, 'secret.txt'), join(runs, 'good', 'leak.arrows'));
    symlinkSync(join(folder, 'nothing-here'), join(runs, 'dangling'));
    // A run folder whose run.json links out of the runs folder, and one whose run.json links to another run's.
    mkdirSync(join(runs, 'leak'));
    symlinkSync(join(folder, 'secret.txt'), join(runs, 'leak', 'run.json'));
    mkdirSync(join(runs, 'inner'));
    symlinkSync(join('..', 'good', 'run.json'), join(runs, 'inner', 'run.json'));
    // run.json as a FIFO: reading it blocks until a writer comes, which none will.
    mkdirSync(join(runs, 'fifo'));
    execFileSync('mkfifo', [join(runs, 'fifo', 'run.json')]);
    // A run.json far larger than any run writes.
    mkdirSync(join(runs, 'huge'));
    writeFileSync(join(runs, 'huge', 'run.json'), `{"pad":"${' '.repeat(MAX_MANIFEST_BYTES)}"}`);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('serves nothing outside the runs folder through a link', async () => {
    for (const path of ['/runs/outlink/secret.txt', '/runs/rootlink/etc/passwd', '/runs/good/leak.arrows'])
      expect((await get(port, path)).status, path).toBe(404);
    expect((await get(port, '/runs/good/run.json')).body).toBe('{}');
  });

  it('lists every run, the broken ones as unreadable with the reason, and keeps answering', async () => {
    const listed = await get(port, '/runs/index.json');
    expect(listed.status).toBe(200);
    const runsListed = JSON.parse(listed.body) as { name: string; status: string; problem?: string }[];
    const byName = new Map(runsListed.map((run) => [run.name, run]));
    expect(byName.get('fifo')).toMatchObject({ status: 'unreadable', problem: expect.stringContaining('not a regular file') });
    expect(byName.get('huge')).toMatchObject({ status: 'unreadable', problem: expect.stringContaining('larger than') });
    expect(byName.get('outlink')).toMatchObject({ status: 'unreadable', problem: 'outlink: a link out of the runs folder; not served' });
    expect(byName.has('dangling')).toBe(false);
    // Not one word of a file outside the folder, even through a run.json that links there.
    expect(byName.get('leak')).toMatchObject({ status: 'unreadable', problem: 'leak/run.json: a link out of the runs folder; not read' });
    expect(listed.body).not.toContain('outside the');
    expect(byName.get('inner')?.problem).toMatch(/^inner\/run\.json: /);
    expect(byName.get('inner')?.problem).toBe(byName.get('good')?.problem?.replace('good/', 'inner/'));
    expect(byName.get('good')?.status).toBe('unreadable');
    // Problems name files within the runs folder, never the machine's paths.
    expect(byName.get('good')?.problem).toMatch(/^good\/run\.json: /);
    expect(listed.body).not.toContain(folder);
    // The FIFO itself: refused at once, and the server goes on answering.
    expect((await get(port, '/runs/fifo/run.json')).status).toBe(404);
    expect((await get(port, '/')).status).toBe(200);
  });

  it('answers a backwards byte range on a page of the site without stopping', async () => {
    const backwards = await get(port, '/index.html', { range: 'bytes=5-2' });
    expect([200, 416]).toContain(backwards.status);
    const beyond = await get(port, '/index.html', { range: 'bytes=9999-' });
    expect([200, 416]).toContain(beyond.status);
    expect((await get(port, '/index.html')).body).toContain('the viewer');
  });

  it('answers only for the address it serves, with the usual safety headers', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`])
      expect((await get(port, '/runs/index.json', { host })).status, host).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const answer = await get(port, '/runs/good/run.json', { host });
      expect(answer.status, host).toBe(200);
    }
    for (const path of ['/', '/runs/index.json', '/runs/good/run.json', '/runs/good/missing']) {
      const answer = await get(port, path);
      expect(answer.headers['x-content-type-options'], path).toBe('nosniff');
      expect(answer.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(answer.headers['referrer-policy'], path).toBe('no-referrer');
    }
  });
});

describe('the run list, read again every second by a live page', () => {
  const folder = mkdtempSync(join(tmpdir(), 'nv-run-list-'));
  const file = join(folder, 'a', 'run.json');
  const fixture = JSON.parse(readFileSync(join(ROOT, 'tests', 'fixtures', 'v1-tiny', 'run.json'), 'utf8'));
  afterAll(() => {
    vi.useRealTimers();
    rmSync(folder, { recursive: true, force: true });
  });

  it('sees every change of a run.json, even one of the same size and time stamp, and judges the status anew', () => {
    mkdirSync(join(folder, 'a'));
    writeFileSync(file, JSON.stringify({ ...fixture, status: 'complete' }));
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000);
    utimesSync(file, mtime, mtime);
    expect(listRuns(folder).map((run) => [run.name, run.status])).toEqual([['a', 'complete']]);
    // Same length, same modification time (as `cp -p` or rsync leave it): still read again.
    writeFileSync(file, JSON.stringify({ ...fixture, status: 'failed', updatedAt: new Date().toISOString() }).padEnd(statSync(file).size));
    utimesSync(file, mtime, mtime);
    expect(listRuns(folder)[0]!.status).toBe('failed');
    writeFileSync(
      file,
      JSON.stringify({ ...fixture, status: 'recording', updatedAt: new Date().toISOString() }).padEnd(statSync(file).size),
    );
    utimesSync(file, new Date(), new Date());
    expect(listRuns(folder)[0]!.status).toBe('recording');
    // The file no longer changes: 31 s later the same, unchanged run.json reads as interrupted.
    vi.useFakeTimers({ now: Date.now() + 31_000, toFake: ['Date'] });
    expect(listRuns(folder)[0]!.status).toBe('interrupted');
  });
});

describe('the run list while run folders come and go', () => {
  const folder = mkdtempSync(join(tmpdir(), 'nv-run-churn-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('a run folder removed while it is listed costs that run only', async () => {
    expect(readRunSummary(folder, 'gone')).toMatchObject({
      name: 'gone',
      status: 'unreadable',
      problem: 'gone/run.json: cannot be read (ENOENT)',
    });
    writeFileSync(join(folder, 'keep.json'), '');
    mkdirSync(join(folder, 'kept'));
    writeFileSync(join(folder, 'kept', 'run.json'), '{}');
    // Another process makes and removes run folders as fast as it can while the list is read.
    const churn = spawn('sh', ['-c', 'for i in $(seq 150); do mkdir -p r$i; echo "{}" > r$i/run.json; rm -rf r$i; done'], { cwd: folder });
    const exited = new Promise<number | null>((resolve) => churn.on('exit', resolve));
    let listings = 0;
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      const names = listRuns(folder).map((run) => run.name);
      expect(names).toContain('kept');
      listings += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await exited).toBe(0);
    expect(listings).toBeGreaterThan(0);
  });
});

describe('the run list and a broken run.json', () => {
  const folder = mkdtempSync(join(tmpdir(), 'nv-run-broken-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('reads a broken run.json once, not at every listing, and again when it changes', () => {
    mkdirSync(join(folder, 'broken'));
    const file = join(folder, 'broken', 'run.json');
    writeFileSync(file, `{"truncated": "${'x'.repeat(1024 ** 2)}`);
    const reads = vi.mocked(fs.readFileSync);
    const runJsonReads = () => reads.mock.calls.filter(([source]) => typeof source === 'number').length;
    const before = runJsonReads();
    const problem = listRuns(folder)[0]!.problem;
    expect(problem).toMatch(/^broken\/run\.json: not valid JSON/);
    expect(runJsonReads()).toBe(before + 1);
    expect(listRuns(folder)[0]!.problem).toBe(problem);
    expect(listRuns(folder)[0]!.problem).toBe(problem);
    expect(runJsonReads()).toBe(before + 1);
    writeFileSync(file, '[]');
    expect(listRuns(folder)[0]!.problem).not.toBe(problem);
    expect(runJsonReads()).toBe(before + 2);
  });
});
