/** Run names and run folders: nothing a user recorded is replaced without --force. */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FILE_NAMES } from '../core/format/columns.js';
import { MAX_MANIFEST_BYTES, parseManifest } from '../core/format/manifest.js';
import { effectiveStatus, STALE_AFTER_MS } from '../core/format/run-status.js';

/** Letters, digits, '.', '_' and '-', starting with a letter or digit; at most 100 characters. */
export const RUN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

export function checkRunName(name: string): void {
  if (!RUN_NAME_PATTERN.test(name)) {
    throw new RunFolderError(
      `--name ${JSON.stringify(name)} is not a safe run name: use 1–100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

/** A default name that does not collide with earlier runs: dataset and local time. */
export function defaultRunName(dataset: string, now = new Date()): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${dataset}-${stamp}`;
}

/**
 * Creates `out/name` for a new run. An existing folder is an error unless `force`, and even with
 * `force` only an empty folder or a run this tool wrote is removed (replaceRefusal).
 */
export function createRunFolder(out: string, name: string, force: boolean): string {
  checkRunName(name);
  const directory = resolve(out, name);
  const enclosing = enclosingRun(directory);
  if (enclosing)
    throw new RunFolderError(
      `--out ${out} is inside the run folder ${enclosing} (it holds a run's run.json): a run recorded there would be mixed with that run's files; choose another --out, such as ${dirname(enclosing)}`,
    );
  if (existsSync(directory)) {
    if (!statSync(directory).isDirectory()) throw new RunFolderError(`${directory} exists and is not a folder; choose another --name`);
    const entries = readdirSync(directory);
    if (!force) {
      throw new RunFolderError(`run "${name}" already exists in ${directory}; choose another --name, or pass --force to replace it`);
    }
    const refusal = entries.length > 0 ? replaceRefusal(directory, entries) : undefined;
    if (refusal) throw new RunFolderError(`${refusal}; refusing to delete it even with --force`);
    rmSync(directory, { recursive: true, force: true });
  }
  try {
    makeFolders(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOTDIR'
        ? 'a part of the path is a file, not a folder'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : code === 'ENOENT'
              ? 'this place does not allow creating folders'
              : (error as Error).message;
    throw new RunFolderError(`cannot create the run folder ${directory}: ${reason}${code ? ` (${code})` : ''}; choose another --out`);
  }
  return directory;
}

/** The nearest folder above `directory` holding a run this tool wrote (a valid run.json), if any. */
export function enclosingRun(directory: string): string | undefined {
  for (let at = dirname(directory); ; at = dirname(at)) {
    if (isRunFolder(at)) return at;
    if (dirname(at) === at) return undefined;
  }
}

/** Whether `folder` holds a valid run.json (a user's own file of that name, or a huge one, is not a run). */
function isRunFolder(folder: string): boolean {
  const file = join(folder, FILE_NAMES.manifest);
  try {
    const stats = statSync(file);
    if (!stats.isFile() || stats.size > MAX_MANIFEST_BYTES) return false;
    parseManifest(file, JSON.parse(readFileSync(file, 'utf8')));
    return true;
  } catch {
    return false;
  }
}

/** The files a recorder writes in a run folder, and nothing else: what `--force` may delete. */
const RUN_FILE =
  /^(run\.json|probes\.arrows|(steps|weights-layer\d+|links-layer\d+)-\d{4,}\.arrows|space-reserve\.tmp|run\.json\.\d+\.tmp)$/;

/**
 * Why `--force` may not delete an existing, non-empty folder, or undefined when it may: a run this
 * tool wrote (a valid run.json), holding nothing but the files a recorder writes (not a user's file,
 * not a run recorded inside it), and not being recorded now (its run.json unchanged for
 * STALE_AFTER_MS, as the viewer judges a live run).
 */
export function replaceRefusal(directory: string, entries: readonly string[], now = Date.now()): string | undefined {
  const manifestFile = join(directory, FILE_NAMES.manifest);
  if (!entries.includes(FILE_NAMES.manifest)) return `${directory} is not a run folder (no ${FILE_NAMES.manifest})`;
  let manifest;
  try {
    manifest = parseManifest(manifestFile, JSON.parse(readFileSync(manifestFile, 'utf8')));
  } catch (error) {
    return `${directory} is not a run this tool wrote (${error instanceof Error ? error.message : String(error)})`;
  }
  const foreign = entries.filter((entry) => !RUN_FILE.test(entry) || !lstatSync(join(directory, entry)).isFile());
  if (foreign.length > 0)
    return `${directory} holds ${foreign.length === 1 ? 'an entry' : 'entries'} a recorder does not write (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''})`;
  if (effectiveStatus(manifest, now, statSync(manifestFile).mtimeMs).status === 'recording')
    return `run "${manifest.name}" in ${directory} is being recorded (its run.json changed in the last ${STALE_AFTER_MS / 1000} s): stop that recorder first`;
  return undefined;
}

/**
 * Removes a run folder whose writer could not start (a disk full from the first byte), when it has no
 * run.json: the recorder's own leftovers, then the folder if nothing else is in it. A run.json, even a
 * failed one, is kept: it says what happened. Returns whether the folder was removed.
 */
export function removeUnstartedRun(directory: string): boolean {
  try {
    const entries = readdirSync(directory);
    if (entries.includes(FILE_NAMES.manifest)) return false;
    for (const entry of entries) if (RUN_FILE.test(entry)) rmSync(join(directory, entry), { force: true });
    rmdirSync(directory);
    return true;
  } catch {
    // Something else is in it, or it went away: leave it as it is.
    return false;
  }
}

/**
 * `mkdir -p`, one folder at a time from the nearest one that exists. Node's recursive mkdir spins for
 * ever where a parent exists but refuses new folders with ENOENT (`/proc`); here that error surfaces.
 */
export function makeFolders(directory: string): void {
  const missing: string[] = [];
  let at = resolve(directory);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing) mkdirSync(folder);
}
