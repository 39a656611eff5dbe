import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewerServer } from '../viewer/server.js';
import { tempDir } from './helpers.js';

describe('the viewer server on runs being written', () => {
  const folder = tempDir('server');
  const runs = join(folder, 'runs');
  const run = join(runs, 'live');
  const server = createViewerServer({ site: folder, runs });
  let base = '';

  beforeAll(async () => {
    mkdirSync(run, { recursive: true });
    writeFileSync(join(folder, 'secret.txt'), 'outside the runs folder');
    writeFileSync(join(run, 'run.json'), JSON.stringify({ steps: [] }));
    writeFileSync(join(run, 'steps-0000.arrows'), new Uint8Array(4096).fill(7));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runs`;
  });
  afterAll(() => void server.close());

  /** Calls `change` every millisecond while `requests` requests run, two at a time. */
  async function whileChanging<T>(change: (tick: number) => void, requests: number, request: () => Promise<T>): Promise<T[]> {
    let tick = 0;
    const timer = setInterval(() => change(++tick), 1);
    try {
      const results: T[] = [];
      for (let index = 0; index < requests; index += 2) results.push(...(await Promise.all([request(), request()])));
      return results;
    } finally {
      clearInterval(timer);
    }
  }

  it('sends whole run.json files while the recorder replaces them (temp file + rename)', async () => {
    // The recorder's run.json grows as chunks and snapshots are listed; each version is complete.
    const bodies = await whileChanging(
      (tick) => {
        const temporary = join(run, 'run.json.tmp');
        writeFileSync(temporary, JSON.stringify({ steps: Array.from({ length: tick * 7 }, (_, index) => index) }));
        renameSync(temporary, join(run, 'run.json'));
      },
      300,
      async () => (await fetch(`${base}/live/run.json`)).text(),
    );
    const unreadable = bodies.filter((body) => {
      try {
        JSON.parse(body);
        return false;
      } catch {
        return true;
      }
    });
    expect(unreadable.map((body) => `${body.length} bytes: …${body.slice(-30)}`)).toEqual([]);
  });

  it('sends as many bytes as it announces while a chunk grows, whole or by range', async () => {
    const responses = await whileChanging(
      () => appendFileSync(join(run, 'steps-0000.arrows'), new Uint8Array(1024).fill(9)),
      160,
      async () => {
        const whole = await fetch(`${base}/live/steps-0000.arrows`);
        const wholeBytes = (await whole.arrayBuffer()).byteLength;
        const ranged = await fetch(`${base}/live/steps-0000.arrows`, { headers: { range: 'bytes=100-' } });
        const rangedBytes = (await ranged.arrayBuffer()).byteLength;
        return [
          wholeBytes === Number(whole.headers.get('content-length')),
          ranged.status === 206 && rangedBytes === Number(ranged.headers.get('content-length')),
        ];
      },
    );
    expect(responses.flat().every(Boolean)).toBe(true);
  });

  it('answers byte ranges, and only files under the runs folder', async () => {
    writeFileSync(
      join(run, 'probes.arrows'),
      Uint8Array.from({ length: 100 }, (_, index) => index),
    );
    const get = (path: string, range?: string) => fetch(`${base}${path}`, range ? { headers: { range } } : {});
    const bytesOf = async (response: Response) => [...new Uint8Array(await response.arrayBuffer())];
    const middle = await get('/live/probes.arrows', 'bytes=10-12');
    expect([middle.status, middle.headers.get('content-range'), await bytesOf(middle)]).toEqual([206, 'bytes 10-12/100', [10, 11, 12]]);
    const tail = await get('/live/probes.arrows', 'bytes=-2');
    expect([tail.status, await bytesOf(tail)]).toEqual([206, [98, 99]]);
    const from = await get('/live/probes.arrows', 'bytes=97-');
    expect(await bytesOf(from)).toEqual([97, 98, 99]);
    const past = await get('/live/probes.arrows', 'bytes=0-65535');
    expect([past.status, past.headers.get('content-range'), (await bytesOf(past)).length]).toEqual([206, 'bytes 0-99/100', 100]);
    const beyond = await get('/live/probes.arrows', 'bytes=100-200');
    expect([beyond.status, beyond.headers.get('content-range')]).toEqual([416, 'bytes */100']);
    const whole = await get('/live/probes.arrows');
    expect([whole.status, whole.headers.get('cache-control'), (await bytesOf(whole)).length]).toEqual([200, 'no-store', 100]);
    const json = await get('/live/run.json');
    expect(json.headers.get('content-type')).toBe('application/json');
    await json.arrayBuffer();
    // Missing files, folders, and paths that climb out of the runs folder.
    for (const path of [
      '/live/nothing.arrows',
      '/live',
      '/live/',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/live/..%2f..%2fsecret.txt',
      '/live/%00',
    ])
      expect((await get(path)).status, path).toBe(404);
  });
});
