/** `openRun` over a run folder on disk. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRun, type RunReader } from '../core/format/reader.js';

export function openRunFolder(directory: string): Promise<RunReader> {
  return openRun({ label: directory, read: async (file) => new Uint8Array(await readFile(join(directory, file))) });
}
