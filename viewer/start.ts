/**
 * `npm start`: starts recording the default run in the background and serves the viewer on it as it
 * records, so the network can be watched learning from the first second. `--no-record` serves the
 * runs already in `runs/` instead.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { FILE_NAMES } from '../core/format/columns.js';
import { defaultRunName } from '../recorder/run-folder.js';
import { listRuns } from './run-list.js';
import { parsePort, serveViewer } from './server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = join(ROOT, 'runs');
/** Steps per second of the live default run: its 560 steps take about 25 s, slow enough to follow. */
const DEFAULT_PACE = 25;

function nonNegative(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0) || !Number.isFinite(parsed)) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return parsed;
}

const program = new Command('start')
  .description('Record the default run and watch it live in the viewer (or, with --no-record, view the runs there are).')
  .option('--no-record', 'serve the runs in runs/ without recording a new one')
  .option('--pace <steps/s>', 'recording speed for watching live; 0 = as fast as the machine goes', nonNegative, DEFAULT_PACE)
  .option('--port <n>', 'port (0 picks a free one; also PORT=…)', parsePort, Number(process.env.PORT ?? 5173))
  .parse(process.argv);
const options = program.opts<{ record: boolean; pace: number; port: number }>();
const site = join(ROOT, 'build');

if (!options.record) {
  const newest = listRuns(RUNS).find((run) => run.status !== 'unreadable');
  if (!newest) console.log('No runs yet: `npm start` records one, `npm run record` too.');
  await serveViewer({ port: options.port, runs: RUNS, site, open: newest?.name });
} else {
  const name = defaultRunName('mnist-embedded');
  const args = ['--import', 'tsx', join(ROOT, 'recorder', 'cli.ts'), '--name', name, '--quiet'];
  if (options.pace > 0) args.push('--pace', String(options.pace));
  // Ctrl-C reaches the recorder too (same process group): it marks the run interrupted and exits.
  const recorder = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT });
  const exited = new Promise<number>((resolve) => recorder.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  const manifest = join(RUNS, name, FILE_NAMES.manifest);
  const started = await Promise.race([waitFor(() => existsSync(manifest)).then(() => 'started' as const), exited]);
  if (started !== 'started') {
    console.error(`error: the recorder exited with code ${started} before the run began`);
    process.exit(started || 1);
  }
  await serveViewer({ port: options.port, runs: RUNS, site, open: name });
  void exited.then((code) => {
    if (code === 0) console.log(`Recording of "${name}" finished; the viewer keeps serving (Ctrl-C to stop).`);
    else console.log(`The recorder stopped with exit code ${code}; what it wrote stays in runs/${name}.`);
  });
  process.on('SIGINT', () => void exited.then(() => process.exit(130)));
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 100));
}
