/**
 * Whether two busy threads slow each other on this machine, and through what: times pure
 * arithmetic and a walk over 32 MB (one touch per cache line) alone, then each while a second
 * thread runs the arithmetic or the walk. The recorder's two threads (training, writer) are the
 * case this explains (docs/performance.md).
 *
 *   npx tsx bench/contention.ts
 */
import { Worker } from 'node:worker_threads';

/** Plain JavaScript so that both threads run the same code with no loader. */
const LOADS = `
const spin = (count) => { let x = 1; for (let i = 0; i < count; i++) x = (x * 1664525 + 1013904223) | 0; return x; };
const memory = new Float64Array(4_000_000);
const walk = () => { let sum = 0; for (let round = 0; round < 10; round++) for (let i = 0; i < memory.length; i += 8) { memory[i] += 1; sum += memory[i]; } return sum; };
`;
const { spin, walk } = new Function(`${LOADS}; return { spin, walk };`)() as { spin: (count: number) => number; walk: () => number };

function milliseconds(work: () => unknown, repeats = 5): number {
  const times: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return Math.min(...times);
}

const cases = { arithmetic: () => spin(300_000_000), 'memory walk': walk };
const measure = () => Object.fromEntries(Object.entries(cases).map(([name, work]) => [name, milliseconds(work)]));
measure();
const rows: [string, Record<string, number>][] = [['alone', measure()]];
for (const load of ['spin(1e9)', 'walk()']) {
  const worker = new Worker(`${LOADS}; for (;;) ${load};`, { eval: true });
  await new Promise((resolve) => setTimeout(resolve, 300));
  rows.push([`with a thread running ${load === 'walk()' ? 'the memory walk' : 'arithmetic'}`, measure()]);
  await worker.terminate();
}
console.log(
  `${'ms (best of 5)'.padEnd(38)}${Object.keys(cases)
    .map((name) => name.padStart(14))
    .join('')}`,
);
for (const [label, times] of rows) {
  console.log(
    `${label.padEnd(38)}${Object.values(times)
      .map((time) => time.toFixed(1).padStart(14))
      .join('')}`,
  );
}
