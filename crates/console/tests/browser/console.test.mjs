// Drives the console in headless Chromium (Debian's `chromium`, via playwright-core).
// Usage: node console.test.mjs <base url> <screenshot dir>
// Run by crates/console/tests/browser.rs, which starts the server. Exits non-zero on failure.

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node console.test.mjs <base url> <screenshot dir>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const T = 15000;

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function api(action, body) {
  const r = await fetch(`${base}/`, {
    method: 'POST',
    headers: { 'X-Amz-Target': `AWSStepFunctions.${action}`, 'Content-Type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${action}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

const DEMO = {
  Comment: 'Order flow: a caught failure',
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Result: { ok: true }, ResultPath: '$.prep', Next: 'Pause' },
    Pause: { Type: 'Wait', Seconds: 2, Next: 'Risky' },
    Risky: {
      Type: 'Parallel',
      Branches: [{ StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'Oops', Cause: 'it broke' } } }],
      Catch: [{ ErrorEquals: ['Oops'], ResultPath: '$.error', Next: 'Recover' }],
      Next: 'Done',
    },
    Recover: { Type: 'Pass', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

const SLOW = { StartAt: 'LongWait', States: { LongWait: { Type: 'Wait', Seconds: 60, End: true } } };

function big(n) {
  const states = {};
  for (let i = 0; i < n; i++) {
    const next = `S${i + 1}`;
    if (i + 1 === n) states[`S${i}`] = { Type: 'Succeed' };
    else if (i % 5 === 4) states[`S${i}`] = { Type: 'Choice', Choices: [{ Variable: '$.x', NumericGreaterThan: i, Next: next }], Default: next };
    else states[`S${i}`] = { Type: 'Pass', Next: next };
  }
  return { StartAt: 'S0', States: states };
}

// Every form control has an accessible name (a <label for>, aria-label or aria-labelledby).
async function checkLabels(page, where) {
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
    .map((el) => el.id || el.name || el.outerHTML.slice(0, 60)));
  check(unlabeled.length === 0, `${where}: every form control is labelled ${unlabeled.join(', ')}`);
}

const status = (page, name) => page.locator(`#execution-graph g[data-state="${name}"]`).getAttribute('data-status');
async function waitStatus(page, name, want) {
  await page.waitForSelector(`#execution-graph g[data-state="${name}"][data-status="${want}"]`, { timeout: T });
  check(true, `${name} is ${want}`);
}

const role = 'arn:aws:iam::123456789012:role/stepwise';
const demo = await api('CreateStateMachine', { name: 'order-flow', roleArn: role, definition: JSON.stringify(DEMO, null, 2) });
const slow = await api('CreateStateMachine', { name: 'slow', roleArn: role, definition: JSON.stringify(SLOW) });
const bigSm = await api('CreateStateMachine', { name: 'two-hundred-states', roleArn: role, definition: JSON.stringify(big(200)) });

const profile = mkdtempSync(join(tmpdir(), 'stepwise-chromium-'));
// A fresh profile directory (playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1440, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // API errors the page shows on purpose (Redrive's 501) are logged by Chromium as failed
  // loads; script errors are what counts.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });

  // State machines list.
  await page.goto(`${base}/#/machines`);
  await page.waitForSelector('#machines-table a:text("order-flow")', { timeout: T });
  check(await page.locator('#machines-table tbody tr').count() === 3, 'the list shows the three machines');
  await checkLabels(page, 'machines page');
  await page.screenshot({ path: join(shots, 'machines.png'), fullPage: true });

  // State machine page: graph nodes and edges drawn by the Rust layout.
  await page.click('#machines-table a:text("order-flow")');
  await page.waitForSelector('#machine-graph svg g[data-state="Done"]', { timeout: T });
  const nodes = await page.$$eval('#machine-graph g.state[data-state]', (gs) => gs.map((g) => g.getAttribute('data-state')).sort());
  check(JSON.stringify(nodes) === JSON.stringify(['Boom', 'Done', 'Pause', 'Prepare', 'Recover', 'Risky']), `graph nodes ${nodes}`);
  const edges = await page.$$eval('#machine-graph g.edge', (gs) => gs.map((g) => `${g.getAttribute('data-from')}>${g.getAttribute('data-to')}:${g.getAttribute('class')}`));
  for (const want of ['Start>Prepare', 'Prepare>Pause', 'Pause>Risky', 'Risky>Done', 'Recover>Done', 'Start>Boom']) {
    check(edges.some((e) => e.startsWith(`${want}:`)), `edge ${want}`);
  }
  check(edges.some((e) => e.startsWith('Risky>Recover:') && e.includes('edge-catch')), 'the Catch edge Risky>Recover is drawn as a catch');
  check(await page.locator('#diagnostics').textContent().then((t) => t.includes('Valid definition')), 'no diagnostics for a valid definition');
  check(await page.locator('#machine-graph g[data-state="Prepare"]').getAttribute('tabindex') === '0', 'states are keyboard-focusable');
  await checkLabels(page, 'machine page');
  await page.screenshot({ path: join(shots, 'machine.png'), fullPage: true });

  // Start an execution from the form and watch it.
  await page.fill('#start-name', 'browser-run');
  await page.fill('#start-input', '{"order": 42}');
  await page.click('#start-submit');
  await page.waitForURL(/#\/executions\//, { timeout: T });
  await page.waitForSelector('#execution-graph svg', { timeout: T });
  await waitStatus(page, 'Pause', 'RUNNING');
  check(await status(page, 'Prepare') === 'SUCCEEDED', 'Prepare is already green while Pause waits');
  check(await status(page, 'Recover') === 'NOT_STARTED', 'Recover is not reached yet');
  await page.screenshot({ path: join(shots, 'execution-running.png'), fullPage: true });
  await waitStatus(page, 'Boom', 'FAILED');
  await waitStatus(page, 'Risky', 'CAUGHT');
  await waitStatus(page, 'Recover', 'SUCCEEDED');
  await waitStatus(page, 'Done', 'SUCCEEDED');
  await page.waitForSelector('#exec-status [data-status="SUCCEEDED"]', { timeout: T });
  check(true, 'the execution is shown SUCCEEDED without a reload');
  const fills = await page.$$eval('#execution-graph g.state[data-state] > .box', (bs) => Object.fromEntries(bs.map((b) => [b.parentElement.getAttribute('data-state'), getComputedStyle(b).fill])));
  check(fills.Prepare !== fills.Boom && fills.Boom !== fills.Risky, `green, red and orange differ ${JSON.stringify(fills)}`);

  // A state's input and output.
  await page.locator('#execution-graph g[data-state="Prepare"]').click();
  await page.waitForSelector('#state-panel h3:text("Prepare")', { timeout: T });
  const panel = await page.locator('#state-panel').textContent();
  check(panel.includes('"order": 42') && panel.includes('"prep"'), 'Prepare shows its input and output');
  // Keyboard: focus a state and press Enter.
  await page.locator('#execution-graph g[data-state="Boom"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('#state-panel h3:text("Boom")', { timeout: T });
  check((await page.locator('#state-error').textContent()).includes('Oops'), 'Boom shows its error (keyboard selection)');
  // Event table with expandable details.
  const rows = await page.locator('#events-table tbody tr[data-event-id]').count();
  check(rows === 15, `event table has the 15 events (${rows})`);
  const first = page.locator('#events-table tbody tr[data-event-id="1"] button.expander');
  await first.click();
  check(await first.getAttribute('aria-expanded') === 'true', 'event details expand');
  check((await page.locator('#events-table tbody tr.event-details').first().textContent()).includes('executionStartedEventDetails'), 'the details show the event');
  check(await page.locator('#timeline .tl-row').count() >= 5, 'the timeline lists the state runs');
  check(await page.locator('#stop').isDisabled(), 'Stop is disabled once the execution ended');
  await checkLabels(page, 'execution page');
  await page.screenshot({ path: join(shots, 'execution.png'), fullPage: true });

  // Stop a running execution, then Redrive it: it runs again from the state that was stopped.
  const run = await api('StartExecution', { stateMachineArn: slow.stateMachineArn, name: 'to-stop' });
  await page.goto(`${base}/#/executions/${encodeURIComponent(run.executionArn)}`);
  await waitStatus(page, 'LongWait', 'RUNNING');
  await page.click('#stop');
  await page.waitForSelector('#exec-status [data-status="ABORTED"]', { timeout: T });
  await waitStatus(page, 'LongWait', 'ABORTED');
  check(!(await page.locator('#redrive').isDisabled()), 'Redrive is offered for an aborted execution');
  await page.click('#redrive');
  await page.waitForSelector('#action-message .alert, #action-message .note', { timeout: T });
  console.log(`  redrive answered: ${(await page.locator('#action-message').textContent()).trim()}`);
  await page.waitForSelector('#exec-status [data-status="RUNNING"]', { timeout: T });
  await waitStatus(page, 'LongWait', 'RUNNING');
  check(true, 'the redriven execution runs again, live on the page');
  const redriven = await api('DescribeExecution', { executionArn: run.executionArn });
  check(redriven.redriveCount === 1, `DescribeExecution counts the redrive (${redriven.redriveCount})`);
  await page.click('#stop');
  await page.waitForSelector('#exec-status [data-status="ABORTED"]', { timeout: T });

  // Executions list with filters.
  await page.goto(`${base}/#/executions?status=SUCCEEDED`);
  await page.waitForSelector('#executions-table a:text("browser-run")', { timeout: T });
  check(await page.locator('#executions-table a:text("to-stop")').count() === 0, 'the status filter hides the aborted execution');
  await page.selectOption('#filter-status', '');
  await page.waitForSelector('#executions-table a:text("to-stop")', { timeout: T });
  check(true, 'clearing the filter shows it');
  await checkLabels(page, 'executions page');
  await page.screenshot({ path: join(shots, 'executions.png'), fullPage: true });

  // A 200-state machine renders in under a second.
  const t0 = Date.now();
  await page.goto(`${base}/#/machines/${encodeURIComponent(bigSm.stateMachineArn)}`);
  await page.waitForSelector('#machine-graph svg g[data-state="S199"]', { timeout: T });
  await page.waitForSelector('.source li#L10', { timeout: T });
  const ms = Date.now() - t0;
  check(await page.locator('#machine-graph g.state[data-state]').count() === 200, '200 states drawn');
  check(ms < 1000, `200-state machine page rendered in ${ms} ms (< 1000)`);
  await page.screenshot({ path: join(shots, 'machine-200-states.png') });

  check(errors.length === 0, `no page errors ${errors.join(' | ')}`);
} catch (e) {
  failed = true;
  console.error(`not ok - ${e.message}`);
  try {
    const pages = browser.pages();
    if (pages[0]) await pages[0].screenshot({ path: join(shots, 'failure.png'), fullPage: true });
  } catch { /* best effort */ }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
