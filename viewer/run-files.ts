/**
 * Serves the files of a runs folder while recorders write them. A static file server (sirv, send)
 * reads a file's size, then opens the file by its name to stream it: when the recorder replaces
 * run.json in between (temp file + rename), the response carries the new file's bytes cut to the
 * old file's length — invalid JSON — and a chunk appended to in between is streamed past the length
 * announced. Here the file is opened first and its size read from the open file, so every response
 * is one version of the file, exactly as long as it says (tests/server.test.ts).
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { isUnder } from './run-list.js';

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.arrows': 'application/vnd.apache.arrow.stream',
};

/**
 * Answers a request for `path` (URL-encoded, relative to `root`: `/<run>/<file>`), with single
 * byte ranges (`bytes=a-b`, `a-`, `-n`). Anything but an existing regular file under `root` (its real
 * path, links resolved) is a 404.
 */
export async function sendRunFile(root: string, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const file = fileUnder(root, path);
  if (!file || (request.method !== 'GET' && request.method !== 'HEAD')) return notFound(response);
  let handle;
  try {
    // Links may not lead out of the runs folder; O_NONBLOCK: a FIFO opens at once (and is refused below).
    if (!isUnder(await realpath(root), await realpath(file))) return notFound(response);
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return notFound(response);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return notFound(response);
    const size = stats.size;
    const range = byteRange(request.headers.range, size);
    response.setHeader('content-type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
    response.setHeader('cache-control', 'no-store');
    response.setHeader('accept-ranges', 'bytes');
    if (range === 'unsatisfiable') {
      response.writeHead(416, { 'content-range': `bytes */${size}` });
      response.end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range) response.setHeader('content-range', `bytes ${start}-${end}/${size}`);
    response.writeHead(range ? 206 : 200, { 'content-length': end - start + 1 });
    if (request.method === 'HEAD' || end < start) {
      response.end();
      return;
    }
    // From the open file, to the size read from it: bytes appended since are for the next request.
    const stream = handle.createReadStream({ start, end });
    handle = undefined;
    pipeline(stream, response, () => {});
  } finally {
    await handle?.close();
  }
}

/** The file `path` names under `root`, or undefined if it is not under it. */
function fileUnder(root: string, path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const base = resolve(root);
  const file = resolve(base, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  return file.startsWith(base + sep) ? file : undefined;
}

/** The one range a Range header asks for within `size` bytes; undefined for none or a form not handled (the whole file is sent). */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  return end < start ? undefined : { start, end };
}

function notFound(response: ServerResponse): void {
  response.statusCode = 404;
  response.end('not found');
}
