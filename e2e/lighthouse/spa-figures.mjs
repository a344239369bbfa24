// Lighthouse figures of two screens of the browser app (issue 6 item 2): the wizard's first
// screen and the code screen.
//
//   node e2e/lighthouse/spa-figures.mjs <base-url>      (a server started with `serve --demo`)
//
// Prints one JSON object on stdout:
//   {"lighthouse_version": "12.8.2", "pages": [{"name": "wizard first screen",
//     "path": "/reissue/apply", "performance": 99, "accessibility": 100, "best-practices": 100}, …]}
// Lighthouse's default settings: a mobile device on a simulated slow 4G network. Diagnostics
// go to stderr; any failure exits non-zero. `./dev` installs the packages (ensure_lighthouse,
// versions in tools.env) into e2e/lighthouse/node_modules.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { startFlow } from 'lighthouse';

const CHROMIUM = process.env.CHROME_PATH || '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying hosts it cannot reach here;
// --no-sandbox because we run as root. Puppeteer adds --headless and --user-data-dir itself.
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const CATEGORIES = ['performance', 'accessibility', 'best-practices'];
// The demo ledger's care office in 東京都 (api/demo/ledger.csv).
const OFFICE_NUMBER = '1311111111';
const PREFECTURE_CODE = '13';
const EMAIL = 'clerk@example.jp';

const log = (message) => console.error(`spa-figures: ${message}`);
const byTestid = (testid) => `[data-testid="${testid}"]`;

async function waitForPath(page, pathname) {
  await page.waitForFunction((p) => location.pathname === p, { timeout: 30_000 }, pathname);
}

// Fills the wizard's first screen and the prefecture screen; the SPA keeps the application
// (id, token, where the code went) in sessionStorage, which the code screen needs.
async function driveWizardToCodeScreen(page) {
  await page.waitForSelector(byTestid('input-office_number'), { timeout: 30_000 });
  await page.type(byTestid('input-office_number'), OFFICE_NUMBER);
  await page.type(byTestid('input-email'), EMAIL);
  await page.type(byTestid('input-email_confirmation'), EMAIL);
  await page.click(byTestid('next'));
  await waitForPath(page, '/reissue/prefecture');
  await page.waitForSelector(byTestid('input-prefecture_code'));
  await page.select(byTestid('input-prefecture_code'), PREFECTURE_CODE);
  await page.click(byTestid('next'));
  await waitForPath(page, '/reissue/code');
  await page.waitForSelector(byTestid('input-code'), { timeout: 30_000 });
}

// The SPA redirects a screen whose wizard state is missing to an earlier step, so a page that
// ended elsewhere, or without the screen's own field, was the wrong screen.
async function checkScreen(page, pathname, testid) {
  if (new URL(page.url()).pathname !== pathname || !(await page.$(byTestid(testid)))) {
    throw new Error(`after measuring ${pathname} the page is ${page.url()} without ${testid}`);
  }
}

function figures(name, pathname, lhr) {
  if (lhr.runtimeError) {
    throw new Error(`${pathname}: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
  }
  if (new URL(lhr.finalDisplayedUrl).pathname !== pathname) {
    throw new Error(`Lighthouse measured ${lhr.finalDisplayedUrl}, not ${pathname}`);
  }
  const page = { name, path: pathname };
  for (const category of CATEGORIES) {
    const score = lhr.categories[category]?.score;
    if (typeof score !== 'number') throw new Error(`${pathname}: no ${category} score`);
    page[category] = Math.round(score * 100);
  }
  const metrics = ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time']
    .map((audit) => `${audit} ${lhr.audits[audit]?.displayValue}`).join(', ');
  log(`${pathname}: ${JSON.stringify(page)}; ${metrics} (${lhr.finalDisplayedUrl})`);
  return page;
}

async function main() {
  const base = process.argv[2];
  if (!base || process.argv.length > 3) {
    console.error('usage: node e2e/lighthouse/spa-figures.mjs <base-url>');
    process.exit(2);
  }
  const applyUrl = new URL('/reissue/apply', base).href;
  const codeUrl = new URL('/reissue/code', base).href;

  const userDataDir = await mkdtemp(path.join(tmpdir(), 'spa-figures-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir, args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage();
    const flow = await startFlow(page, {
      config: { extends: 'lighthouse:default', settings: { onlyCategories: CATEGORIES } },
    });

    log(`measuring ${applyUrl} (cold load)`);
    await flow.navigate(applyUrl, { name: 'wizard first screen' });
    await checkScreen(page, '/reissue/apply', 'input-office_number');

    log('driving the wizard to the code screen');
    await driveWizardToCodeScreen(page);

    // Keep sessionStorage (the wizard state) but empty the HTTP cache, so the code screen is
    // a cold load like the first one and the two performance figures compare.
    const cdp = await page.createCDPSession();
    await cdp.send('Network.clearBrowserCache');
    await cdp.detach();
    log(`measuring ${codeUrl} (same tab, storage kept, HTTP cache emptied)`);
    await flow.navigate(codeUrl, { name: 'code screen', disableStorageReset: true });

    await checkScreen(page, '/reissue/code', 'input-code');

    const [apply, code] = (await flow.createFlowResult()).steps.map((step) => step.lhr);
    process.stdout.write(`${JSON.stringify({
      lighthouse_version: apply.lighthouseVersion,
      pages: [
        figures('wizard first screen', '/reissue/apply', apply),
        figures('code screen', '/reissue/code', code),
      ],
    })}\n`);
  } finally {
    await browser.close();
    await rm(userDataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(error.stack || String(error));
  process.exit(1);
});
