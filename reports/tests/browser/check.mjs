// Opens a threadloop report in headless Chromium and checks that it renders:
//   node check.mjs <index.html> <screenshot.png>
//
// - no console errors, page errors or failed requests (the page must be
//   self-contained: any request that is not the file itself fails the check);
// - at least one chart, and every chart's <svg> has a non-zero rendered size;
// - a full-page screenshot is written to <screenshot.png>, and the first
//   screen to <screenshot>-first-screen.png (CI artifacts).
//
// Uses the system Chromium (Debian `chromium`; override with CHROMIUM=path),
// never a browser downloaded by Playwright. Exit 0 on success, 1 on a failed
// check, 2 on bad usage or a browser that does not start.

import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [page_arg, shot_arg] = process.argv.slice(2);
if (!page_arg || !shot_arg) {
  console.error('usage: node check.mjs <index.html> <screenshot.png>');
  process.exit(2);
}
const page_path = resolve(page_arg);
const shot_path = resolve(shot_arg);
if (!existsSync(page_path)) {
  console.error(`no such report: ${page_path}`);
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM)`);
  process.exit(2);
}
mkdirSync(dirname(shot_path), { recursive: true });

const url = pathToFileURL(page_path).href;
const profile = mkdtempSync(join(tmpdir(), 'threadloop-chromium-'));
const problems = [];
let context;
try {
  try {
    // A persistent context is how Playwright takes a fresh --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      timeout: 60_000,
      viewport: { width: 1280, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-quic',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (e) {
    console.error(`Chromium did not start (${executablePath}): ${e.message}`);
    process.exit(2);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`),
  );
  page.on('request', (req) => {
    if (req.url() !== url && !req.url().startsWith('data:')) {
      problems.push(`external request (the page must be self-contained): ${req.url()}`);
    }
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  if (response && !response.ok()) problems.push(`loading ${url}: status ${response.status()}`);

  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const r = svg ? svg.getBoundingClientRect() : null;
      return {
        id: f.id,
        svg: !!svg,
        width: r ? r.width : 0,
        height: r ? r.height : 0,
        // Drawn content, not just an empty frame.
        shapes: svg ? svg.querySelectorAll('path, polyline, polygon, circle, line, rect').length : 0,
      };
    }),
  );
  if (charts.length === 0) problems.push('no chart (figure.chart) on the page');
  for (const c of charts) {
    if (!c.svg) problems.push(`chart ${c.id}: no <svg>`);
    else if (!(c.width > 0 && c.height > 0))
      problems.push(`chart ${c.id}: rendered size ${c.width}x${c.height}`);
    else if (c.shapes === 0) problems.push(`chart ${c.id}: empty <svg>`);
  }
  const scripts = await page.$$eval('script', (s) => s.length);
  if (scripts > 0) problems.push(`${scripts} <script> element(s): the page must have none`);
  // Wide tables scroll inside their own box: the page itself must not.
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  if (overflow > 1) problems.push(`the page is ${overflow}px wider than the viewport`);

  await page.screenshot({ path: shot_path, fullPage: true });
  const first = shot_path.replace(/(\.png)?$/i, '-first-screen.png');
  await page.screenshot({ path: first });

  console.log(
    `${charts.length} charts: ` +
      charts.map((c) => `${c.id} ${Math.round(c.width)}x${Math.round(c.height)}`).join(', '),
  );
  console.log(`screenshots: ${shot_path} ${first}`);
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  process.exit(1);
}
console.log('ok: no console errors, every chart has a size');
