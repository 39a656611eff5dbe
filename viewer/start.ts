/**
 * `npm start`: records the default run if `runs/` holds none, then serves the viewer on it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listRuns } from './run-list.js';
import { serveViewer } from './server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = join(ROOT, 'runs');

let runs = listRuns(RUNS).filter((run) => run.status !== 'unreadable');
if (runs.length === 0) {
  console.log('No runs yet: recording the default run first.');
  const recorder = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'recorder', 'cli.ts')], { stdio: 'inherit', cwd: ROOT });
  if (recorder.status !== 0) process.exit(recorder.status ?? 1);
  runs = listRuns(RUNS).filter((run) => run.status !== 'unreadable');
}
const newest = runs[0];
await serveViewer({ port: Number(process.env.PORT ?? 5173), runs: RUNS, site: join(ROOT, 'build'), open: newest?.name });
