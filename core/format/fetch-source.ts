/**
 * A `RunSource` over HTTP: how the viewer reads a run folder from any static file server. Files
 * are fetched without caching, since a run that is still recording changes between reads.
 */
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
