/**
 * `npm run datasets:download -- <mnist|fashion-mnist> [--mirror URL] [--force]`: fetches the four
 * IDX files into `datasets/<name>/`, checks each parses before keeping it, and never replaces
 * files that are already there without --force.
 */
import { Command, Option } from 'commander';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS_ROOT } from './index.js';
import { IDX_FILES } from './idx-dataset.js';
import { parseIdx } from './idx.js';

export const DOWNLOAD_SOURCES = {
  mnist: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
  'fashion-mnist': 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
} as const;
type DownloadableDataset = keyof typeof DOWNLOAD_SOURCES;

export interface DownloadOptions {
  mirror?: string;
  force?: boolean;
  root?: string;
  log?: (line: string) => void;
}

export async function downloadDataset(name: DownloadableDataset, options: DownloadOptions = {}): Promise<string> {
  const log = options.log ?? console.log;
  const base = options.mirror ?? DOWNLOAD_SOURCES[name];
  const directory = join(options.root ?? DATASETS_ROOT, name);
  mkdirSync(directory, { recursive: true });
  for (const fileBase of Object.values(IDX_FILES)) {
    const target = join(directory, `${fileBase}.gz`);
    if (existsSync(target) && !options.force) {
      log(`${target} exists; keeping it (--force to download again)`);
      continue;
    }
    const url = new URL(`${fileBase}.gz`, base.endsWith('/') ? base : `${base}/`).href;
    let bytes: Uint8Array;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new Error(
        `could not download ${url} (${(error as Error).message}). Without internet access, copy ${fileBase}.gz ` +
          `(or the uncompressed ${fileBase}) from a machine that has it into ${directory}/, or pass --mirror <url> of a copy you can reach.`,
        { cause: error },
      );
    }
    parseIdx(url, bytes, fileBase.includes('images') ? 3 : 1);
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, target);
    log(`${target} (${bytes.length} bytes)`);
  }
  return directory;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('datasets:download')
    .description('Download MNIST or Fashion-MNIST IDX files into datasets/<name>/ (needs internet access).')
    .addOption(new Option('--mirror <url>', 'base URL to fetch the four .gz files from instead of the official host'))
    .option('--force', 'replace files that are already there', false)
    .argument('<dataset>', `one of: ${Object.keys(DOWNLOAD_SOURCES).join(', ')}`)
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
  program.parse(argv);
  const name = program.args[0]!;
  if (!(name in DOWNLOAD_SOURCES)) {
    console.error(`error: dataset "${name}" cannot be downloaded; expected one of ${Object.keys(DOWNLOAD_SOURCES).join(', ')}`);
    process.exit(2);
  }
  const options = program.opts<{ mirror?: string; force: boolean }>();
  try {
    const directory = await downloadDataset(name as DownloadableDataset, options);
    console.log(`Dataset "${name}" is ready in ${directory}. Record with: npm run record -- --dataset ${name}`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv);
