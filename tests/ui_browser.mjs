// The dashboard of `llmsplit serve` in a real browser (Debian's chromium, headless, driven by
// playwright-core), used as a person would: log in, see the arms, move weights, apply, and watch
// a running `llmsplit replay` (an embedded client whose config_url is serve's /config) shift its
// traffic; a stale edit gets the conflict message; an arm switched off and on; the mirror rate;
// the history and a revert; without the cookie, or without the CSRF token, every change is
// refused. Screenshots go to BUILD/ui-*.png for a reviewer.
// usage: node ui_browser.mjs TOOL PLAYWRIGHT_PACKAGE_DIR BUILD_DIR
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const [tool, pkgDir, buildDir] = process.argv.slice(2).map((p) => resolve(p));
const require = createRequire(join(pkgDir, 'noop.js'));
const { chromium } = require('playwright-core');

let failed = 0;
function check(name, cond, detail) {
  if (cond) console.log(`ok   ${name}`);
  else { failed++; console.log(`FAIL ${name}${detail === undefined ? '' : ': ' + JSON.stringify(detail).slice(0, 600)}`); }
}

const tmp = mkdtempSync(join(tmpdir(), 'llmsplit-ui-'));
const children = [];
function start(args, env, quiet) {
  const p = spawn(tool, args, { cwd: tmp, stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'], env: { ...process.env, ...env } });
  children.push(p);
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}
function run(args, env) { /* a background command whose output does not matter */
  const p = spawn(tool, args, { cwd: tmp, stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(p);
  return p;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 15000) { /* waits for fn() to be truthy; the last value */
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) {
    v = await fn();
    if (v) return v;
    await sleep(50);
  }
  return v;
}
const lines = (file) => existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

const MASTER = 'mk-browser-1', READER = 'rk-browser-1';
let browser;
try {
  const mock = await start(['mock', '--listen', '127.0.0.1:0', '--latency', '*=5', '--latency', 'gpt-b=12', '--chunk-delay', 'gpt-b=3000']);
  const cfgPath = join(tmp, 'cfg.json');
  writeFileSync(cfgPath, JSON.stringify({
    model_list: [
      { model_name: 'chat', litellm_params: { model: 'openai/gpt-a', api_base: `${mock}/v1`, api_key: 'sk-up', weight: 0.8 } },
      { model_name: 'chat', litellm_params: { model: 'openai/gpt-b', api_base: `${mock}/v1`, api_key: 'sk-up', weight: 0.2 } },
    ],
    router_settings: { mirror_sample_rate: 1 },
    general_settings: { master_key: MASTER, config_read_key: READER },
  }, null, 2) + '\n');
  const gw = await start(['serve', '--config', cfgPath, '--listen', '127.0.0.1:0', '--log', join(tmp, 'serve.jsonl')]);
  const prompts = join(tmp, 'prompts.jsonl');
  writeFileSync(prompts, Array.from({ length: 40000 }, (_, i) => JSON.stringify({ prompt: `q${i}`, user: `u${i % 300}` })).join('\n') + '\n');
  /* traffic through the gateway (the live figures), and an embedded client following /config */
  run(['replay', '--model', 'openai/chat', '--api-base', `${gw}/v1`, '--api-key', MASTER, '--concurrency', '2', prompts]);
  const rlog = join(tmp, 'embedded.jsonl');
  run(['replay', '--config', `${gw}/config`, '--config-poll', '0.2', '--model', 'chat', '--log', rlog, '--concurrency', '1', prompts],
      { LLMSPLIT_CONFIG_KEY: READER });

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (/Refused to|Content Security Policy/i.test(m.text())) problems.push(m.text()); });
  const change = (method, path, body, headers) => page.evaluate(async ([method, path, body, headers]) => {
    const r = await fetch(path, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return r.status;
  }, [method, path, body, headers || {}]);

  /* ---- logging in ---- */
  await page.goto(`${gw}/ui`);
  await page.waitForSelector('#login:not([hidden])');
  check('ui_browser_shows_the_login_form_first', await page.isVisible('#key'));
  const before = [await change('PATCH', '/config/groups/chat', { weights: { 'gpt-a #0': 0 } }),
                  await change('PUT', '/config', {}, { 'If-Match': '*' }),
                  await change('POST', '/config/revert', { version: 1 }),
                  await change('PATCH', '/config/router_settings', { mirror_sample_rate: 0 })];
  check('ui_browser_without_the_cookie_every_change_is_refused', before.every((s) => s === 401), before);
  await page.screenshot({ path: join(buildDir, 'ui-login.png') });
  await page.fill('#key', 'not-the-key');
  await page.click('#login-form button');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  check('ui_browser_a_wrong_key_is_said_so', (await page.textContent('#login-error')).includes('not the master key'));
  await page.fill('#key', MASTER);
  await page.click('#login-form button');
  await page.waitForSelector('.group tbody tr');
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === 'llmsplit_session');
  check('ui_browser_session_cookie_is_httponly_samesite_strict', session && session.httpOnly && session.sameSite === 'Strict' && !session.value.includes(MASTER), session);
  check('ui_browser_the_key_is_in_no_url', !page.url().includes(MASTER));
  const noToken = [await change('PATCH', '/config/groups/chat', { weights: { 'gpt-a #0': 0 } }),
                   await change('PUT', '/config', {}, { 'If-Match': '*' }),
                   await change('POST', '/config/revert', { version: 1 }),
                   await change('PATCH', '/config/router_settings', { mirror_sample_rate: 0 })];
  check('ui_browser_with_the_cookie_but_no_csrf_token_every_change_is_refused', noToken.every((s) => s === 403), noToken);

  /* ---- the arms, live ---- */
  const armNames = await page.$$eval('.group .arm-name', (els) => els.map((e) => e.textContent));
  check('ui_browser_shows_the_arms', armNames.length === 2 && armNames[0].startsWith('gpt-a #0') && armNames[1].startsWith('gpt-b #1'), armNames);
  const calls = await until('calls', () => page.$$eval('.group tbody tr', (rows) => rows.map((r) => Number(r.children[4].textContent.replace(/,/g, '')) || 0))
    .then((c) => c[0] > 20 && c[1] > 0 && c));
  check('ui_browser_live_calls_arrive_from_the_stream', calls && calls[0] > calls[1], calls);
  /* a caller that hangs up mid-stream: gpt-b's streams pause 3 s between chunks, so a stream cut
     after 300 ms that went to gpt-b ends client_closed (one to gpt-a has finished by then) */
  const closedRow = await until('closed', async () => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 300);
    try {
      const res = await fetch(`${gw}/v1/chat/completions`, { method: 'POST', signal: ac.signal,
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'one two three four five' }] }) });
      await res.text();
    } catch (e) { /* aborted */ }
    clearTimeout(t);
    return page.$$eval('.group tbody tr', (rows) => rows.map((r) => [r.children[5].textContent, r.children[5].title])
      .find(([t]) => / · \d+ closed$/.test(t)));
  }, 20000);
  check('ui_browser_a_call_whose_caller_went_away_is_counted_apart', !!closedRow && closedRow[1].includes('closed by the caller (client_closed)'), closedRow);
  await page.screenshot({ path: join(buildDir, 'ui-dashboard.png'), fullPage: true });

  /* ---- move the weights, apply: the embedded client follows ---- */
  const rowA = page.locator('.group tbody tr').nth(0), rowB = page.locator('.group tbody tr').nth(1);
  await rowA.locator('input[type=range]').focus();
  await page.keyboard.press('Home');                  /* gpt-a all the way down */
  await rowB.locator('input[type=range]').focus();
  await page.keyboard.press('End');                   /* gpt-b all the way up */
  check('ui_browser_moving_a_slider_sets_the_weight', (await rowA.locator('input[type=number]').inputValue()) === '0' &&
        Number(await rowB.locator('input[type=number]').inputValue()) > 0);
  await page.click('.group .actions button.primary');
  await page.waitForFunction(() => /Applied|Not applied|Conflict/.test(document.querySelector('.group .actions .msg').textContent));
  const applied = await page.textContent('.group .actions .msg');
  check('ui_browser_apply_says_the_new_version', applied.startsWith('Applied: version 2.') && applied.includes('gpt-a #0 off'), applied);
  await page.waitForFunction(() => document.querySelector('#version').textContent === 'config v2');
  check('ui_browser_the_version_shown_follows', true);
  const fileNow = JSON.parse(readFileSync(cfgPath, 'utf8'));
  check('ui_browser_the_change_is_in_the_file', fileNow.model_list[0].litellm_params.weight === 0 && fileNow.model_list[1].litellm_params.weight > 0,
        fileNow.model_list.map((d) => d.litellm_params.weight));
  /* the calls the embedded client's split picked after the change (their epoch) all go to gpt-b */
  const shifted = await until('shift', () => {
    const recs = lines(rlog);
    const at = recs.findIndex((r) => r.event === 'config');
    if (at < 0) return null;
    const split = recs.slice(at).find((r) => r.event === 'split');
    if (!split) return null;
    const after = recs.filter((r) => r.role === 'primary' && r.split_epoch === split.epoch);
    const beforeA = recs.slice(0, at).filter((r) => r.role === 'primary' && r.model === 'gpt-a').length;
    return after.length >= 30 && { n: after.length, wrong: after.filter((r) => r.model !== 'gpt-b').length, beforeA };
  }, 20000);
  check('ui_browser_a_running_replay_shifts_its_traffic', shifted && shifted.wrong === 0 && shifted.beforeA > 0, shifted);
  const liveShift = await until('live shift', () => page.$$eval('.group tbody tr', (rows) => rows.map((r) => r.querySelector('.share span').textContent))
    .then((t) => t[1].includes('/ 100%') && t));
  check('ui_browser_the_table_shows_the_new_shares', !!liveShift, liveShift);

  /* ---- a stale edit: someone else changes the config while this page is being edited ---- */
  await rowA.locator('input[type=number]').fill('0.5');
  const other = await fetch(`${gw}/config/groups/chat`, {
    method: 'PATCH', headers: { Authorization: `Bearer ${MASTER}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ weights: { 'gpt-a #0': 0.1, 'gpt-b #1': 0.9 } }),
  });
  check('ui_browser_someone_else_changes_the_config', other.status === 200);
  await page.waitForFunction(() => document.querySelector('#version').textContent === 'config v3');
  check('ui_browser_the_edit_survives_the_live_update', (await rowA.locator('input[type=number]').inputValue()) === '0.5');
  await page.click('.group .actions button.primary');
  await page.waitForFunction(() => /Applied|Not applied|Conflict/.test(document.querySelector('.group .actions .msg').textContent));
  const conflict = await page.textContent('.group .actions .msg');
  check('ui_browser_a_stale_edit_gets_the_conflict_message', conflict.startsWith('Conflict: someone changed the config since you started') &&
        conflict.includes('version 3') && conflict.includes('not applied'), conflict);
  await page.screenshot({ path: join(buildDir, 'ui-conflict.png') });
  check('ui_browser_the_conflict_left_the_other_change', JSON.parse(readFileSync(cfgPath, 'utf8')).model_list[0].litellm_params.weight === 0.1);
  await page.waitForFunction(() => document.querySelector('.group tbody tr input[type=number]').value === '0.1');
  check('ui_browser_after_a_conflict_the_inputs_show_the_config_in_use', true);

  /* ---- an arm off and on ---- */
  const sw = rowB.locator('.switch');
  await sw.click();
  await page.waitForFunction(() => /Applied|Not applied|Conflict/.test(document.querySelector('.group .actions .msg').textContent));
  const offMsg = await page.textContent('.group .actions .msg');
  check('ui_browser_an_arm_switched_off', offMsg.startsWith('Applied: version 4.') && offMsg.includes('gpt-b #1 off'), offMsg);
  await page.waitForFunction(() => document.querySelector('#version').textContent === 'config v4');
  await sw.click();
  await page.waitForFunction(() => /version 5/.test(document.querySelector('.group .actions .msg').textContent));
  const onMsg = await page.textContent('.group .actions .msg');
  check('ui_browser_the_arm_switched_on_gets_its_weight_back', onMsg.includes('gpt-b #1 on (90%)'), onMsg);

  /* ---- the mirror sample rate ---- */
  await page.waitForFunction(() => document.querySelector('#version').textContent === 'config v5');
  await page.fill('#mirror-rate', '0.3');
  await page.click('#mirror-form button');
  await page.waitForFunction(() => document.querySelector('#mirror-msg').textContent.length > 0 && !/Applying/.test(document.querySelector('#mirror-msg').textContent));
  check('ui_browser_the_mirror_rate_is_applied', (await page.textContent('#mirror-msg')).startsWith('Applied: version 6.') &&
        JSON.parse(readFileSync(cfgPath, 'utf8')).router_settings.mirror_sample_rate === 0.3, await page.textContent('#mirror-msg'));

  /* ---- history and revert ---- */
  await page.waitForFunction(() => document.querySelectorAll('#history li').length === 6);
  const hist = await page.$$eval('#history li', (els) => els.map((e) => e.textContent));
  check('ui_browser_the_history_lists_every_version', hist[0].startsWith('v6') && hist[5].startsWith('v1') && hist[5].includes('the config serve started with'), hist);
  await page.click('#history li:last-child button');
  await page.waitForFunction(() => /in use again|Not reverted/.test(document.querySelector('#history-msg').textContent));
  const rev = await page.textContent('#history-msg');
  check('ui_browser_revert_makes_version_1_current_again', rev.startsWith('Version 1 is in use again, as version 7.'), rev);
  await page.waitForFunction(() => document.querySelector('#version').textContent === 'config v7');
  await page.waitForFunction(() => document.querySelector('.group tbody tr input[type=number]').value === '0.8');
  check('ui_browser_after_the_revert_the_weights_are_the_first_ones', true);
  await page.evaluate(() => window.scrollTo(0, 0)); /* the bar is sticky: a full-page shot starts at the top */
  await page.screenshot({ path: join(buildDir, 'ui-history.png'), fullPage: true });

  /* ---- a phone ---- */
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.addCookies(cookies);
  const pp = await phone.newPage();
  await pp.goto(`${gw}/ui`);
  await pp.waitForSelector('.group tbody tr');
  await pp.waitForFunction(() => document.querySelector('.group .counters').textContent.includes('mirrored'));
  const overflow = await pp.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check('ui_browser_on_a_phone_nothing_is_wider_than_the_screen', overflow <= 0, overflow);
  await pp.screenshot({ path: join(buildDir, 'ui-phone.png') });
  await phone.close();

  /* ---- logging out ---- */
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  check('ui_browser_logout_shows_the_login_form', true);
  const afterLogout = await change('PATCH', '/config/groups/chat', { weights: { 'gpt-a #0': 0 } });
  check('ui_browser_after_logout_changes_are_refused', afterLogout === 401, afterLogout);
  check('ui_browser_no_csp_violation_or_script_error', problems.length === 0, problems);
} catch (e) {
  failed++;
  console.log(`FAIL ui_browser (${e.message.split('\n')[0]})`);
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const p of children) p.kill();
  await sleep(100);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
