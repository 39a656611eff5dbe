/**
 * How fresh a run's drawn links are (issue 19), and what its folder takes: for every step, the age of
 * what each layer's links are drawn from — the newest exact snapshot or int8 link frame at or before
 * the step, the rule RunData.snapshotAt follows (core/view/links.ts) — the largest over the run as a
 * fraction of its steps, with and without the link frames; and the folder's bytes by kind of file.
 * Used by `npm run bench:viewer`; on its own:
 *
 *   npx tsx bench/link-age.ts <run folder> [...]
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatByteSize } from '../core/config.js';
import { largestLinkAge } from '../core/view/links.js';
import { openRunFolder } from '../recorder/open-run.js';

export interface LinkFreshness {
  network: string;
  steps: number;
  /** Per dense layer: the largest age of its drawn links, in steps; and without link frames. */
  ages: number[];
  agesWithoutLinks: number[];
  /** Bytes of the folder by kind of file. */
  bytes: { total: number; steps: number; snapshots: number; links: number };
}

export async function linkFreshness(directory: string): Promise<LinkFreshness> {
  const run = await openRunFolder(directory);
  const { manifest } = run;
  const listed = (kind: 'weights' | 'links', layer: number) =>
    manifest.chunks.flatMap((chunk) => chunk[kind].find((entry) => entry.layer === layer)?.steps ?? []);
  const layers = manifest.layers.slice(1).map((layer) => layer.index);
  const files = readdirSync(directory).map((file) => ({ file, bytes: statSync(join(directory, file)).size }));
  const sum = (prefix: string) => files.filter(({ file }) => file.startsWith(prefix)).reduce((total, { bytes }) => total + bytes, 0);
  return {
    network: manifest.layers.map((layer) => layer.size).join('-'),
    steps: manifest.stepCount,
    ages: layers.map((layer) => largestLinkAge(listed('weights', layer), listed('links', layer), manifest.stepCount)),
    agesWithoutLinks: layers.map((layer) => largestLinkAge(listed('weights', layer), [], manifest.stepCount)),
    bytes: { total: sum(''), steps: sum('steps-'), snapshots: sum('weights-'), links: sum('links-') },
  };
}

const percent = (age: number, steps: number) => `${((100 * age) / steps).toFixed(2)}%`;

/** Two lines: the largest age (drawn layers 2…, and layer 1's receptive fields), then the folder's size. */
export function describeFreshness(label: string, freshness: LinkFreshness): string[] {
  const { steps, ages, agesWithoutLinks, bytes } = freshness;
  const largest = Math.max(...ages);
  const drawn = Math.max(...ages.slice(1));
  const perLayer = ages.map((age, index) => `${index + 1}: ${age} (${agesWithoutLinks[index]} without)`).join(', ');
  return [
    `${label} ${freshness.network}, ${steps} steps: links at most ${largest} steps = ${percent(largest, steps)} of the run old ` +
      `(layers 2… as drawn: ${percent(drawn, steps)}; without link frames ${percent(Math.max(...agesWithoutLinks), steps)})   (target ≤ 2%)`,
    `    largest age by layer, in steps: ${perLayer}`,
    `    run folder ${formatByteSize(bytes.total)}: steps ${formatByteSize(bytes.steps)}, exact snapshots ${formatByteSize(bytes.snapshots)}, ` +
      `int8 link frames ${formatByteSize(bytes.links)}`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const directory of process.argv.slice(2)) {
    for (const line of describeFreshness(directory, await linkFreshness(directory))) console.log(line);
  }
}
