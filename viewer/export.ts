/**
 * `npm run export -- <run> [<run> ...] --out <dir> [--base /sub/path] [--force] [--runs <dir>]`:
 * writes a static site — the built viewer, copies of the chosen run folders and a fixed
 * `runs/index.json` — that any static host serves as it is. Exit codes: 0 written, 1 failure,
 * 2 bad input (nothing written).
 *
 * The built viewer works under any URL path without a rebuild: `paths.relative` makes every asset
 * URL relative and SvelteKit computes its base from the page's location at start-up (checked in a
 * browser under /sub/path by tests/browser/export.test.ts). `--base` is therefore only checked and
 * used to print the address to open.
 */
import { Command, CommanderError } from 'commander';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatByteSize } from '../core/config.js';
import { FILE_NAMES } from '../core/format/columns.js';
import { RUN_INDEX_FILE, type RunSummary } from '../core/format/run-index.js';
import { listRuns, readRunSummary } from './run-list.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

export interface ExportOptions {
  /** Names of run folders directly inside `runsDirectory`. */
  runs: string[];
  runsDirectory: string;
  /** Folder the site is written to. */
  out: string;
  /** URL path the site will be served under, e.g. `/my-repo`; `/` (the default) for a host's root. */
  base?: string;
  /** Replace the contents of a non-empty `out`. */
  force?: boolean;
  /** The built viewer (`npm run build`). */
  site?: string;
  /** The project folder: never deleted, nor anything holding it. */
  projectRoot?: string;
}

export interface ExportResult {
  out: string;
  /** What `runs/index.json` holds. */
  runs: RunSummary[];
  files: number;
  bytes: number;
  /** The page to open on the host, `<base>/`. */
  urlPath: string;
  /** Questionable input that was exported anyway, e.g. a run still recording. */
  warnings: string[];
}

/** Bad input, found before anything was written; `problems` holds one message per mistake. */
export class ExportInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ExportInputError';
  }
}

/** Only unreserved URL characters (RFC 3986 §2.3) in a `--base` segment, so the path needs no escaping. */
const BASE_SEGMENT = /^[A-Za-z0-9._~-]+$/;

export function badBaseMessage(base: string, reason: string): string {
  return `--base ${JSON.stringify(base)} ${reason}: expected a URL path such as /my-repo or /sub/path (letters, digits, '-', '_', '.' and '~' between single '/')`;
}

/** `--base` without its trailing slash (`''` for the root), or the reason it is refused. */
export function normalizeBase(base: string): { base: string } | { problem: string } {
  if (base === '') return { problem: badBaseMessage(base, 'is empty') };
  if (!base.startsWith('/')) return { problem: badBaseMessage(base, "does not start with '/'") };
  const trimmed = base.length > 1 && base.endsWith('/') ? base.slice(0, -1) : base;
  if (trimmed === '/') return { base: '' };
  const segments = trimmed.slice(1).split('/');
  if (segments.some((segment) => segment === '')) return { problem: badBaseMessage(base, "has an empty segment ('//')") };
  if (segments.some((segment) => segment === '.' || segment === '..'))
    return { problem: badBaseMessage(base, "has a '.' or '..' segment") };
  if (!segments.every((segment) => BASE_SEGMENT.test(segment)))
    return { problem: badBaseMessage(base, 'has characters that are not URL-safe') };
  return { base: trimmed };
}

export function badRunNameMessage(name: string, reason: string, runsDirectory: string): string {
  return `run ${JSON.stringify(name)} ${reason}: expected the name of a run folder directly inside ${runsDirectory}`;
}

function runNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (isAbsolute(name)) return 'is an absolute path';
  if (name.includes('/') || name.includes('\\')) return "contains '/' or '\\'";
  if (name.startsWith('.')) return "starts with '.'";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  return undefined;
}

export function missingRunMessage(name: string, runsDirectory: string, available: string[]): string {
  const known = available.length
    ? `; the runs there are ${available.slice(0, 12).join(', ')}${available.length > 12 ? ', …' : ''}`
    : '; it holds none';
  return `run ${JSON.stringify(name)} does not exist: expected a run folder (holding ${FILE_NAMES.manifest}) in ${runsDirectory}${known}`;
}

