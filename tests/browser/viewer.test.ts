/**
 * The built viewer in Debian's Chromium, against runs recorded for the test and served by the
 * same server as `npm run view`. Run `npm run build` first (the test command does).
 */
import { cpSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutNetwork } from '../../core/view/layout.js';
import { rgb } from 'd3-color';
import { FINDING_COLOR, STAGE_COLOR } from '../../core/view/colors.js';
import { runRecorder, tempDir, TINY } from '../helpers.js';
import { failOnPageErrors, openPage, paintedPixels, serveRuns, startSession, type ViewerSession } from './harness.js';

/** A folder name that is markup (the recorder refuses such names; a renamed folder can have one). */
const HOSTILE_FOLDER = 'x"><img src=y onerror="window.__pwned=4">';

let session: ViewerSession;

beforeAll(async () => {
  const runs = tempDir('browser');
  const [recorded, lesson, zeros] = await Promise.all([
    runRecorder([...TINY, '--out', runs, '--name', 'tiny', '--max-steps', '60']),
    runRecorder(['--preset', 'dying-relu', '--max-steps', '60', '--out', runs, '--name', 'lesson', '--quiet']),
    runRecorder([...TINY, '--init', 'zeros', '--out', runs, '--name', 'zeros', '--max-steps', '20']),
  ]);
  expect(recorded.code).toBe(0);
  expect(lesson.code).toBe(0);
  expect(zeros.code).toBe(0);
  // A copy of the run whose only chunk is cut in the middle of its last record batch.
  cpSync(join(runs, 'tiny'), join(runs, 'cut'), { recursive: true });
  const chunk = join(runs, 'cut', 'steps-0000.arrows');
  truncateSync(chunk, statSync(chunk).size - 5000);
  // A run whose folder name and run.json text carry markup and script: a hand-edited or hostile run.
  cpSync(join(runs, 'tiny'), join(runs, 'hostile'), { recursive: true });
  const manifestFile = join(runs, 'hostile', 'run.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.name = '<img src=x onerror="window.__pwned=1">';
  manifest.dataset.name = '<script>window.__pwned=2</script>';
  manifest.dataset.classNames[3] = '<b onmouseover="window.__pwned=3">three</b>';
  writeFileSync(manifestFile, JSON.stringify(manifest));
  cpSync(join(runs, 'hostile'), join(runs, HOSTILE_FOLDER), { recursive: true });
  // A run stopped before its plan: 60 of 100 planned steps.
  cpSync(join(runs, 'tiny'), join(runs, 'stopped'), { recursive: true });
  const stoppedFile = join(runs, 'stopped', 'run.json');
  writeFileSync(
    stoppedFile,
    JSON.stringify({ ...JSON.parse(readFileSync(stoppedFile, 'utf8')), status: 'interrupted', plannedSteps: 100 }),
  );
  // A run.json that passes the format's checks with a layer of a billion neurons.
  cpSync(join(runs, 'tiny'), join(runs, 'giant'), { recursive: true });
  const giantFile = join(runs, 'giant', 'run.json');
  const giant = JSON.parse(readFileSync(giantFile, 'utf8'));
  giant.layers[1].size = 1e9;
  writeFileSync(giantFile, JSON.stringify(giant));
  // A run whose layer 1 weight file is garbage (this small run keeps every step's weights: no link files).
  cpSync(join(runs, 'tiny'), join(runs, 'nolayer1'), { recursive: true });
  writeFileSync(join(runs, 'nolayer1', 'weights-layer1-0000.arrows'), 'not an arrow file '.repeat(100));
  mkdirSync(join(runs, 'broken'));
  writeFileSync(join(runs, 'broken', 'run.json'), '{"schemaVersion": 99}');
  session = await startSession(await serveRuns(runs));
}, 90_000);

afterAll(async () => {
  await session?.close();
});

const open = (path: string): Promise<Page> => openPage(session.browser, `${session.origin}${path}`);

failOnPageErrors();

describe('the viewer', () => {
  it('lists the runs, with unreadable ones marked', async () => {
    const page = await open('/');
    await page.getByRole('link', { name: 'tiny' }).waitFor();
    expect(
      await page
        .getByRole('row', { name: new RegExp(`tiny complete [\\d: -]+ mnist-embedded 784-16-8-10 relu he sgd 0\\.1 32 \\d+ 60 `) })
        .count(),
    ).toBe(1);
    expect(await page.getByRole('row', { name: /broken unreadable/ }).count()).toBe(1);
    await page.close();
  });

  it('draws the network, and the arrow keys move the step, the picture and the URL', async () => {
    const page = await open('/?run=tiny&step=10');
    await page.getByText('step 10 of 59').waitFor();
    await page.locator('[data-testid="network"] canvas').waitFor();
    const before = await paintedPixels(page);
    expect(before.count).toBeGreaterThan(5000);
    await page.keyboard.press('ArrowRight');
    await page.getByText('step 11 of 59').waitFor();
    await page.waitForFunction(() => window.location.search.includes('step=11'));
    const after = await paintedPixels(page);
    expect(after.digest).not.toBe(before.digest);
    await page.keyboard.press('Shift+ArrowLeft');
    await page.getByText('step 1 of 59').waitFor();
    await page.close();
  });

  it('moves N steps for N quick presses, counting from the step asked for, not the one drawn', async () => {
    const page = await open('/?run=tiny&step=10');
    await page.getByText('step 10 of 59').waitFor();
    await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
    // Fifteen presses with no pause: most land before the frame of the one before is drawn.
    for (let press = 0; press < 15; press++) await page.keyboard.press('ArrowRight', { delay: 0 });
    await page.getByText('step 25 of 59').waitFor();
    await page.waitForFunction(() => window.location.search.includes('step=25'));
    for (let press = 0; press < 3; press++) await page.keyboard.press('Shift+ArrowLeft', { delay: 0 });
    await page.getByText('step 0 of 59').waitFor();
    await page.close();
  });

  it('plays and pauses with Space wherever focus is, a probe button or the play button, except in text', async () => {
    const page = await open('/?run=tiny&step=3');
    await page.getByText('step 3 of 59').waitFor();
    const probes = page.getByRole('group', { name: 'Probe inputs' });
    const probe = probes.getByRole('button').nth(2);
    await probe.focus();
    await page.keyboard.press('Space');
    const pause = page.getByRole('button', { name: 'Pause (Space)' });
    await pause.waitFor();
    // The probe was not chosen by the key.
    expect(page.url()).not.toContain('probe=');
    await pause.focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Play (Space)' }).waitFor();
    // Still paused a moment later: one press, one toggle (not the key and then the button's click).
    await page.waitForTimeout(300);
    expect(await page.getByRole('button', { name: 'Play (Space)' }).count()).toBe(1);
    await page.close();
  });

  it('spans the timeline over the plan only while recording: a stopped run’s ends at its last step', async () => {
    const page = await open('/?run=stopped');
    await page.getByText('step 0 of 59').waitFor();
    expect(await page.getByRole('slider', { name: /Training step/ }).getAttribute('max')).toBe('59');
    await page.close();
  });

  it('selects a neuron on click and keeps it in the link', async () => {
    const page = await open('/?run=tiny&step=5&view=gradient');
    const canvas = page.locator('[data-testid="network"] canvas');
    await canvas.waitFor();
    const box = (await canvas.boundingBox())!;
    const output = layoutNetwork([784, 16, 8, 10], box.width, box.height).columns[2]!;
    await page.mouse.move(box.x + output.x, box.y + output.y[3]!);
    await page
      .getByRole('tooltip')
      .filter({ hasText: /neuron 3\.3, step 5\nmean activation [-\d.e]+\nfraction active/ })
      .waitFor();
    // The tooltip follows the step under a still pointer (playback, the keys).
    await page.keyboard.press('ArrowRight');
    await page
      .getByRole('tooltip')
      .filter({ hasText: /^neuron 3\.3, step 6\n/ })
      .waitFor();
    await page.mouse.click(box.x + output.x, box.y + output.y[3]!);
    await page.getByText(/^\s*Neuron 3\.3:\s+\|∂L\/∂z\| [-\d.e]+\s*$/).waitFor();
    // The inspector: its history over the run and the probes that drive it.
    await page.getByRole('heading', { name: 'Neuron 3.3' }).waitFor();
    // Small multiples: each per-neuron quantity on its own axis.
    const inspectorCharts = page.getByRole('region', { name: 'Neuron inspector' }).getByTestId('chart');
    await inspectorCharts.locator('canvas').first().waitFor();
    expect(await inspectorCharts.evaluateAll((charts) => charts.map((chart) => chart.getAttribute('data-title')))).toEqual([
      'mean activation',
      'fraction active',
      '∂L/∂z',
    ]);
    await page
      .getByText(/^probe \d+ \(\d\): /)
      .first()
      .waitFor();
    await page.waitForFunction(() => window.location.search.includes('neuron=3.3') && window.location.search.includes('view=gradient'));
    await page.close();
  });

  it('shows a chosen probe through the network and keeps it in the link', async () => {
    const page = await open('/?run=tiny&step=20');
    await page.locator('[data-testid="network"] canvas').waitFor();
    const probes = page.getByRole('group', { name: 'Probe inputs' });
    await probes.getByRole('button').nth(2).waitFor();
    const batchMean = await paintedPixels(page);
    await probes.getByRole('button').nth(2).click();
    await page.waitForFunction(() => window.location.search.includes('probe=1'));
    expect((await paintedPixels(page)).digest).not.toBe(batchMean.digest);
    await probes.getByRole('button', { name: 'batch mean' }).click();
    await page.waitForFunction(() => !window.location.search.includes('probe='));
    await page.close();
  });

  it('restores a neuron and a scale from a deep link', async () => {
    const page = await open('/?run=tiny&step=7&neuron=2.4&scale=log');
    await page.getByRole('heading', { name: 'Neuron 2.4' }).waitFor();
    await page.getByText('step 7 of 59').waitFor();
    expect(await page.getByLabel('Scale').inputValue()).toBe('log');
    await page.close();
  });

  it('shows a first-layer neuron’s incoming weights and their gradients as images', async () => {
    const page = await open('/?run=tiny&step=7&neuron=1.4');
    await page.getByRole('heading', { name: 'Neuron 1.4' }).waitFor();
    // The default budget keeps every step of this small run.
    await page.getByRole('img', { name: 'Incoming weights of neuron 1.4 at step 7', exact: true }).waitFor();
    await page.getByRole('img', { name: 'Gradients of the incoming weights of neuron 1.4 at step 7' }).waitFor();
    await page.close();
  });

  it('says in the inspector why a first-layer neuron’s incoming weights cannot be shown', async () => {
    const page = await open('/?run=nolayer1&step=7&neuron=1.4');
    // The deep-linked step is drawn once its chunk is in; until then the page shows the steps it has.
    const missing = page.getByTestId('incoming-missing').filter({ hasText: 'step 7' });
    await missing.waitFor();
    const text = await missing.innerText();
    expect(text).toContain('No incoming weights kept at or before step 7');
    expect(text).toContain('/nolayer1/weights-layer1-0000.arrows: not an Arrow IPC stream');
    // The run's own list of problems names the files too, and keeps them once every chunk is read.
    await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
    await page.getByRole('alert').filter({ hasText: 'weights-layer1-0000.arrows' }).waitFor();
    expect(await page.getByText('loading incoming weights…').count()).toBe(0);
    await page.close();
  });

  it('saves the picture as SVG and as a print-resolution PNG, legend included', async () => {
    const page = await open('/?run=tiny&step=12');
    await page.locator('[data-testid="network"] canvas').waitFor();
    // The edges come from the weight snapshots, read after the steps: save once the whole run is in.
    await page.locator('[data-testid="run-header"][data-loading="false"]').waitFor();
    const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'SVG' }).click()]);
    expect(svgDownload.suggestedFilename()).toBe('tiny_at_step_12.svg');
    const svg = readFileSync((await svgDownload.path())!, 'utf8');
    expect(svg.match(/<circle /g)).toHaveLength(16 + 8 + 10);
    // Edges between the hidden layers, from the weight snapshots.
    expect(svg.match(/<path d="M/g)?.length ?? 0).toBeGreaterThan(2);
    expect(svg).toContain('>tiny at step 12</text>');
    expect(svg).toContain(
      '>Neurons: mean activation (activation), layer scale: each layer its own domain over the run; colours below for layer 1</text>',
    );
    expect(svg).toContain(`<rect width="100%" height="100%" fill="${STAGE_COLOR}"/>`);
    const width = Number(/^<svg [^>]*width="(\d+)"/.exec(svg)![1]);
    await page.getByLabel('transparent background').check();
    const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'PNG' }).click()]);
    const png = readFileSync((await pngDownload.path())!);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    // IHDR: width and height, big-endian, at bytes 16–23; 3 pixels per CSS pixel.
    expect(png.readUInt32BE(16)).toBe(3 * width);
    await page.close();
  });

  it('shows what is readable of a cut chunk and says which file is cut', async () => {
    const page = await open('/?run=cut&step=20');
    await page
      .getByRole('alert')
      .filter({ hasText: /runs\/cut\/steps-0000\.arrows: run\.json lists 60 steps, the file holds 49 \(cut short\)/ })
      .waitFor();
    await page.getByText('step 20 of 48').waitFor();
    expect((await paintedPixels(page)).count).toBeGreaterThan(5000);
    await page.close();
  });

  it('shows the stored findings: bookmarks that jump and select, a panel, marked neurons', async () => {
    const page = await open('/?run=lesson&step=50');
    const panel = page.getByTestId('findings');
    await panel.getByRole('button', { name: /^dead neurons — layer 1, \d+ neurons, from step 2 to the end$/ }).waitFor();
    await panel
      .getByText(
        /died \(inactive on every batch sample and every probe for 20\+ steps in a row\): the first at step 2, median death step \d+; 13 \(≥ 10% of the layer\) were dead by step 2\./,
      )
      .waitFor();
    // Marks in the findings' colour on the network at a step where the neurons are dead.
    await page.getByText(/^step 50 of /).waitFor();
    const finding = rgb(FINDING_COLOR);
    const marks = await page.evaluate(
      ({ r, g, b }) => {
        const canvas = document.querySelector('[data-testid="network"] canvas') as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let index = 0; index < data.length; index += 4)
          if (Math.abs(data[index]! - r) < 16 && Math.abs(data[index + 1]! - g) < 16 && Math.abs(data[index + 2]! - b) < 16) count++;
        return count;
      },
      { r: finding.r, g: finding.g, b: finding.b },
    );
    expect(marks).toBeGreaterThan(50);
    // The bookmark jumps to the finding's first step and selects the first neuron it names.
    const manifest = JSON.parse(await (await page.request.get(`${session.origin}/runs/lesson/run.json`)).text());
    const dead = manifest.findings.find(
      (finding: { kind: string; layer: number }) => finding.kind === 'dead-neurons' && finding.layer === 1,
    );
    await page.getByRole('button', { name: /^dead neurons, layer 1, \d+ neurons at step 2$/ }).click();
    await page.getByText('step 2 of 59').waitFor();
    await page.getByRole('heading', { name: `Neuron 1.${dead.neurons[0]}` }).waitFor();
    await page.waitForFunction((neuron) => window.location.search.includes(`neuron=1.${neuron}`), dead.neurons[0]);
    await page.close();
  });

  it('draws a run whose hidden activations are all 0 (zero init), its legend naming the one value once', async () => {
    const page = await open('/?run=zeros&step=10&scale=layer');
    await page.waitForFunction(() => performance.getEntriesByName('nv:first-network-paint').length > 0);
    expect((await paintedPixels(page)).count).toBeGreaterThan(1000);
    expect(await page.getByTestId('legend').textContent()).toMatch(
      /^\s*Neurons: mean activation \(activation\), layer scale: each layer its own domain over the run; colours below for layer 1\s*0\s*NaN\s*\+Inf\s*−Inf/,
    );
    await page.close();
  });

  it('shows markup from run names and run.json as text and runs none of it', async () => {
    const list = await open('/');
    await list.getByRole('link', { name: HOSTILE_FOLDER }).waitFor();
    await list.getByRole('cell', { name: '<script>window.__pwned=2</script>' }).first().waitFor();
    const page = await open('/?run=hostile');
    await page.getByRole('heading', { name: '<img src=x onerror="window.__pwned=1">' }).waitFor();
    await page.getByText('<script>window.__pwned=2</script>, 784-16-8-10').waitFor();
    await page.getByText('<b onmouseover="window.__pwned=3">three</b>→', { exact: false }).first().waitFor();
    // A folder name that needs escaping in a URL: the run opens, and the name is text in the title.
    const folder = await open(`/?run=${encodeURIComponent(HOSTILE_FOLDER)}`);
    await folder.getByRole('heading', { name: '<img src=x onerror="window.__pwned=1">' }).waitFor();
    expect(await folder.title()).toBe(`${HOSTILE_FOLDER} — Neural Vision`);
    for (const view of [list, page, folder]) {
      await view.mouse.move(10, 10);
      expect(await view.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await view.locator('main img, main script, main b').count()).toBe(0);
      await view.close();
    }
  });

  it('names the file and the problem for a broken run and a missing one', async () => {
    const broken = await open('/?run=broken');
    await broken.getByRole('alert').filter({ hasText: 'runs/broken/run.json: unknown schemaVersion 99' }).waitFor();
    await broken.close();
    const missing = await open('/?run=nothing-here');
    await missing.getByRole('alert').filter({ hasText: 'runs/nothing-here/run.json: cannot be read (does the run exist?)' }).waitFor();
    await missing.close();
    // Larger than the viewer can draw: said at once, instead of a page frozen laying it out.
    const giant = await open('/?run=giant');
    await giant
      .getByRole('alert')
      .filter({ hasText: 'runs/giant/run.json: layer 1 has 1,000,000,000 neurons; the viewer draws layers of up to 16,384 neurons' })
      .waitFor({ timeout: 10_000 });
    await giant.close();
  });
});
