/**
 * `npm run export`: what it refuses (before writing anything) and what it writes. The site here is
 * a stand-in for `build/`; tests/browser/export.test.ts serves a real export in Chromium.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RUN_INDEX_FILE } from '../core/format/run-index.js';
import { listRuns } from '../viewer/run-list.js';
import {
  badRunNameMessage,
  exportSite,
  ExportInputError,
  guardedOutMessage,
  missingRunMessage,
  nonEmptyOutMessage,
  notOurSiteMessage,
  SITE_MARKER,
  normalizeBase,
  type ExportOptions,
} from '../viewer/export.js';
import { ROOT, runRecorder, tempDir, TINY } from './helpers.js';

/** A project of its own, so that a broken guard could only ever delete test files. */
const home = tempDir('export');
const project = join(home, 'project');
const runs = join(project, 'runs');
const site = join(project, 'build');

function options(overrides: Partial<ExportOptions> & { out: string }): ExportOptions {
  return { runs: ['a', 'b'], runsDirectory: runs, site, projectRoot: project, ...overrides };
}

/** The problems `exportSite` refuses with; it fails the test if it writes instead. */
function refusal(exportOptions: ExportOptions): string[] {
  try {
    exportSite(exportOptions);
  } catch (error) {
    if (error instanceof ExportInputError) return error.problems;
    throw error;
  }
  throw new Error('exportSite wrote a site instead of refusing');
}

/** Every file under `directory` with its bytes, by relative path. */
function tree(directory: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    const path = join(directory, entry);
    if (statSync(path).isFile()) files.set(entry, readFileSync(path).toString('base64'));
  }
  return files;
}

function runExportCli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'viewer', 'export.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
}