export function nonEmptyOutMessage(out: string): string {
  return `--out ${out} is not empty: choose an empty or new folder, or pass --force to replace a site this tool exported there`;
}

/** Left in every exported site: `--force` replaces a folder only when it holds one (a site this tool wrote). */
export const SITE_MARKER = '.neural-vision-site';

export function notOurSiteMessage(out: string): string {
  return `--out ${out} holds files this tool did not write (no ${SITE_MARKER} from an earlier export); refusing to replace them even with --force: choose an empty or new folder`;
}

type Place = 'is' | 'is inside' | 'holds';

export function guardedOutMessage(out: string, place: Place, what: string, folder: string): string {
  return `--out ${out} ${place} ${what} (${folder}); refusing even with --force: choose a folder outside it`;
}

/** Where `path` lies relative to `folder`, both real absolute paths. */
function placeOf(path: string, folder: string): Place | undefined {
  const down = relative(folder, path);
  if (down === '') return 'is';
  if (down.split(sep)[0] !== '..' && !isAbsolute(down)) return 'is inside';
  const up = relative(path, folder);
  if (up.split(sep)[0] !== '..' && !isAbsolute(up)) return 'holds';
  return undefined;
}

/** The real path of `path`, which need not exist yet: its deepest existing folder with links resolved. */
function realPath(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realPath(parent), basename(absolute));
}

/** Files under `directory`, relative to it; a symbolic link inside is reported rather than followed. */
function filesUnder(directory: string, links: string[] = [], prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(directory, prefix), { withFileTypes: true })) {
    const path = prefix ? join(prefix, entry.name) : entry.name;
    if (entry.isSymbolicLink()) links.push(path);
    else if (entry.isDirectory()) files.push(...filesUnder(directory, links, path));
    else files.push(path);
  }
  return files;
}

/** Checks a run name and its folder; the run's summary, or the problems found. */
function checkRun(name: string, runsDirectory: string, realRuns: string): { summary: RunSummary } | { problem: string } {
  const nameProblem = runNameProblem(name);
  if (nameProblem) return { problem: badRunNameMessage(name, nameProblem, runsDirectory) };
  const folder = join(runsDirectory, name);
  if (!existsSync(folder)) {
    if (lstatSync(folder, { throwIfNoEntry: false })?.isSymbolicLink())
      return { problem: badRunNameMessage(name, 'is a link to nothing', runsDirectory) };
    return {
      problem: missingRunMessage(
        name,
        runsDirectory,
        listRuns(runsDirectory).map((run) => run.name),
      ),
    };
  }
  const real = realpathSync(folder);
  if (placeOf(real, realRuns) !== 'is inside') {
    return { problem: badRunNameMessage(name, `is a link to ${real}, outside the runs folder`, runsDirectory) };
  }
  if (!statSync(real).isDirectory()) return { problem: badRunNameMessage(name, 'is not a folder', runsDirectory) };
  if (!existsSync(join(real, FILE_NAMES.manifest))) {
    return { problem: badRunNameMessage(name, `has no ${FILE_NAMES.manifest}, so it is not a run folder`, runsDirectory) };
  }
  const links: string[] = [];
  filesUnder(real, links);
  if (links.length) {
    return {
      problem: `run ${JSON.stringify(name)} holds symbolic links (${links.join(', ')}): expected only the files the recorder writes`,
    };
  }
  return { summary: readRunSummary(runsDirectory, name) };
}

/**
 * What is wrong with `out`, if anything: a folder it must not be, be inside or hold, or contents that
 * need `force` — which replaces only a site this tool exported (SITE_MARKER), never a folder of other files.
 */
function checkOut(out: string, force: boolean, guarded: { what: string; folder: string; places: Place[] }[]): string | undefined {
  const realOut = realPath(out);
  for (const { what, folder, places } of guarded) {
    const place = placeOf(realOut, realPath(folder));
    // The first one is enough: the others are the same mistake seen from further out.
    if (place && places.includes(place)) return guardedOutMessage(out, place, what, resolve(folder));
  }
  if (!existsSync(realOut)) return undefined;
  if (!statSync(realOut).isDirectory()) return `--out ${out} exists and is not a folder: expected a folder to write the site to`;
  // A Pages branch checked out there keeps its .git; anything else is what --force would replace.
  const contents = replaceable(realOut);
  if (contents.length === 0) return undefined;
  if (!force) return nonEmptyOutMessage(out);
  if (!contents.includes(SITE_MARKER)) return notOurSiteMessage(out);
  return undefined;
}

