// The explorer in headless Chromium, driven by tests/integration/
// test_explorer.sh against a node it built a chain on. Environment:
//   ESG_SRC_DIR          the source tree (playwright-core from web/node_modules)
//   ESG_EXPLORER_URL     the node, http://127.0.0.1:PORT
//   ESG_GENESIS          the chain's genesis file, ESG_REPORT an attested
//                        impact report of ESG_INSTRUMENT
//   ESG_CHROMIUM         the browser (/usr/bin/chromium)
//   ESG_EXPLORER_MODE    "full" (default) or "token": the node has an API
//                        token, and the page must say so
//   ESG_EXPLORER_SHOTS   a directory: a full-page screenshot of the first
//                        page of each kind is saved there (for a look)
// Every wait is for a condition, with a generous deadline; no sleeps.
import { createRequire } from 'node:module';
import http from 'node:http';

const env = (k) => {
    if (!process.env[k]) throw new Error(`${k} is not set (run through tests/integration/test_explorer.sh)`);
    return process.env[k];
};
const SRC = env('ESG_SRC_DIR');
const BASE = env('ESG_EXPLORER_URL');
const MODE = process.env.ESG_EXPLORER_MODE || 'full';
const DEADLINE = 60000;

let playwright;
try {
    playwright = createRequire(`${SRC}/web/package.json`)('playwright-core');
} catch (e) {
    console.error(`FAIL: playwright-core not found in ${SRC}/web/node_modules: run (cd web && npm ci) (${e.message})`);
    process.exit(1);
}

function fail(msg) {
    console.error(`FAIL: ${msg}`);
    process.exit(1);
}
const ok = (msg) => console.log(`ok: ${msg}`);

const browser = await playwright.chromium.launch({
    executablePath: process.env.ESG_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
process.on('exit', () => { /* the browser dies with us */ });

// A page that records every console error, page error and failed or
// non-2xx request; `allow` filters out the ones a test expects.
async function newPage(origin) {
    const page = await browser.newPage();
    page.problems = [];
    page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    await page.goto(`${origin}/`, { timeout: DEADLINE });
    await settle(page, '(first load)');
    return page;
}

function checkClean(page, where) {
    if (page.problems.length) fail(`${where}:\n  ${page.problems.join('\n  ')}`);
}

// Waits until the page has rendered (body[data-state] ready or error).
async function settle(page, where) {
    try {
        await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null,
            { timeout: DEADLINE });
    } catch {
        fail(`${where}: the page did not render within ${DEADLINE} ms`);
    }
    return page.evaluate(() => document.body.dataset.state);
}

// Opens `hash` (a "#/..." link) in the page and requires it to render.
async function visit(page, hash) {
    await page.evaluate((h) => {
        document.body.dataset.state = 'navigating';
        if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
        else location.hash = h;
    }, hash);
    const state = await settle(page, hash);
    if (state !== 'ready') fail(`${hash}: ${(await page.textContent('main')).trim().slice(0, 400)}`);
    checkClean(page, hash);
}

// The charts of the page: each canvas sized, with data, and painted.
async function charts(page) {
    return page.$$eval('canvas', (cs) => cs.map((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]) painted++;
        return { label: c.getAttribute('aria-label'), w: c.width, h: c.height, points: Number(c.dataset.points || 0), painted };
    }));
}

async function checkCharts(page, hash, min) {
    const cs = await charts(page);
    if (cs.length < min) fail(`${hash}: ${cs.length} charts, want at least ${min}`);
    for (const c of cs) {
        if (!(c.w > 0 && c.h > 0)) fail(`${hash}: chart '${c.label}' has size ${c.w}x${c.h}`);
        if (!(c.points > 0)) fail(`${hash}: chart '${c.label}' has no data`);
        if (!(c.painted > 0)) fail(`${hash}: chart '${c.label}' is blank`);
    }
    return cs.length;
}

// ------------------------------------------------------------ token mode

if (MODE === 'token') {
    const page = await browser.newPage();
    await page.goto(`${BASE}/`, { timeout: DEADLINE });
    await settle(page, 'token: #/');
    await page.waitForSelector('#banner:not([hidden])', { timeout: DEADLINE });
    const b = await page.textContent('#banner');
    if (!b.includes('needs an API token')) fail(`token: the banner says '${b}'`);
    ok(`a node with a token: the page says "${b.slice(0, 60)}…"`);
    await browser.close();
    process.exit(0);
}

// ------------------------------------------------------------ every page

const page = await newPage(BASE);
checkClean(page, 'first load');
const INS = env('ESG_INSTRUMENT'), REPORT = env('ESG_REPORT');
const reportHash = `#/instrument/${INS}/report/${REPORT}`;

// Every page reachable by links from the navigation, the instrument and
// the report (breadth first): each must render cleanly, and so must every
// link found on it.
const start = ['#/', '#/instruments', '#/projects', '#/members', '#/validators', '#/kpis',
    `#/instrument/${INS}`, reportHash];
