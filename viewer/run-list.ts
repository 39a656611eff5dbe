/**
 * The runs a folder holds, as `runs/index.json` lists them: computed per request by `npm run view`
 * and written once by `npm run export`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_NAMES } from '../core/format/columns.js';
import { parseManifest } from '../core/format/manifest.js';
import { summarizeRun, unreadableRun, type RunSummary } from '../core/format/run-index.js';

/** Every run folder in `runsDirectory` (names starting with '.' are skipped), newest first. */
export function listRuns(runsDirectory: string): RunSummary[] {
  if (!existsSync(runsDirectory)) return [];
  return readdirSync(runsDirectory)
    .filter((name) => !name.startsWith('.') && statSync(join(runsDirectory, name)).isDirectory())
    .map((name) => readRunSummary(runsDirectory, name))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.name.localeCompare(b.name));
}

/** One run's summary; a run.json that cannot be read gives an `unreadable` summary saying why. */
export function readRunSummary(runsDirectory: string, name: string): RunSummary {
  const file = join(runsDirectory, name, FILE_NAMES.manifest);
  try {
    // The folder name is what links open, even if run.json was copied from another run.
    return { ...summarizeRun(parseManifest(file, JSON.parse(readFileSync(file, 'utf8')))), name };
  } catch (error) {
    return unreadableRun(name, error instanceof Error ? error.message : String(error));
  }
}
