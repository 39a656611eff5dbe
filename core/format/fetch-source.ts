/**
 * A `RunSource` over HTTP: how the viewer reads a run folder from any static file server. Files
 * are fetched without caching, since a run that is still recording changes between reads.
 */
import { scanStream } from './decode.js';
import type { RunSource } from './reader.js';

export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url}: HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/**
 * Bytes `start`…`end` (inclusive) of the file at `url` by an HTTP Range request, or the whole file
 * from a server that ignores Range (`partial` false).
 */
async function fetchRange(
  url: string,
  start: number,
  end: number,
  fetcher: typeof fetch,
): Promise<{ bytes: Uint8Array; partial: boolean }> {
  const response = await fetcher(url, { cache: 'no-store', headers: { range: `bytes=${start}-${end}` } });
  if (!response.ok) throw new HttpError(url, response.status);
  return { bytes: new Uint8Array(await response.arrayBuffer()), partial: response.status === 206 };
}

/**
 * The first `bytes` bytes of a file by an HTTP Range request, or the whole file from a server that
 * ignores Range (`partial` false).
 */
export function fetchPrefix(
  runUrl: string,
  file: string,
  bytes: number,
  fetcher: typeof fetch = fetch,
): Promise<{ bytes: Uint8Array; partial: boolean }> {
  return fetchRange(fileUrl(runUrl, file), 0, bytes - 1, fetcher);
}

/** The most bytes fetched for a first batch: beyond this, the whole file's read is as good. */
const FIRST_BATCH_LIMIT = 8 * 1024 * 1024;

/**
 * The start of a stream file through its first record batch, to paint from before the whole file
 * arrives: a Range request for `guess` bytes, and when those cut the first batch short, a second one
 * for the rest of it (the batch's metadata, in the first bytes, says where it ends). The recorder
 * writes a run's first step as a batch of its own (~35 kB for the default network); runs recorded
 * before 2026-11-25 start with a 16-step batch. Whatever the bytes hold is for the decoder to judge.
 * `wholeFile`: the file ended within the guess, so these bytes are all of it.
 */
export async function fetchFirstBatch(
  runUrl: string,
  file: string,
  guess: number,
  fetcher: typeof fetch = fetch,
): Promise<{ bytes: Uint8Array; partial: boolean; wholeFile: boolean }> {
  const head = await fetchPrefix(runUrl, file, guess, fetcher);
  if (!head.partial || head.bytes.length < guess) return { ...head, wholeFile: head.partial };
  const end = scanStream(head.bytes).firstBatchEnd;
  const unchanged = { ...head, wholeFile: false };
  if (end === undefined || end <= head.bytes.length || end > FIRST_BATCH_LIMIT) return unchanged;
  const rest = await fetchRange(fileUrl(runUrl, file), head.bytes.length, end - 1, fetcher).catch(() => undefined);
  if (!rest?.partial) return unchanged;
  const bytes = new Uint8Array(head.bytes.length + rest.bytes.length);
  bytes.set(head.bytes);
  bytes.set(rest.bytes, head.bytes.length);
  return { bytes, partial: true, wholeFile: false };
}

/** @param runUrl the run folder's URL, e.g. `runs/my-run` relative to the page or absolute */
export function fetchRunSource(runUrl: string, fetcher: typeof fetch = fetch): RunSource {
  return {
    label: runUrl.endsWith('/') ? runUrl.slice(0, -1) : runUrl,
    async read(file) {
      const url = fileUrl(runUrl, file);
      const response = await fetcher(url, { cache: 'no-store' });
      if (!response.ok) throw new HttpError(url, response.status);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/** A file of the run folder at `runUrl` (with or without a trailing slash). */
function fileUrl(runUrl: string, file: string): string {
  return `${runUrl.endsWith('/') ? runUrl.slice(0, -1) : runUrl}/${encodeURIComponent(file)}`;
}