/** What `out` holds that the site replaces: everything but a `.git` (of a Pages branch checked out there). */
function replaceable(out: string): string[] {
  return readdirSync(out).filter((entry) => entry !== '.git');
}

/**
 * A run folder copied file by file. run.json goes first: a run still recording keeps appending to
 * its Arrow files, and a manifest older than them lists only steps the copies hold.
 */
function copyRun(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  copyFileSync(join(from, FILE_NAMES.manifest), join(to, FILE_NAMES.manifest));
  for (const file of filesUnder(from)) {
    // run.json.<pid>.tmp: the recorder's atomic write of run.json, caught half way.
    if (file === FILE_NAMES.manifest || file.endsWith('.tmp')) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(from, file), join(to, file));
  }
}

/**
 * Writes the site. Everything is checked before anything is written: bad input throws
 * `ExportInputError` listing every problem; a missing build or a failed write throws `Error`.
 */
export function exportSite(options: ExportOptions): ExportResult {
  const site = options.site ?? join(ROOT, 'build');
  const projectRoot = options.projectRoot ?? ROOT;
  const problems: string[] = [];

  const base = normalizeBase(options.base ?? '/');
  if ('problem' in base) problems.push(base.problem);

  const summaries: RunSummary[] = [];
  if (!existsSync(options.runsDirectory) || !statSync(options.runsDirectory).isDirectory()) {
    problems.push(`--runs ${options.runsDirectory} is not a folder: expected the folder that holds the recorded runs`);
  } else if (options.runs.length === 0) {
    problems.push(`no runs named: expected one or more names of run folders in ${options.runsDirectory}`);
  } else {
    const realRuns = realpathSync(options.runsDirectory);
    const seen = new Set<string>();
    for (const name of options.runs) {
      if (seen.has(name)) {
        problems.push(`run ${JSON.stringify(name)} is named twice: expected each run once`);
        continue;
      }
      seen.add(name);
      const checked = checkRun(name, options.runsDirectory, realRuns);
      if ('problem' in checked) problems.push(checked.problem);
      else summaries.push(checked.summary);
    }
  }

  const everywhere: Place[] = ['is', 'is inside', 'holds'];
  const outProblem = checkOut(options.out, options.force ?? false, [
    { what: 'the project folder', folder: projectRoot, places: ['is', 'holds'] },
    { what: 'the runs folder', folder: options.runsDirectory, places: everywhere },
    { what: "the project's runs folder", folder: join(projectRoot, 'runs'), places: everywhere },
    { what: 'the built viewer', folder: site, places: everywhere },
  ]);
  if (outProblem) problems.push(outProblem);
  if (problems.length) throw new ExportInputError(problems);
  if (!existsSync(join(site, 'index.html')))
    throw new Error(`no built viewer in ${site}: run \`npm run build\` first (\`npm run export\` does)`);

  const warnings: string[] = [];
  for (const summary of summaries) {
    if (summary.status === 'recording') {
      warnings.push(
        `run ${JSON.stringify(summary.name)} is still recording (${summary.stepCount} of ${summary.plannedSteps} steps): exported as it is now; export again when it has finished`,
      );
    } else if (summary.status === 'starting') {
      warnings.push(
        `run ${JSON.stringify(summary.name)} is starting (no run.json yet): exported as it is, and the viewer says it cannot be read`,
      );
    } else if (summary.status === 'unreadable') {
      warnings.push(
        `run ${JSON.stringify(summary.name)}: ${summary.problem ?? 'run.json cannot be read'}; exported as it is, and the viewer says so`,
      );
    }
  }

  const out = resolve(options.out);
  const outRuns = join(out, 'runs');
  let runs: RunSummary[];
  try {
    mkdirSync(out, { recursive: true });
    for (const entry of replaceable(out)) rmSync(join(out, entry), { recursive: true, force: true });
    cpSync(site, out, { recursive: true });
    // GitHub Pages runs Jekyll unless told not to, and Jekyll drops folders starting with '_' (`_app`).
    writeFileSync(join(out, '.nojekyll'), '');
    writeFileSync(join(out, SITE_MARKER), `${JSON.stringify({ writtenBy: 'npm run export', at: new Date().toISOString() })}\n`);
    mkdirSync(outRuns, { recursive: true });
    for (const name of options.runs) copyRun(realpathSync(join(options.runsDirectory, name)), join(outRuns, name));
    // The copy's files are as new as the copy: a recording run is judged by its run.json's own time.
    runs = listRuns(outRuns, { heartbeat: 'manifest' });
    writeFileSync(join(outRuns, RUN_INDEX_FILE), `${JSON.stringify(runs, null, 2)}\n`);
  } catch (error) {
    throw new Error(`writing the site to ${out} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  const files = replaceable(out).flatMap((entry) => (statSync(join(out, entry)).isDirectory() ? filesUnder(out, [], entry) : [entry]));
  const bytes = files.reduce((total, file) => total + statSync(join(out, file)).size, 0);
  const urlPath = `${'base' in base ? base.base : ''}/`;
  return { out, runs, files: files.length, bytes, urlPath, warnings };
}

/** A path as the user would type it from here: relative inside the working folder, absolute outside. */
function shown(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere === '' || fromHere.startsWith('..') ? path : fromHere;
}

/** The folder to serve so that the site appears at `urlPath`, when `out` already ends with that path. */
function servedFrom(out: string, urlPath: string): string | undefined {
  let folder = out;
  for (const segment of urlPath.split('/').filter(Boolean).reverse()) {
    if (basename(folder) !== segment) return undefined;
    folder = dirname(folder);
  }
  return folder;
}

function buildProgram(): Command {
  return new Command('export')
    .description('Write a static site holding the viewer and the chosen runs, for any static file host (no server code, no rewrites).')
    .argument('<run...>', 'names of run folders in --runs')
    .requiredOption('--out <dir>', 'folder to write the site to; must be empty or new unless --force')
    .option('--base <path>', 'URL path the site will be served under, e.g. /my-repo for a GitHub Pages project site', '/')
    .option('--force', 'replace a site exported there before (never other files, the runs folder or the project)', false)
    .option('--runs <dir>', 'folder of runs', 'runs')
    .option('--site <dir>', 'built viewer (npm run build)', join(ROOT, 'build'))
    .addHelpText(
      'after',
      `
Examples:
  npm run export -- mnist-a mnist-b --out ../site
  npm run export -- mnist-a --out ../pages/my-repo --base /my-repo --force
  cd ../pages && python3 -m http.server 8000      # then open http://localhost:8000/my-repo/

Exit codes: 0 written, 1 failure, 2 bad input (nothing written).`,
    )
    .exitOverride();
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const options = program.opts<{ out: string; base: string; force: boolean; runs: string; site: string }>();
  let result: ExportResult;
  try {
    result = exportSite({
      runs: program.args,
      runsDirectory: options.runs,
      out: options.out,
      base: options.base,
      force: options.force,
      site: options.site,
    });
  } catch (error) {
    if (error instanceof ExportInputError) {
      for (const problem of error.problems) console.error(`error: ${problem}`);
      return EXIT.usage;
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.error;
  }
  for (const warning of result.warnings) console.warn(`warning: ${warning}`);
  const names = result.runs.map((run) => run.name);
  const first = encodeURIComponent(names[0] ?? '');
  console.log(
    `Exported ${names.length} run${names.length === 1 ? '' : 's'} (${names.join(', ')}) to ${shown(result.out)}: ${formatByteSize(result.bytes)} in ${result.files} files.`,
  );
  console.log(
    `Open ${result.urlPath} on a static host that serves that folder at ${result.urlPath} (one run: ${result.urlPath}?run=${first}).`,
  );
  const root = servedFrom(result.out, result.urlPath);
  if (root) console.log(`  To try it here: python3 -m http.server 8000 -d ${shown(root)}  →  http://localhost:8000${result.urlPath}`);
  return EXIT.ok;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv);
