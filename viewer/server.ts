/**
 * `npm run view -- [--port N] [--runs DIR]`: serves the built viewer and the runs folder on
 * 127.0.0.1. `runs/index.json` is computed on every request, so new runs appear without a rebuild.
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import { RUN_INDEX_FILE } from '../core/format/run-index.js';
import { sendRunFile } from './run-files.js';
import { listRuns } from './run-list.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Sent with every answer. The page's own policy for scripts and styles is in the page (a meta tag
 * SvelteKit writes from `kit.csp`, so that an exported site carries it too); this adds what only a
 * header can say: no framing.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'",
};

/** Names this server answers to: the loopback address it listens on. A page elsewhere that rebinds its name to 127.0.0.1 is refused. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a Host header names this machine's loopback address (any port: the server may sit behind a port forward). */
export function isLocalHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim().toLowerCase())?.[1];
  return name !== undefined && LOCAL_HOSTS.has(name);
}

/**
 * A Range header the static file server can answer: one `bytes=a-b` range with a ≤ b, `a-` or `-n`.
 * Anything else is dropped (the whole file is sent, as RFC 9110 allows): sirv's own parsing ends the
 * process on `bytes=5-2`.
 */
export function staticRange(header: string | undefined): string | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] !== '' && match[2] !== '' && Number(match[2]) < Number(match[1])) return undefined;
  return header!.trim();
}

export function createViewerServer(options: { site: string; runs: string }) {
  const site = sirv(options.site, { dev: false, etag: true, single: false });
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    if (!isLocalHost(request.headers.host)) {
      response.statusCode = 421;
      response.setHeader('content-type', 'text/plain; charset=utf-8');
      response.end(`this viewer answers on 127.0.0.1 and localhost only, not on ${JSON.stringify(request.headers.host ?? '')}`);
      return;
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === `/runs/${RUN_INDEX_FILE}`) {
      response.setHeader('content-type', 'application/json');
      response.setHeader('cache-control', 'no-store');
      response.end(JSON.stringify(listRuns(options.runs)));
      return;
    }
    if (path.startsWith('/runs/')) {
      // Not sirv: run files change while they are served (viewer/run-files.ts).
      // A file that fails mid-read (removed, unreadable) ends that response, not the server.
      sendRunFile(options.runs, path.slice('/runs'.length), request, response).catch(() => response.destroy());
      return;
    }
    const range = staticRange(request.headers.range);
    if (range === undefined) delete request.headers.range;
    site(request, response, () => {
      response.statusCode = 404;
      response.end('not found');
    });
  });
}

/** Commander parser of a --port value. */
export function parsePort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError('expected an integer port from 0 to 65535');
  return parsed;
}

/** Serves the built site and `runs`, and prints the address (with `?run=` for `open`). */
export async function serveViewer(options: { port: number; runs: string; site: string; open?: string | undefined }): Promise<void> {
  if (!existsSync(join(options.site, 'index.html'))) {
    console.error(`error: no built viewer in ${options.site}; run \`npm run build\` first`);
    process.exit(1);
  }
  const server = createViewerServer({ site: resolve(options.site), runs: resolve(options.runs) });
  await new Promise<void>((resolveListening) => {
    server.on('error', (error: NodeJS.ErrnoException) => {
      console.error(`error: cannot listen on 127.0.0.1:${options.port} (${error.code ?? error.message}); choose another with --port`);
      process.exit(1);
    });
    server.listen(options.port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : options.port;
      const query = options.open ? `?run=${encodeURIComponent(options.open)}` : '';
      console.log(`Neural Vision viewer: http://127.0.0.1:${actual}/${query}`);
      console.log(`  serving runs from ${resolve(options.runs)} (new runs appear on reload); Ctrl-C to stop`);
      resolveListening();
    });
  });
}

async function main(): Promise<void> {
  const program = new Command('view')
    .description('Serve the viewer and the recorded runs on 127.0.0.1.')
    .option('--port <n>', 'port (0 picks a free one)', parsePort, 5173)
    .option('--runs <dir>', 'folder of runs', 'runs')
    .option('--site <dir>', 'built viewer (npm run build)', join(ROOT, 'build'))
    .parse(process.argv);
  await serveViewer(program.opts<{ port: number; runs: string; site: string }>());
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
