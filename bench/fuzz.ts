/**
 * The long fuzzing run: ≥ 10,000 generated inputs per target (tests/fuzz/targets.ts) — damaged chunk
 * files, damaged run.json, damaged config values and files — and the count of each outcome. Exits 1
 * if any input raised an unexpected exception or took longer than a second.
 *
 *   npm run bench:fuzz [-- --runs 10000 --seed 1]
 */
import { Command } from 'commander';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../core/config.js';
import { recordRun } from '../recorder/record.js';
import { chunkTarget, configTarget, fuzz, LINK_COLUMNS, manifestTarget, STEP_COLUMNS_V2, type FuzzTarget } from '../tests/fuzz/targets.js';

const options = new Command('bench:fuzz')
  .option('--runs <n>', 'inputs per target', '10000')
  .option('--seed <n>', 'seed of the generated inputs', String(Date.now() % 1_000_000))
  .parse(process.argv)
  .opts<{ runs: string; seed: string }>();
const runs = Number(options.runs);
const seed = Number(options.seed);

const out = join(import.meta.dirname, 'out', 'fuzz-runs');
rmSync(out, { recursive: true, force: true });
await recordRun({
  // A budget small enough that layers 1 and 2 keep link frames: run.json lists links files too.
  config: resolveConfig({ layers: [16, 8], batchSize: 32, probes: 4, evalEvery: 10, maxSteps: 20, budget: 300_000 }),
  name: 'seed',
  out,
  reproduce: () => 'npm run bench:fuzz',
});
const folder = join(out, 'seed');
const recorded = {
  manifest: JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as unknown,
  chunk: new Uint8Array(readFileSync(join(folder, 'steps-0000.arrows'))),
  files: Object.fromEntries(
    readdirSync(folder)
      .filter((file) => /^(weights|links)-/.test(file))
      .map((file) => [file, new Uint8Array(readFileSync(join(folder, file)))]),
  ),
};

console.log(`seed ${seed}, ${runs} inputs per target`);
let failed = false;
for (const target of [
  chunkTarget(),
  chunkTarget(STEP_COLUMNS_V2),
  chunkTarget(LINK_COLUMNS),
  manifestTarget(recorded),
  configTarget(),
] as FuzzTarget<unknown>[]) {
  const started = performance.now();
  const counts = await fuzz(target, runs, seed);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${target.name.padEnd(42)} ${counts.inputs} inputs: ${counts.accepted} accepted, ${counts.refused} refused with a clear error, ` +
      `${counts.unexpected.length} unexpected exceptions, ${counts.slow} slower than 1 s (${seconds.toFixed(1)} s)`,
  );
  for (const { error } of counts.unexpected.slice(0, 5)) console.log(`  unexpected: ${error}`);
  failed ||= counts.unexpected.length > 0 || counts.slow > 0;
}
process.exit(failed ? 1 : 0);
