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
 * The first `bytes` bytes of a file by an HTTP Range request, or the whole file from a server that
 * ignores Range (`partial` false).
 */
export async function fetchPrefix(
  runUrl: string,
  file: string,
  bytes: number,
  fetcher: typeof fetch = fetch,
): Promise<{ bytes: Uint8Array; partial: boolean }> {
  const url = fileUrl(runUrl, file);
  const response = await fetcher(url, { cache: 'no-store', headers: { range: `bytes=0-${bytes - 1}` } });
  if (!response.ok) throw new HttpError(url, response.status);
  return { bytes: new Uint8Array(await response.arrayBuffer()), partial: response.status === 206 };
}

/** The most bytes fetched for a first batch: beyond this, the whole file's read is as good. */
const FIRST_BATCH_LIMIT = 8 * 1024 * 1024;

/**
 * The start of a stream file through its first record batch, to paint from before the whole file
 * arrives: a Range request for `guess` bytes, and when those cut the first batch short, a second one
 * for the rest of it (the batch's metadata, in the first bytes, says where it ends). The recorder
 * writes a run's first step as a batch of its own (~35 kB for the default network); runs recorded
 * before 2026-11-25 start with a 16-step batch. Whatever the bytes hold is for the decoder to judge.
 */
export async function fetchFirstBatch(
  runUrl: string,
  file: string,
  guess: number,
  fetcher: typeof fetch = fetch,
): Promise<{ bytes: Uint8Array; partial: boolean }> {
  const head = await fetchPrefix(runUrl, file, guess, fetcher);
  if (!head.partial || head.bytes.length < guess) return head;
  const end = scanStream(head.bytes).firstBatchEnd;
  if (end === undefined || end <= head.bytes.length || end > FIRST_BATCH_LIMIT) return head;
  const url = fileUrl(runUrl, file);
  const response = await fetcher(url, { cache: 'no-store', headers: { range: `bytes=${head.bytes.length}-${end - 1}` } });
  if (response.status !== 206) return head;
  const rest = new Uint8Array(await response.arrayBuffer());
  const bytes = new Uint8Array(head.bytes.length + rest.length);
  bytes.set(head.bytes);
  bytes.set(rest, head.bytes.length);
  return { bytes, partial: true };
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
