/** Run names and run folders: nothing a user recorded is replaced without --force. */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FILE_NAMES } from '../core/format/columns.js';

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
 * `force` only a run folder (one holding run.json) or an empty folder is removed.
 */
export function createRunFolder(out: string, name: string, force: boolean): string {
  checkRunName(name);
  const directory = resolve(out, name);
  if (existsSync(directory)) {
    if (!statSync(directory).isDirectory()) throw new RunFolderError(`${directory} exists and is not a folder; choose another --name`);
    const entries = readdirSync(directory);
    if (!force) {
      throw new RunFolderError(`run "${name}" already exists in ${directory}; choose another --name, or pass --force to replace it`);
    }
    if (entries.length > 0 && !entries.includes(FILE_NAMES.manifest)) {
      throw new RunFolderError(`${directory} is not a run folder (no ${FILE_NAMES.manifest}); refusing to delete it even with --force`);
    }
    rmSync(directory, { recursive: true, force: true });
  }
  try {
    mkdirSync(join(directory), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOTDIR'
        ? 'a part of the path is a file, not a folder'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : (error as Error).message;
    throw new RunFolderError(`cannot create the run folder ${directory}: ${reason}${code ? ` (${code})` : ''}; choose another --out`);
  }
  return directory;
}