beforeAll(async () => {
  for (const [name, steps] of [
    ['a', 20],
    ['b', 30],
  ] as const) {
    const recorded = await runRecorder([...TINY, '--out', runs, '--name', name, '--max-steps', String(steps)]);
    expect(recorded.code, recorded.stderr).toBe(0);
  }
  // A run the recorder is still writing, as far as its run.json says.
  cpSync(join(runs, 'a'), join(runs, 'live'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(runs, 'live', 'run.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(runs, 'live', 'run.json'), JSON.stringify({ ...manifest, status: 'recording', plannedSteps: 100 }));
  // A run folder elsewhere, linked into the runs folder.
  cpSync(join(runs, 'a'), join(home, 'elsewhere'), { recursive: true });
  symlinkSync(join(home, 'elsewhere'), join(runs, 'linked'));
  mkdirSync(join(runs, 'empty'));
  mkdirSync(join(site, '_app'), { recursive: true });
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>stand-in viewer</title>');
  writeFileSync(join(site, '_app', 'app.js'), 'export {};');
}, 120_000);

describe('exportSite', () => {
  it('writes the viewer, exactly the chosen runs and their summaries', () => {
    const out = join(home, 'site');
    const result = exportSite(options({ out, base: '/sub/path/' }));
    expect(readdirSync(join(out, 'runs')).sort()).toEqual(['a', 'b', RUN_INDEX_FILE]);
    for (const name of ['a', 'b']) expect(tree(join(out, 'runs', name))).toEqual(tree(join(runs, name)));
    const expected = listRuns(runs).filter((run) => run.name === 'a' || run.name === 'b');
    expect(expected).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(out, 'runs', RUN_INDEX_FILE), 'utf8'))).toEqual(expected);
    expect(result.runs).toEqual(expected);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('stand-in viewer');
    expect(existsSync(join(out, '_app', 'app.js'))).toBe(true);
    expect(existsSync(join(out, '.nojekyll'))).toBe(true);
    const files = tree(out);
    expect(result.files).toBe(files.size);
    expect(result.bytes).toBe([...files.keys()].reduce((total, file) => total + statSync(join(out, file)).size, 0));
    expect(result.urlPath).toBe('/sub/path/');
    expect(result.warnings).toEqual([]);
  });

  it("carries no path of the exporter's machine, even in a damaged run's problem", () => {
    const damaged = join(runs, 'damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'run.json'), '{"schemaVersion": 4}');
    const out = join(home, 'site-damaged');
    exportSite(options({ out, runs: ['a', 'damaged'] }));
    const index = readFileSync(join(out, 'runs', RUN_INDEX_FILE), 'utf8');
    const listed = JSON.parse(index) as { name: string; status: string; problem?: string }[];
    expect(listed.find((run) => run.name === 'damaged')).toMatchObject({
      status: 'unreadable',
      problem: expect.stringMatching(/^damaged\/run\.json: field "name"/),
    });
    expect(index).not.toContain(home);
  });

  it('refuses names that point outside the runs folder, and writes nothing', () => {
    const out = join(home, 'never');
    const unsafe: [string, RegExp][] = [
      ['..', /starts with '\.'/],
      ['../a', /contains '\/' or '\\'/],
      ['a/../b', /contains '\/' or '\\'/],
      ['a\\b', /contains '\/' or '\\'/],
      [join(runs, 'a'), /is an absolute path/],
      ['/etc', /is an absolute path/],
      ['', /is empty/],
      ['.hidden', /starts with '\.'/],
      ['linked', /is a link to .*elsewhere, outside the runs folder/],
    ];
    for (const [name, reason] of unsafe) {
      const problems = refusal(options({ out, runs: [name] }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(reason);
      expect(problems[0]).toContain(`run ${JSON.stringify(name)} `);
      expect(problems[0]).toContain(`expected the name of a run folder directly inside ${runs}`);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('refuses runs that do not exist, folders that are not runs and duplicates, listing every problem', () => {
    const out = join(home, 'never');
    const problems = refusal(options({ out, runs: ['a', 'nope', 'empty', 'a'], base: 'sub' }));
    expect(problems).toEqual([
      expect.stringMatching(/^--base "sub" does not start with '\/'/),
      missingRunMessage(
        'nope',
        runs,
        listRuns(runs).map((run) => run.name),
      ),
      badRunNameMessage('empty', 'has no run.json, so it is not a run folder', runs),
      'run "a" is named twice: expected each run once',
    ]);
    expect(problems[1]).toMatch(/run "nope" does not exist: expected a run folder \(holding run\.json\) in .*; the runs there are .*\bb\b/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a non-empty folder without force, and with force replaces only a site it exported', () => {
    const out = join(home, 'used');
    mkdirSync(join(out, '.git'), { recursive: true });
    writeFileSync(join(out, '.git', 'HEAD'), 'ref: refs/heads/gh-pages\n');
    // A Pages checkout holding only its .git is as good as empty.
    exportSite(options({ out, runs: ['a'] }));
    expect(existsSync(join(out, SITE_MARKER))).toBe(true);
    writeFileSync(join(out, 'old.txt'), 'left from the earlier site');
    expect(refusal(options({ out }))).toEqual([nonEmptyOutMessage(out)]);
    expect(readFileSync(join(out, 'old.txt'), 'utf8')).toBe('left from the earlier site');
    // A folder of files this tool did not write (a home folder, a project's docs): refused even with force.
    const theirs = join(home, 'theirs');
    mkdirSync(join(theirs, 'notes'), { recursive: true });
    writeFileSync(join(theirs, 'notes', 'thesis.tex'), 'years of work');
    expect(refusal(options({ out: theirs, force: true }))).toEqual([notOurSiteMessage(theirs)]);
    expect(readFileSync(join(theirs, 'notes', 'thesis.tex'), 'utf8')).toBe('years of work');
    const result = exportSite(options({ out, runs: ['b'], force: true }));
    expect(existsSync(join(out, 'old.txt'))).toBe(false);
    expect(readdirSync(join(out, 'runs')).sort()).toEqual(['b', RUN_INDEX_FILE]);
    // A Pages branch checked out there stays a checkout, and is not counted as the site.
    expect(readFileSync(join(out, '.git', 'HEAD'), 'utf8')).toContain('gh-pages');
    expect(result.files).toBe(tree(out).size - 1);
  });

  it('never writes into, over or around the runs folder or the project, even with force', () => {
    const before = tree(project);
    const cases: [string, string][] = [
      [runs, guardedOutMessage(runs, 'is', 'the runs folder', runs)],
      [join(runs, 'a'), guardedOutMessage(join(runs, 'a'), 'is inside', 'the runs folder', runs)],
      [join(runs, 'new'), guardedOutMessage(join(runs, 'new'), 'is inside', 'the runs folder', runs)],
      [project, guardedOutMessage(project, 'is', 'the project folder', project)],
      [home, guardedOutMessage(home, 'holds', 'the project folder', project)],
      [dirname(home), guardedOutMessage(dirname(home), 'holds', 'the project folder', project)],
      [site, guardedOutMessage(site, 'is', 'the built viewer', site)],
    ];
    for (const [out, message] of cases) expect(refusal(options({ out, force: true }))).toEqual([message]);
    // The runs folder guarded wherever --runs points, and the project's own runs folder too.
    const other = join(home, 'other-runs');
    cpSync(join(runs, 'b'), join(other, 'b'), { recursive: true });
    expect(refusal(options({ out: other, runs: ['b'], runsDirectory: other, force: true }))).toEqual([
      guardedOutMessage(other, 'is', 'the runs folder', other),
    ]);
    expect(refusal(options({ out: runs, runs: ['b'], runsDirectory: other, force: true }))).toEqual([
      guardedOutMessage(runs, 'is', "the project's runs folder", runs),
    ]);
    // A link to the runs folder is the runs folder.
    symlinkSync(runs, join(home, 'runs-link'));
    expect(refusal(options({ out: join(home, 'runs-link'), force: true }))).toEqual([
      guardedOutMessage(join(home, 'runs-link'), 'is', 'the runs folder', runs),
    ]);
    expect(tree(project)).toEqual(before);
  });

  it('refuses this project and its parent with the default project root', () => {
    for (const out of [ROOT, dirname(ROOT)]) {
      const { projectRoot: _, ...defaults } = options({ out, force: true });
      expect(refusal(defaults)[0]).toMatch(/the project folder/);
    }
  });

  it('checks --base: a path from the root with URL-safe segments', () => {
    expect(normalizeBase('/')).toEqual({ base: '' });
    expect(normalizeBase('/sub/path')).toEqual({ base: '/sub/path' });
    expect(normalizeBase('/sub/path/')).toEqual({ base: '/sub/path' });
    expect(normalizeBase('/my-repo_2.0~x')).toEqual({ base: '/my-repo_2.0~x' });
    const refused: [string, string][] = [
      ['', 'is empty'],
      ['sub/path', "does not start with '/'"],
      ['//host/path', "has an empty segment ('//')"],
      ['/sub//path', "has an empty segment ('//')"],
      ['/sub/path//', "has an empty segment ('//')"],
      ['/sub/../etc', "has a '.' or '..' segment"],
      ['/./sub', "has a '.' or '..' segment"],
      ['/sub path', 'has characters that are not URL-safe'],
      ['/sub?x=1', 'has characters that are not URL-safe'],
      ['/sub#x', 'has characters that are not URL-safe'],
      ['/sub%2F', 'has characters that are not URL-safe'],
      ['/süb', 'has characters that are not URL-safe'],
      ['/sub\\path', 'has characters that are not URL-safe'],
    ];
    for (const [base, reason] of refused) {
      const result = normalizeBase(base);
      expect('problem' in result && result.problem, base).toMatch(`--base ${JSON.stringify(base)} ${reason}: expected a URL path`);
    }
  });

  it('exports a run that is still recording as it is, with a warning', () => {
    const out = join(home, 'live-site');
    const result = exportSite(options({ out, runs: ['live'] }));
    expect(result.warnings).toEqual([expect.stringMatching(/^run "live" is still recording \(20 of 100 steps\): exported as it is now/)]);
    expect(JSON.parse(readFileSync(join(out, 'runs', RUN_INDEX_FILE), 'utf8'))).toMatchObject([{ name: 'live', status: 'recording' }]);
  });
});

describe('npm run export', () => {
  it('exits 0 and prints the size and the address to open', () => {
    const out = join(home, 'cli', 'sub', 'path');
    const result = runExportCli(['a', 'b', '--runs', runs, '--site', site, '--out', out, '--base', '/sub/path']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Exported 2 runs \((a, b|b, a)\) to .*cli\/sub\/path: [\d.]+ (B|KiB|MiB) in \d+ files\.$/m);
    expect(result.stdout).toContain('Open /sub/path/ on a static host');
    expect(result.stdout).toContain(
      `python3 -m http.server 8000 -d ${relative(ROOT, join(home, 'cli'))}  →  http://localhost:8000/sub/path/`,
    );
  });

  it('exits 2 on bad input, naming every problem, and writes nothing', () => {
    const out = join(home, 'cli-never');
    const result = runExportCli(['a', '../b', 'nope', '--runs', runs, '--site', site, '--out', out, '--base', '/a/../b']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`error: --base "/a/../b" has a '.' or '..' segment`);
    expect(result.stderr).toContain(`error: run "../b" contains '/' or '\\'`);
    expect(result.stderr).toContain('error: run "nope" does not exist');
    expect(existsSync(out)).toBe(false);
    const used = join(home, 'cli-used');
    mkdirSync(used);
    writeFileSync(join(used, 'keep.txt'), 'mine');
    const nonEmpty = runExportCli(['a', '--runs', runs, '--site', site, '--out', used]);
    expect(nonEmpty.status).toBe(2);
    expect(nonEmpty.stderr).toContain(`error: ${nonEmptyOutMessage(used)}`);
    expect(runExportCli(['a', '--runs', runs, '--site', site]).status).toBe(2);
  });

  it('exits 1 without a built viewer, and explains itself with --help', () => {
    const result = runExportCli(['a', '--runs', runs, '--site', join(home, 'no-build'), '--out', join(home, 'cli-nobuild')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no built viewer in');
    const help = runExportCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: export \[options\] <run\.\.\.>/);
    expect(help.stdout).toContain('--base <path>');
    expect(help.stdout).toContain('Exit codes: 0 written, 1 failure, 2 bad input');
  });
});