const seen = new Set(start), queue = [...start], kinds = {}, shots = new Set();
let nCharts = 0;
const MAX_PAGES = 600;
while (queue.length) {
    const hash = queue.shift();
    await visit(page, hash);
    const kind = hash.split('/')[1] || 'home';
    kinds[kind] = (kinds[kind] || 0) + 1;
    const shot = hash.includes('/report/') ? 'report' : kind;
    if (process.env.ESG_EXPLORER_SHOTS && !shots.has(shot)) {
        shots.add(shot);
        await page.screenshot({ path: `${process.env.ESG_EXPLORER_SHOTS}/${shot}.png`, fullPage: true });
    }
    const hrefs = await page.$$eval('a', (as) => as.map((a) => a.getAttribute('href')));
    for (const href of hrefs) {
        if (!href || !href.startsWith('#/')) fail(`${hash}: a link that leaves the explorer: '${href}'`);
        if (!seen.has(href)) {
            seen.add(href);
            queue.push(href);
        }
    }
    if (seen.size > MAX_PAGES) fail(`more than ${MAX_PAGES} distinct links: a link loop?`);
    const min = { instrument: 3, project: 1, kpi: 0 }[kind] ?? 0;
    if (kind === 'instrument' && hash.includes('/report/')) continue;
    nCharts += await checkCharts(page, hash, min);
}
for (const k of ['home', 'block', 'tx', 'account', 'instruments', 'instrument', 'projects', 'project',
    'members', 'member', 'validators', 'kpis', 'kpi']) {
    if (!kinds[k]) fail(`no '${k}' page was reached by the links (${JSON.stringify(kinds)})`);
}
ok(`${seen.size} pages, every link followed, no console error, page error or failed request; ${nCharts} charts drawn (${JSON.stringify(kinds)})`);

// ------------------------------------------------------ figures and charts

await visit(page, `#/instrument/${INS}`);
const main = await page.textContent('main');
for (const want of ['750,037.50 EUR', '1,000.05 EUR', 'city-rhodes', 'city-kos', '60.00 %', '40.00 %',
    'RHO-PV', 'KOS-BUS', '250,000.00 EUR', '150,000.37 EUR', '1180.250 tCO2e']) {
    if (!main.includes(want)) fail(`#/instrument/${INS} does not show '${want}'`);
}
const cs = await charts(page);
const labels = cs.map((c) => c.label).join(' | ');
for (const want of ['Allocation by city', 'Allocation by project', 'ghg_avoided_tco2e'])
    if (!labels.includes(want)) fail(`#/instrument/${INS}: no chart '${want}' (${labels})`);
ok(`the instrument shows exact amounts with units and ${cs.length} charts: ${labels}`);

await visit(page, '#/kpi/ghg_avoided_tco2e');
await checkCharts(page, '#/kpi/ghg_avoided_tco2e', 2);
const kpiText = await page.textContent('main');
if (!kpiText.includes('city-rhodes') || !kpiText.includes('125,000')) fail(`the KPI page misses the cities: ${kpiText.slice(0, 300)}`);
ok('the cities compared on ghg_avoided_tco2e, with charts');

// ----------------------------------------------------------------- verify

// Chooses the genesis file on the report page of `p`, presses Verify and
// returns the outcome shown (verified | not-verified | error) and its text.
async function verify(p) {
    await visit(p, reportHash);
    await p.setInputFiles('#genesis-file', env('ESG_GENESIS'));
    await p.waitForSelector('#verify-button:not([disabled])', { timeout: DEADLINE });
    await p.click('#verify-button');
    try {
        await p.waitForFunction(() => ['verified', 'not-verified', 'error']
            .includes(document.getElementById('verify-result').dataset.outcome), null, { timeout: 5 * DEADLINE });
    } catch {
        fail('the verification did not finish within 5 minutes');
    }
    return p.$eval('#verify-result', (r) => ({ outcome: r.dataset.outcome, text: r.textContent }));
}

{
    const r = await verify(page);
    if (r.outcome !== 'verified') fail(`the report did not verify: ${r.text}`);
    const steps = await page.$$eval('#verify-result .steps li', (ls) => ls.map((l) => l.className));
    if (!steps.length || steps.some((c) => c !== 'good')) fail(`verified, but not every step is good: ${steps}`);
    checkClean(page, 'verify');
    ok(`verified from the genesis file: ${steps.length} steps good`);

    // The same check through a node that lies: a proxy that flips one hex
    // digit of every state proof it passes on.
    let tampered = 0;
    const target = new URL(BASE);
    const proxy = http.createServer((req, res) => {
        const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method,
            headers: { ...req.headers, host: target.host } }, (ur) => {
            const chunks = [];
            ur.on('data', (c) => chunks.push(c));
            ur.on('end', () => {
                let body = Buffer.concat(chunks);
                if (req.url.startsWith('/v1/state/proof') && ur.statusCode === 200) {
                    body = flipHexDigit(body);
                    tampered++;
                }
                const headers = { ...ur.headers, 'content-length': String(body.length) };
                delete headers['transfer-encoding'];
                res.writeHead(ur.statusCode, headers);
                res.end(body);
            });
        });
        up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
        req.pipe(up);
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const evil = await newPage(`http://127.0.0.1:${proxy.address().port}`);
    const t = await verify(evil);
    if (t.outcome !== 'not-verified') fail(`through the tampering proxy the check says ${t.outcome}: ${t.text}`);
    if (!tampered) fail('the light client fetched no state proof through the proxy');
    if (!t.text.includes('NOT verified')) fail(`not-verified, but the page says: ${t.text}`);
    ok(`through the proxy (${tampered} state proofs changed by one hex digit): "${t.text.slice(0, 160)}"`);
    proxy.close();
}

// One hex digit of the proof's value (or, for an absent record, of its
// first sibling hash) changed: the same JSON, one byte different.
function flipHexDigit(buf) {
    const s = buf.toString('latin1');
    let at = -1;
    const v = s.indexOf('"value":"');
    if (v >= 0 && /[0-9a-f]/.test(s[v + 9])) at = v + 9;
    else {
        const sib = s.indexOf('"siblings":["');
        if (sib >= 0) at = sib + 13;
    }
    if (at < 0) fail(`a state proof with nothing to tamper with: ${s.slice(0, 200)}`);
    const c = s[at] === '0' ? '1' : '0';
    return Buffer.from(s.slice(0, at) + c + s.slice(at + 1), 'latin1');
}

await browser.close();
