/**
 * The runs a folder holds, as `runs/index.json` lists them: computed per request by `npm run view`
 * and written once by `npm run export`. One bad entry costs that entry only: a link out of the
 * folder, a dangling link, a run.json linked out of the folder, one that is not a regular file (a
 * FIFO would block the server) or is larger than any run.json this tool writes, a folder removed
 * while it is listed.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { FILE_NAMES } from '../core/format/columns.js';
import { MAX_MANIFEST_BYTES, parseManifest, type RunManifest } from '../core/format/manifest.js';
import { effectiveStatus, STALE_AFTER_MS } from '../core/format/run-status.js';
import { startingRun, summarizeRun, unreadableRun, type RunSummary } from '../core/format/run-index.js';

/**
 * Every run folder in `runsDirectory` (names starting with '.' are skipped), newest first. Messages
 * name files relative to the folder (`<run>/run.json`), so a list that is published carries no paths
 * of the machine. `heartbeat`: a recording run is judged by when its run.json last changed (`file`,
 * for a server following live runs) or by the time stamp inside it (`manifest`, for an exported copy,
 * whose files are as new as the copy).
 */
export function listRuns(runsDirectory: string, { heartbeat = 'file' }: { heartbeat?: 'file' | 'manifest' } = {}): RunSummary[] {
  if (!existsSync(runsDirectory)) return [];
  const root = realpathSync(runsDirectory);
  const summaries: RunSummary[] = [];
  for (const name of readdirSync(runsDirectory)) {
    if (name.startsWith('.')) continue;
    const entry = runEntry(root, join(runsDirectory, name));
    if (entry === 'skip') continue;
    summaries.push(
      entry === 'outside'
        ? unreadableRun(name, `${name}: a link out of the runs folder; not served`)
        : readRunSummary(runsDirectory, name, heartbeat, root),
    );
  }
  return summaries.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.name.localeCompare(b.name));
}

/** Whether an entry of the runs folder is a run folder to read, a link that leaves the folder, or nothing to list. */
function runEntry(root: string, path: string): 'run' | 'outside' | 'skip' {
  try {
    if (lstatSync(path).isSymbolicLink() && !isUnder(root, realpathSync(path))) return 'outside';
    return statSync(path).isDirectory() ? 'run' : 'skip';
  } catch {
    // Dangling links, entries removed since the folder was read.
    return 'skip';
  }
}

/** Whether `path` (a real path) lies inside `root` (a real path). */
export function isUnder(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * What a run.json gave when read, by the file's identity (device, inode, size and times): a summary
 * and what judging its status needs, or why it cannot be read.
 */
type CachedRead =
  { identity: string; summary: RunSummary; manifest: Pick<RunManifest, 'status' | 'updatedAt'> } | { identity: string; problem: string };

/**
 * run.json files already read, by path: a run list asked for every second reads again only the
 * run.json files that changed, broken ones too (a dozen broken 15 MiB files would otherwise take a
 * second at each listing). The status is judged again at each listing (a recording run whose file
 * stopped changing becomes interrupted).
 */
const reads = new Map<string, CachedRead>();
/** Beyond this many cached reads the cache starts again (a runs folder holds far fewer runs). */
const MAX_CACHED = 10_000;

function remember(file: string, read: CachedRead): CachedRead {
  if (reads.size >= MAX_CACHED) reads.clear();
  reads.set(file, read);
  return read;
}

/** What a run.json's text gives: its summary, or why it is not a run.json. */
function readText(file: string, label: string, identity: string, text: string): CachedRead {
  let manifest: RunManifest;
  try {
    manifest = parseManifest(label, JSON.parse(text));
  } catch (error) {
    return { identity, problem: error instanceof SyntaxError ? `${label}: not valid JSON (${error.message})` : messageOf(error, label) };
  }
  return {
    identity,
    summary: summarizeRun(manifest, Date.now(), undefined, folderBytes(dirname(file))),
    manifest: { status: manifest.status, updatedAt: manifest.updatedAt },
  };
}

/**
 * One run's summary; a run.json that cannot be read gives an `unreadable` summary saying why. `root`:
 * the runs folder's real path, when the caller has it (a listing resolves it once for all its runs).
 */
export function readRunSummary(runsDirectory: string, name: string, heartbeat: 'file' | 'manifest' = 'file', root?: string): RunSummary {
  const file = join(runsDirectory, name, FILE_NAMES.manifest);
  const label = `${name}/${FILE_NAMES.manifest}`;
  try {
    const cached = reads.get(file);
    const { text, identity, modifiedAt } = openManifest(root ?? realpathSync(runsDirectory), file, label, cached?.identity);
    const entry = text === undefined && cached ? cached : remember(file, readText(file, label, identity, text!));
    if ('problem' in entry) return unreadableRun(name, entry.problem);
    const { status } = effectiveStatus(entry.manifest, Date.now(), heartbeat === 'file' ? modifiedAt : undefined);
    // The folder name is what links open, even if run.json was copied from another run.
    return { ...entry.summary, status, name };
  } catch (error) {
    reads.delete(file);
    const starting = (error as NodeJS.ErrnoException).code === 'ENOENT' && startedAt(join(runsDirectory, name));
    if (starting) return startingRun(name, starting);
    return unreadableRun(name, messageOf(error, label));
  }
}

/**
 * When a run folder with no run.json was made, if that was less than STALE_AFTER_MS ago (its last
 * change: the recorder writes its first files before run.json); undefined for an older one.
 */
function startedAt(folder: string): string | undefined {
  try {
    const changed = statSync(folder).mtimeMs;
    return Math.abs(Date.now() - changed) <= STALE_AFTER_MS ? new Date(changed).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes of the regular files in a run folder (its run files; links and sub-folders are not counted). */
function folderBytes(folder: string): number | null {
  try {
    let bytes = 0;
    for (const entry of readdirSync(folder, { withFileTypes: true })) if (entry.isFile()) bytes += statSync(join(folder, entry.name)).size;
    return bytes;
  } catch {
    return null;
  }
}

/** An error's message, a file system error's as its code (its message holds the machine's path). */
function messageOf(error: unknown, label: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return `${label}: cannot be read (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens run.json without blocking (a FIFO answers at once) and checks that it lies inside the runs
 * folder, whose real path is `root` (not a link out of it), and is a regular file of at most
 * MAX_MANIFEST_BYTES. `identity` changes whenever the file does; the text is read unless the
 * identity is `known`.
 */
function openManifest(root: string, file: string, label: string, known?: string): { text?: string; identity: string; modifiedAt: number } {
  const real = realpathSync(file);
  if (!isUnder(root, real)) throw new Error(`${label}: a link out of the runs folder; not read`);
  const descriptor = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw new Error(`${label}: not a regular file`);
    if (stats.size > MAX_MANIFEST_BYTES)
      throw new Error(
        `${label}: ${(stats.size / 1024 ** 2).toFixed(1)} MiB, larger than any run.json this tool writes (at most ${MAX_MANIFEST_BYTES / 1024 ** 2} MiB)`,
      );
    const identity = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    const text = identity === known ? undefined : readFileSync(descriptor, 'utf8');
    return { text, identity, modifiedAt: stats.mtimeMs };
  } finally {
    closeSync(descriptor);
  }
}
