/** `openRun` over a run folder on disk. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunFileName } from '../core/format/manifest.js';
import { openRun, type RunReader } from '../core/format/reader.js';

export function openRunFolder(directory: string): Promise<RunReader> {
  return openRun({
    label: directory,
    read: async (file) => {
      // run.json's names are checked when it is parsed; this holds for every other caller too.
      if (!isRunFileName(file)) throw new Error(`${directory}: ${JSON.stringify(file)} is not a file name inside the run folder`);
      return new Uint8Array(await readFile(join(directory, file)));
    },
  });
}
