/**
 * `npm run check -- <run folder> [...]`: reads every file of a run (steps, weight snapshots, link
 * frames, probes) as the viewer would and says what is readable and what is wrong, naming the file.
 * Exit codes: 0 every run whole, 1 some run damaged but partly readable, 2 some run unreadable (no
 * valid run.json, or no step readable).
 */
import { Command, CommanderError } from 'commander';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_NAMES } from '../core/format/columns.js';
import { effectiveStatus } from '../core/format/run-status.js';
import { openRunFolder } from './open-run.js';

export const CHECK_EXIT = { whole: 0, damaged: 1, unreadable: 2 } as const;

export interface CheckResult {
  directory: string;
  /** Steps readable from the files (every whole record batch). */
  steps: number;
  status: string | undefined;
  problems: string[];
  exit: (typeof CHECK_EXIT)[keyof typeof CHECK_EXIT];
}

export async function checkRun(directory: string, now = Date.now()): Promise<CheckResult> {
  let run;
  try {
    run = await openRunFolder(directory);
  } catch (error) {
    return { directory, steps: 0, status: undefined, problems: [messageOf(error)], exit: CHECK_EXIT.unreadable };
  }
  const problems: string[] = [];
  let steps = 0;
  for (let index = 0; index < run.manifest.chunks.length; index++) {
    try {
      const chunk = await run.readSteps(index);
      steps += chunk.rows;
      problems.push(...chunk.problems);
      if (chunk.rows < run.manifest.chunks[index]!.stepCount) break;
    } catch (error) {
      problems.push(messageOf(error));
      break;
    }
    for (const weights of run.manifest.chunks[index]!.weights) {
      try {
        problems.push(...((await run.readWeights(index, weights.layer))?.problems ?? []));
      } catch (error) {
        problems.push(messageOf(error));
      }
    }
    for (const links of run.manifest.chunks[index]!.links) {
      try {
        problems.push(...((await run.readLinks(index, links.layer))?.problems ?? []));
      } catch (error) {
        problems.push(messageOf(error));
      }
    }
  }
  try {
    await run.readProbes();
  } catch (error) {
    problems.push(messageOf(error));
  }
  const status = effectiveStatus(run.manifest, now, modifiedAt(join(directory, FILE_NAMES.manifest))).status;
  const exit =
    steps === 0 && run.manifest.stepCount > 0 ? CHECK_EXIT.unreadable : problems.length > 0 ? CHECK_EXIT.damaged : CHECK_EXIT.whole;
  return { directory, steps, status, problems, exit };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<number> {
  const program = new Command('check')
    .description('Read every file of recorded runs and report what is readable and what is damaged.')
    .argument('<run...>', 'run folders, e.g. runs/my-run')
    .exitOverride();
  try {
    program.parse(process.argv);
  } catch (error) {
    return error instanceof CommanderError && error.exitCode === 0 ? 0 : CHECK_EXIT.unreadable;
  }
  let exit: number = CHECK_EXIT.whole;
  for (const directory of program.args) {
    const result = await checkRun(directory);
    const verdict = result.exit === CHECK_EXIT.whole ? 'whole' : result.exit === CHECK_EXIT.damaged ? 'damaged' : 'unreadable';
    console.log(`${directory}: ${verdict}; ${result.steps} steps readable${result.status ? `, status ${result.status}` : ''}`);
    for (const problem of result.problems) console.log(`  ${problem}`);
    exit = Math.max(exit, result.exit);
  }
  return exit;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();

/** When a file was last written, or undefined when it cannot be seen. */
function modifiedAt(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
