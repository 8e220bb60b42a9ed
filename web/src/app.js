// The esgledger explorer: one page served by esgnode at /, reading the
// node's own /v1 JSON API (same origin, no token) and drawing it. No
// framework: a hash router (#/block/12), DOM built with h() -- never from
// HTML strings, since names and reasons on the chain are anyone's text --
// and Chart.js for the charts, imported piece by piece so the bundle holds
// only bar and doughnut charts. docs/EXPLORER.md describes the pages.
//
// Precision: the API gives 64-bit amounts, units and impact values as
// decimal strings; they are shown from those strings (BigInt arithmetic
// for money), never through a float. Any JSON number past 2^53 is parsed
// as a BigInt. Charts plot Number()s -- a picture -- while their tooltips
// and the tables beside them show the exact figures.
import {
    ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController,
    Legend, LinearScale, Tooltip,
} from 'chart.js';
import { verifyImpact } from './light.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController,
    ArcElement, Legend, Tooltip);

// ------------------------------------------------------------------ fetch

// JSON.parse keeping integers past 2^53 exact (as BigInt), through the
// reviver's access to the source text (Chrome 114+, Firefox 135+).
function parseJson(text) {
    return JSON.parse(text, (key, v, ctx) => {
        if (typeof v === 'number' && !Number.isSafeInteger(v) && ctx && /^-?\d+$/.test(ctx.source))
            return BigInt(ctx.source);
        return v;
    });
}

// GET path on this node: the parsed JSON, or an Error with .status and
// .body (the API's {"error": {...}} when it sent one). Also what the light
// client reads through.
export async function get(path) {
    const r = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    const text = await r.text();
    let body = text;
    try { body = parseJson(text); } catch { /* not JSON: keep the text */ }
    if (!r.ok) {
        const msg = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`;
        const e = new Error(msg);
        e.status = r.status;
        e.body = body;
        throw e;
    }
    return body;
}

// ------------------------------------------------------------------- DOM

// h('a', {href: '#/'}, 'text', child...): an element; attributes set as
// properties when they are ones (onclick, disabled), else as attributes.
function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on') || k === 'disabled' || k === 'hidden') el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
        if (c === undefined || c === null || c === false) continue;
        el.append(c instanceof Node ? c : String(c));
    }
    return el;
}

const text = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

// A definition list of [label, value] rows (value: node or text).
function dl(rows) {
    return h('dl', { class: 'facts' }, rows.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// A table of `rows` with `cols` [[heading, row => cell], ...]; numeric
// columns ('num' in the heading's options) are right-aligned.
function table(cols, rows, empty = 'none') {
    if (!rows || rows.length === 0) return h('p', { class: 'empty' }, empty);
    return h('div', { class: 'scroll' }, h('table', {},
        h('thead', {}, h('tr', {}, cols.map(([t, , o]) => h('th', { class: o }, t)))),
        h('tbody', {}, rows.map((r) => h('tr', {}, cols.map(([, f, o]) => h('td', { class: o }, f(r))))))));
}

const section = (title, ...body) => h('section', {}, h('h2', {}, title), ...body);

// ----------------------------------------------------------------- links

const link = (href, label, title) => h('a', { href, title }, label);
const short = (hex) => (hex && hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : text(hex));
const hashText = (hex) => (hex ? h('code', { title: hex }, short(hex)) : '—');
const blockLink = (height) => (height ? link(`#/block/${height}`, String(height)) : '—');
const txLink = (id) => (id ? link(`#/tx/${id}`, h('code', {}, short(id)), id) : '—');
const accountLink = (pk) => (pk ? link(`#/account/${pk}`, h('code', {}, short(pk)), pk) : '—');
const memberLink = (id) => (id ? link(`#/member/${encodeURIComponent(id)}`, id) : '—');
const instrumentLink = (id) => (id ? link(`#/instrument/${encodeURIComponent(id)}`, id) : '—');
const projectLink = (id) => (id ? link(`#/project/${encodeURIComponent(id)}`, id) : '—');
const kpiLink = (id) => (id ? link(`#/kpi/${encodeURIComponent(id)}`, id) : '—');
const reportLink = (ins, id, label) => link(`#/instrument/${encodeURIComponent(ins)}/report/${id}`,
    label || h('code', {}, short(id)), id);
const validatorLink = (pk) => link('#/validators', h('code', {}, short(pk)), pk);
const joinNodes = (nodes, sep = ', ') => nodes.flatMap((n, i) => (i ? [sep, n] : [n]));

// ----------------------------------------------------------------- units

// Minor units per major unit of a currency (ISO 4217); 2 unless listed.
const CURRENCY_EXP = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, BHD: 3, KWD: 3, OMR: 3, TND: 3 };

// "700021", "EUR" -> "7,000.21 EUR", exactly (BigInt).
function money(minor, currency) {
    if (minor === null || minor === undefined || minor === '') return '—';
    const exp = CURRENCY_EXP[currency] ?? 2;
    let v = BigInt(minor);
    const neg = v < 0n;
    if (neg) v = -v;
    const base = 10n ** BigInt(exp);
    const whole = (v / base).toLocaleString('en-GB');
    const frac = exp ? '.' + (v % base).toString().padStart(exp, '0') : '';
    return `${neg ? '−' : ''}${whole}${frac} ${currency || ''}`.trim();
}

// "5000" -> "5,000" (BigInt, any size).
const count = (s) => (s === null || s === undefined || s === '' ? '—' : BigInt(s).toLocaleString('en-GB'));

// 3334 -> "33.34 %".
const bps = (n) => (n === null || n === undefined ? '—'
    : `${Math.trunc(Number(n) / 100)}.${String(Math.abs(Number(n)) % 100).padStart(2, '0')} %`);

// An impact value ("810.250", thousandths) with its unit.
const impact = (v, unit) => (v === null || v === undefined ? '—' : `${v} ${unit || ''}`.trim());

const yesNo = (b) => (b ? 'yes' : 'no');
const timeOf = (o) => (o && o.time ? h('time', { datetime: o.time }, o.time.replace('T', ' ').replace('Z', ' UTC')) : '—');

// For charts only: a decimal string as a Number (a picture, not a figure).
const plot = (s) => (s === null || s === undefined ? 0 : Number(s));
const plotMoney = (minor, currency) => plot(minor) / 10 ** (CURRENCY_EXP[currency] ?? 2);

function pretty(v) {
    return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);
}

// ---------------------------------------------------------------- charts

const PALETTE = ['#2f7d5b', '#3b6ea8', '#c98a1b', '#9b4f96', '#c2453d', '#5a9aa8', '#7a7d2f', '#8a5a3b'];
let charts = [];

// A chart of `labels` x `datasets` ({label, data: numbers, exact: strings
// for the tooltip}); drawn once the page is in the document (mount). The
// canvas carries data-points, the number of values drawn, for the tests.
function chart(ctx, title, type, labels, datasets, { stacked = false, unit = '' } = {}) {
    const canvas = h('canvas', { role: 'img', 'aria-label': title });
    const fig = h('figure', { class: 'chart' }, h('figcaption', {}, title), h('div', { class: 'chart-box' }, canvas));
    ctx.mount.push(() => {
        const doughnut = type === 'doughnut';
        const c = new Chart(canvas, {
            type,
            data: {
                labels,
                datasets: datasets.map((d, i) => ({
                    ...d,
                    backgroundColor: doughnut ? labels.map((_, k) => PALETTE[k % PALETTE.length]) : PALETTE[i % PALETTE.length],
                })),
            },
            options: {
                animation: false,
                responsive: true,
                maintainAspectRatio: false,
                plugins: {
                    legend: { display: doughnut || datasets.length > 1, position: 'bottom' },
                    tooltip: {
                        callbacks: {
                            label: (t) => `${t.dataset.label}: ${t.dataset.exact ? t.dataset.exact[t.dataIndex] : t.formattedValue}`,
                        },
                    },
                },
                scales: doughnut ? {} : {
                    x: { stacked },
                    y: { stacked, beginAtZero: true, title: { display: !!unit, text: unit } },
                },
            },
        });
        charts.push(c);
        canvas.dataset.points = String(c.data.datasets.reduce((n, d) => n + d.data.length, 0));
    });
    return fig;
}

// ------------------------------------------------------------------ pages

async function pageHome(ctx) {
    const st = await get('/v1/status');
    ctx.title = `${st.chain_id} at height ${st.height}`;
    const out = [
        h('h1', {}, `Chain ${st.chain_id}`),
        section('Status', dl([
            ['Height', st.height ? blockLink(st.height) : '0 (genesis)'],
            ['Last block', st.height ? hashText(st.block_hash) : 'none yet (genesis)'],
            ['Time', timeOf(st)],
            ['App hash', hashText(st.app_hash)],
            ['Genesis hash', hashText(st.genesis_hash)],
            ['Validators', link('#/validators', `${st.validators.length} (total power ${st.total_power})`)],
            ['This node', [accountLinkless(st.node_key), st.validator ? ' (a validator)' : ' (not a validator)']],
            ['Peers', String(st.peers)],
            ['Mempool', `${st.mempool.txs} transactions, ${st.mempool.bytes} bytes`],
            ['Syncing', st.syncing ? `yes, ${st.behind} blocks behind` : 'no'],
            ['Storage', st.storage && st.storage.writable === false ? `NOT writable: ${st.storage.reason}` : 'writable'],
        ])),
    ];
    if (!st.height) {
        out.push(section('Latest blocks', h('p', { class: 'empty' }, 'no block yet')));
        return out;
    }
    const heights = [];
    for (let k = st.height; k >= 1 && heights.length < 10; k--) heights.push(k);
    const blocks = await Promise.all(heights.map((k) => get(`/v1/blocks/${k}`)));
    out.push(section('Latest blocks', table([
        ['Height', (b) => blockLink(b.height), 'num'],
        ['Time', (b) => timeOf(b.header)],
        ['Hash', (b) => hashText(b.hash)],
        ['Transactions', (b) => String(b.txs.length), 'num'],
        ['Actions', (b) => b.txs.map((t) => t.action_type).join(', ') || '—'],
        ['Proposer', (b) => validatorLink(b.header.proposer)],
    ], blocks)));
    return out;
}

// The node's key is not an account: shown, not linked.
const accountLinkless = (pk) => h('code', { title: pk }, short(pk));

async function pageBlock(ctx, height) {
    const [b, st] = await Promise.all([get(`/v1/blocks/${height}`), get('/v1/status')]);
    const hd = b.header;
    ctx.title = `Block ${b.height}`;
    const nav = h('p', { class: 'pager' },
        b.height > 1 ? link(`#/block/${b.height - 1}`, `← block ${b.height - 1}`) : null, ' ',
        b.height < st.height ? link(`#/block/${b.height + 1}`, `block ${b.height + 1} →`) : null);
    return [
        h('h1', {}, `Block ${b.height}`), nav,
        section('Header', dl([
            ['Hash', h('code', {}, b.hash)],
            ['Time', timeOf(hd)],
            ['Chain', hd.chain_id],
            ['Previous', b.height > 1 ? link(`#/block/${b.height - 1}`, h('code', {}, short(hd.prev_hash)), hd.prev_hash) : hashText(hd.prev_hash)],
            ['Transactions root', hashText(hd.tx_root)],
            ['App hash', hashText(hd.app_hash)],
            ['Validators hash', hashText(hd.validators_hash)],
            hd.next_validators_hash ? ['Next validators hash', hashText(hd.next_validators_hash)] : null,
            hd.evidence_hash ? ['Evidence hash', hashText(hd.evidence_hash)] : null,
            ['Proposer', validatorLink(hd.proposer)],
        ])),
        section(`Transactions (${b.txs.length})`, table([
            ['#', (t) => String(b.txs.indexOf(t)), 'num'],
            ['Id', (t) => txLink(t.tx_id)],
            ['Action', (t) => t.action_type],
            ['Signer', (t) => accountLink(t.signer)],
            ['Nonce', (t) => String(t.nonce), 'num'],
        ], b.txs, 'no transactions (an empty block)')),
        b.evidence.length ? section('Evidence of equivocation', h('pre', {}, pretty(b.evidence))) : null,
        section('Commit', dl([
            ['Round', String(b.commit.round)],
            ['Signatures', joinNodes(b.commit.sigs.map((s) => validatorLink(s.validator)))],
        ])),
    ];
}

async function pageTx(ctx, id) {
    const t = await get(`/v1/txs/${id}`);
    ctx.title = `Transaction ${short(id)}`;
    const a = t.action || {};
    const refs = [];
    if (typeof a.instrument === 'string') refs.push(['Instrument', instrumentLink(a.instrument)]);
    if (a.spec && a.spec.id) refs.push(['Instrument', instrumentLink(a.spec.id)]);
    if (typeof a.project === 'string') refs.push(['Project', projectLink(a.project)]);
    if (typeof a.project_id === 'string') refs.push(['Project', projectLink(a.project_id)]);
    return [
        h('h1', {}, `Transaction`), h('p', {}, h('code', { class: 'wrap' }, t.tx_id)),
        section('Summary', dl([
            ['Action', a.type],
            ['Block', blockLink(t.height)],
            ['Index in block', String(t.index)],
            ['Time', timeOf(t)],
            ['Result', t.result],
            ['Signer', accountLink(t.signer)],
            ['Nonce', String(t.nonce)],
            ['Co-signatures', joinNodes(t.signatures.map((s) => accountLink(s.pubkey)))],
            ['Size', `${t.size} bytes`],
            ...refs,
        ])),
        section('Action', h('pre', {}, pretty(a))),
    ];
}

async function pageAccount(ctx, pk) {
    const a = await get(`/v1/accounts/${pk}`);
    ctx.title = `Account ${short(pk)}`;
    return [
        h('h1', {}, 'Account'), h('p', {}, h('code', { class: 'wrap' }, a.pubkey)),
        dl([
            ['Member', memberLink(a.member)],
            ['Roles', a.roles.join(', ') || '—'],
            ['Transactions sent (nonce)', String(a.nonce)],
            ['Revoked', yesNo(a.revoked)],
        ]),
    ];
}

const coIssuers = (list) => joinNodes((list || []).map((c) => h('span', {}, memberLink(c.member), ` ${bps(c.share_bps)}`)));

async function pageInstruments(ctx) {
    const { instruments } = await get('/v1/instruments');
    ctx.title = 'Instruments';
    return [
        h('h1', {}, 'Instruments'),
        table([
            ['Id', (i) => instrumentLink(i.id)],
            ['Name', (i) => i.name],
            ['Kind', (i) => i.kind],
            ['Status', (i) => h('span', { class: `status ${i.status}` }, i.status)],
            ['Co-issuers', (i) => coIssuers(i.co_issuers)],
            ['Face value', (i) => money(i.face_value, i.currency), 'num'],
            ['Units sold / offered', (i) => `${count(i.units_sold)} / ${count(i.units)}`, 'num'],
            ['Raised', (i) => money(i.amount_raised, i.currency), 'num'],
            ['Coupon', (i) => `${bps(i.coupon_bps)} every ${i.coupon_frequency_months} months`],
            ['Issue – maturity', (i) => `${i.issue_date} – ${i.maturity_date}`],
        ], instruments, 'no instrument has been issued'),
    ];
}

async function pageInstrument(ctx, id) {
    const enc = encodeURIComponent(id);
    const [ins, al, im, ho, pa] = await Promise.all([
        get(`/v1/instruments/${enc}`), get(`/v1/instruments/${enc}/allocations`),
        get(`/v1/instruments/${enc}/impact`), get(`/v1/instruments/${enc}/holders`),
        get(`/v1/instruments/${enc}/payments`)]);
    const cur = ins.currency;
    const m = (v) => money(v, cur);
    ctx.title = `${ins.id}: ${ins.name}`;
    const out = [
        h('h1', {}, ins.id, ' ', h('span', { class: `status ${ins.status}` }, ins.status)),
        h('p', { class: 'lead' }, ins.name),
        section('Terms', dl([
            ['Kind', ins.kind],
            ['Currency', cur],
            ['Face value', m(ins.face_value)],
            ['Units offered', count(ins.units)],
            ['Units sold', count(ins.units_sold)],
            ['Units outstanding', count(ins.units_outstanding)],
            ['Amount raised', m(ins.amount_raised)],
            ['Coupon', `${bps(ins.coupon_bps)} a year, paid every ${ins.coupon_frequency_months} months`],
            ['Issue date', ins.issue_date],
            ['Maturity date', ins.maturity_date],
            ['Paying agent', memberLink(ins.paying_agent)],
            ['Issued', ['by ', txLink(ins.issue_tx), ' in block ', blockLink(ins.issued_height)]],
            ['Offering closed', ins.closed_height ? ['in block ', blockLink(ins.closed_height)] : 'not yet'],
            ['Matured', ins.matured_height ? ['in block ', blockLink(ins.matured_height)] : 'not yet'],
            ['Framework document (SHA-256)', hashText(ins.framework_sha256)],
            ['External review (SHA-256)', hashText(ins.external_review_sha256)],
        ])),
        section('Co-issuers', table([
            ['Member', (c) => memberLink(c.member)],
            ['Share', (c) => bps(c.share_bps), 'num'],
        ], ins.co_issuers)),
        section('Coupon schedule', dl([
            ['Next coupon', text(ins.next_coupon_date)],
            ['Step-up in force for it', ins.step_up_bps_in_force_next_coupon === null ? '—' : bps(ins.step_up_bps_in_force_next_coupon)],
        ]), table([
            ['Date', (s) => s.date],
            ['Paid', (s) => yesNo(s.paid)],
            ['Payment', (s) => (s.payment_seq === null ? '—' : `#${s.payment_seq}`), 'num'],
        ], ins.schedule)),
    ];
    if (ins.step_ups && ins.step_ups.length) {
        out.push(section('Sustainability-linked targets', table([
            ['KPI', (s) => kpiLink(s.kpi)],
            ['Observed on', (s) => s.observation_date],
            ['Baseline', (s) => impact(s.baseline, s.unit), 'num'],
            ['Target', (s) => impact(s.target, s.unit), 'num'],
            ['Observed', (s) => impact(s.observed, s.unit), 'num'],
            ['Missed', (s) => yesNo(s.missed)],
            ['Step-up', (s) => bps(s.step_up_bps), 'num'],
        ], ins.step_ups)));
    }
    out.push(section('Projects', table([
        ['Project', (p) => projectLink(p.id)],
        ['City', (p) => memberLink(p.city)],
        ['Name', (p) => p.name],
        ['EU objective', (p) => p.eu_objective],
        ['Budget', (p) => m(p.budget), 'num'],
    ], ins.projects)));

    // Use of proceeds.
    out.push(section('Use of proceeds',
        dl([
            ['Raised', m(al.amount_raised)],
            ['Allocated', m(al.allocated_total)],
            ['Not allocated yet', m(al.unallocated)],
        ]),
        h('div', { class: 'charts' },
            chart(ctx, `Allocation by city (${cur})`, 'bar', al.per_city.map((c) => c.city), [
                { label: 'allocated', data: al.per_city.map((c) => plotMoney(c.allocated, cur)), exact: al.per_city.map((c) => m(c.allocated)) },
                { label: 'remaining', data: al.per_city.map((c) => plotMoney(c.remaining, cur)), exact: al.per_city.map((c) => m(c.remaining)) },
            ], { stacked: true, unit: cur }),
            chart(ctx, `Allocation by project (${cur})`, 'bar', al.per_project.map((p) => p.project_id), [
                { label: 'allocated', data: al.per_project.map((p) => plotMoney(p.allocated, cur)), exact: al.per_project.map((p) => m(p.allocated)) },
                { label: 'budget', data: al.per_project.map((p) => plotMoney(p.budget, cur)), exact: al.per_project.map((p) => m(p.budget)) },
            ], { unit: cur })),
        h('h3', {}, 'By city'),
        table([
            ['City', (c) => memberLink(c.city)],
            ['Share', (c) => bps(c.share_bps), 'num'],
            ['Part of the amount raised', (c) => m(c.part_of_raised), 'num'],
            ['Allocated', (c) => m(c.allocated), 'num'],
            ['Remaining', (c) => m(c.remaining), 'num'],
        ], al.per_city),
        h('h3', {}, 'By project'),
        table([
            ['Project', (p) => projectLink(p.project_id)],
            ['City', (p) => memberLink(p.city)],
            ['Name', (p) => p.name],
            ['Budget', (p) => m(p.budget), 'num'],
            ['Allocated', (p) => m(p.allocated), 'num'],
            ['Share of proceeds', (p) => bps(p.share_of_proceeds_bps), 'num'],
            ['Over budget', (p) => yesNo(p.over_budget)],
        ], al.per_project),
        h('h3', {}, 'Allocations'),
        table([
            ['Transaction', (a) => txLink(a.id)],
            ['Project', (a) => projectLink(a.project_id)],
            ['City', (a) => memberLink(a.city)],
            ['Amount', (a) => m(a.amount), 'num'],
            ['Date', (a) => a.date],
            ['Block', (a) => blockLink(a.height), 'num'],
            ['Evidence (SHA-256)', (a) => hashText(a.evidence_sha256)],
            ['Reversed', (a) => (a.reversed ? `yes: ${a.reverse_reason}` : 'no')],
        ], al.allocations, 'nothing allocated yet')));

    // Impact, one chart per KPI: the counted value of each project's reports.
    const kpis = im.confirmed_totals || [];
    const kpiCharts = kpis.map((k) => {
        const reps = im.reports.filter((r) => r.kpi === k.kpi);
        const projects = [...new Set(reps.map((r) => r.project_id))];
        const sum = (p, f) => reps.filter((r) => r.project_id === p && r[f] !== null)
            .reduce((s, r) => s + plot(r[f]), 0);
        return chart(ctx, `${k.kpi}: confirmed ${impact(k.total, k.unit)}`, 'bar', projects, [
            { label: 'counted', data: projects.map((p) => sum(p, 'counted_value')), exact: projects.map((p) => impact(sum(p, 'counted_value').toFixed(3), k.unit)) },
            { label: 'reported (latest, not superseded)', data: projects.map((p) => reps.filter((r) => r.project_id === p && !r.superseded_by).reduce((s, r) => s + plot(r.value), 0)) },
        ], { unit: k.unit });
    });
    out.push(section('Impact',
        table([
            ['KPI', (k) => kpiLink(k.kpi)],
            ['Confirmed total', (k) => impact(k.total, k.unit), 'num'],
            ['Reports counted', (k) => String(k.reports_counted), 'num'],
        ], kpis, 'no KPI reported or targeted'),
        kpiCharts.length ? h('div', { class: 'charts' }, kpiCharts) : null,
        h('h3', {}, 'Reports'),
        table([
            ['Report', (r) => reportLink(ins.id, r.id)],
            ['Project', (r) => projectLink(r.project_id)],
            ['City', (r) => memberLink(r.city)],
            ['KPI', (r) => kpiLink(r.kpi)],
            ['Value', (r) => impact(r.value, r.unit), 'num'],
            ['Period', (r) => `${r.period_start} – ${r.period_end}`],
            ['Counted', (r) => (r.counted ? impact(r.counted_value, r.unit) : r.superseded_by ? 'superseded' : 'no')],
            ['Attestations', (r) => String(r.attestations.length), 'num'],
        ], im.reports, 'no impact reported yet')));

    out.push(section('Holders', table([
        ['Member', (x) => memberLink(x.member)],
        ['Units', (x) => count(x.units), 'num'],
        ['Share of outstanding', (x) => bps(x.share_of_outstanding_bps), 'num'],
    ], ho.holders, 'no holder')));
    out.push(section('Payments', table([
        ['Kind', (p) => p.kind],
        ['#', (p) => String(p.seq), 'num'],
        ['Due', (p) => p.due_date],
        ['Block', (p) => blockLink(p.height), 'num'],
        ['Rate', (p) => (p.kind === 'COUPON' ? `${bps(p.coupon_bps)} + ${bps(p.step_up_bps)}` : '—')],
        ['Per unit', (p) => m(p.per_unit), 'num'],
        ['Total', (p) => m(p.total), 'num'],
        ['Transaction', (p) => txLink(p.tx_id)],
    ], pa.payments, 'no payment recorded yet')));
    return out;
}

async function pageReport(ctx, insId, reportId) {
    const im = await get(`/v1/instruments/${encodeURIComponent(insId)}/impact`);
    const r = im.reports.find((x) => x.id === reportId);
    if (!r) throw new Error(`instrument ${insId} has no impact report ${reportId}`);
    ctx.title = `Impact report ${short(reportId)}`;
    return [
        h('h1', {}, 'Impact report'), h('p', {}, h('code', { class: 'wrap' }, r.id)),
        section('Report', dl([
            ['Instrument', instrumentLink(insId)],
            ['Project', projectLink(r.project_id)],
            ['City', memberLink(r.city)],
            ['KPI', [kpiLink(r.kpi), ` (${r.category})`]],
            ['Value reported', impact(r.value, r.unit)],
            ['Period', `${r.period_start} – ${r.period_end}`],
            ['Methodology', text(r.methodology)],
            ['Evidence (SHA-256)', hashText(r.evidence_sha256)],
            ['Evidence location', r.evidence_uri ? h('code', { class: 'wrap' }, r.evidence_uri) : '—'],
            ['Reported', ['by ', txLink(r.id), ' in block ', blockLink(r.height), ', ', timeOf(r)]],
            ['Restates', r.supersedes ? [reportLink(insId, r.supersedes), `: ${r.reason}`] : '—'],
            ['Restated by', r.superseded_by ? reportLink(insId, r.superseded_by) : '—'],
            ['Counted', r.counted ? `yes: ${impact(r.counted_value, r.unit)}` : 'no'],
        ])),
        section('Attestations', table([
            ['Attestation', (a) => txLink(a.id)],
            ['Verifier', (a) => memberLink(a.verifier)],
            ['Opinion', (a) => a.opinion],
            ['Verified value', (a) => impact(a.verified_value, r.unit), 'num'],
            ['Statement (SHA-256)', (a) => hashText(a.statement_sha256)],
            ['Block', (a) => blockLink(a.height), 'num'],
            ['Revoked', (a) => (a.revoked ? ['yes, in block ', blockLink(a.revoked_height), `: ${a.revoke_reason}`] : 'no')],
        ], r.attestations, 'not attested')),
        section('Disputes', table([
            ['Dispute', (d) => txLink(d.id)],
            ['Member', (d) => memberLink(d.member)],
            ['Reason', (d) => d.reason],
            ['Block', (d) => blockLink(d.height), 'num'],
        ], r.disputes, 'none (disputes never change what counts)')),
        verifySection(r.id),
    ];
}

// "Verify": the in-browser light client (./light.js) checks the report
// and its attestations against the validators of the genesis file the
// user gives, trusting no node -- this one included.
function verifySection(reportId) {
    const file = h('input', { type: 'file', id: 'genesis-file', accept: '.json,application/json' });
    const button = h('button', { type: 'button', id: 'verify-button', disabled: true }, 'Verify');
    const result = h('div', { id: 'verify-result', 'data-outcome': 'none' });
    file.onchange = () => { button.disabled = !file.files.length; };
    button.onclick = async () => {
        button.disabled = true;
        result.dataset.outcome = 'running';
        result.replaceChildren(h('p', {}, 'Checking…'));
        try {
            const genesis = await file.files[0].text();
            const r = await verifyImpact({ get, genesis, reportId });
            result.replaceChildren(...verifyOutcome(r));
            result.dataset.outcome = r.ok ? 'verified' : 'not-verified';
        } catch (e) {
            result.replaceChildren(h('p', { class: 'verdict bad' }, 'The check could not run: ', e.message));
            result.dataset.outcome = 'error';
        } finally {
            button.disabled = !file.files.length;
        }
    };
    return section('Verify, trusting no node',
        h('p', {}, 'Checks in this browser that the report and its attestations are in final blocks, ',
            'signed by more than two thirds of the validators, starting from the genesis file alone. ',
            'This node serves no genesis file (the API has no route for it, and a node could not be ',
            'trusted for it anyway): choose the chain\'s genesis.json, the one every member was given.'),
        h('p', { class: 'verify-form' }, h('label', { for: 'genesis-file' }, 'Genesis file: '), file, ' ', button),
        result);
}

function verifyOutcome(r) {
    const ok = (b) => h('span', { class: b ? 'good' : 'bad' }, b ? '✓' : '✗');
    return [
        h('p', { class: `verdict ${r.ok ? 'good' : 'bad'}` }, r.ok
            ? 'Verified: the report is final and attested, checked from the genesis file, trusting no node.'
            : ['NOT verified', r.reason ? `: ${r.reason}` : '']),
        dl([
            ['Chain', text(r.chain_id)],
            ['Final', yesNo(r.final)],
            ['Attested', yesNo(r.attested)],
            ['Proven at height', r.height ? blockLink(r.height) : '—'],
            ['Block time', r.time_ms ? new Date(Number(r.time_ms)).toISOString() : '—'],
            ['Block hash', hashText(r.block_hash)],
            ['App hash', hashText(r.app_hash)],
            ['Signed by', typeof r.signers === 'number' && r.validators
                ? `${r.signers} of ${r.validators} validators (the set followed from the genesis file)` : '—'],
        ]),
        h('h3', {}, 'Steps'),
        h('ol', { class: 'steps' }, (r.steps || []).map((s) =>
            h('li', { class: s.ok ? 'good' : 'bad' }, ok(s.ok), ' ', h('strong', {}, s.what), s.detail ? h('span', { class: 'detail' }, ` — ${s.detail}`) : null))),
        r.report ? h('details', {}, h('summary', {}, 'The proven report record'), h('pre', {}, pretty(r.report))) : null,
        r.attestations ? h('details', {}, h('summary', {}, 'The proven attestations'), h('pre', {}, pretty(r.attestations))) : null,
    ];
}

async function pageProjects(ctx) {
    const { projects } = await get('/v1/projects');
    ctx.title = 'Projects';
    return [
        h('h1', {}, 'Projects'),
        table([
            ['Id', (p) => projectLink(p.id)],
            ['City', (p) => memberLink(p.city)],
            ['Name', (p) => p.name],
            ['EU objectives', (p) => (p.eu_objectives || []).join(', ')],
            ['Total cost', (p) => money(p.total_cost, p.currency), 'num'],
            ['Instruments', (p) => joinNodes((p.instruments || []).map(instrumentLink))],
        ], projects, 'no project registered'),
    ];
}

async function pageProject(ctx, id) {
    const p = await get(`/v1/projects/${encodeURIComponent(id)}`);
    const m = (v) => money(v, p.currency);
    ctx.title = `${p.id}: ${p.name}`;
    const funder = (f) => (f.kind === 'instrument' ? instrumentLink(f.funder) : `${f.funder} (external)`);
    return [
        h('h1', {}, p.id), h('p', { class: 'lead' }, p.name),
        section('Project', dl([
            ['City', memberLink(p.city)],
            ['Location', text(p.location)],
            ['EU objectives', (p.eu_objectives || []).join(', ') || '—'],
            ['Taxonomy activity', text(p.taxonomy_activity)],
            ['NACE', text(p.nace)],
            ['SDGs', (p.sdgs || []).join(', ') || '—'],
            ['Total cost', m(p.total_cost)],
            ['Cost basis', m(p.cost_basis)],
            ['Allocated by instruments', m(p.allocated)],
            ['Funded externally', m(p.external)],
            ['Registered', p.register_tx ? ['by ', txLink(p.register_tx), ' in block ', blockLink(p.registered_height)] : '—'],
            ['Instruments', joinNodes((p.instruments || []).map(instrumentLink))],
        ])),
        section('Funders',
            (p.funders || []).length ? h('div', { class: 'charts' }, chart(ctx, `Funding (${p.currency})`, 'doughnut',
                p.funders.map((f) => f.funder),
                [{ label: 'amount', data: p.funders.map((f) => plotMoney(f.amount, p.currency)), exact: p.funders.map((f) => m(f.amount)) }])) : null,
            table([
                ['Funder', funder],
                ['Kind', (f) => f.kind],
                ['Amount', (f) => m(f.amount), 'num'],
                ['Share of cost basis', (f) => bps(f.share_bps), 'num'],
            ], p.funders, 'no funding yet')),
        section('External funding records', table([
            ['Transaction', (f) => (f.id ? txLink(f.id) : f.tx_id ? txLink(f.tx_id) : '—')],
            ['Source', (f) => text(f.source)],
            ['Programme', (f) => text(f.programme)],
            ['Amount', (f) => m(f.amount), 'num'],
            ['Date', (f) => text(f.date)],
            ['Reversed', (f) => yesNo(f.reversed)],
        ], p.fundings, 'none')),
        section('Impact', table([
            ['KPI', (k) => kpiLink(k.kpi)],
            ['Confirmed', (k) => impact(k.confirmed, k.unit), 'num'],
            ['Reports counted', (k) => String(k.reports_counted), 'num'],
            ['Attributed', (k) => joinNodes((k.attributed || []).map((a) => h('span', {}, funder(a), ': ', impact(a.attributed, k.unit)))), 'num'],
            ['Unattributed', (k) => impact(k.unattributed, k.unit), 'num'],
        ], p.kpis, 'no impact counted yet')),
    ];
}

async function pageMembers(ctx) {
    const { members } = await get('/v1/members');
    ctx.title = 'Members';
    return [
        h('h1', {}, 'Members'),
        table([
            ['Id', (x) => memberLink(x.id)],
            ['Kind', (x) => x.kind],
            ['Name', (x) => x.name],
            ['Country', (x) => x.country],
            ['Population', (x) => (x.population && x.population !== '0' ? count(x.population) : '—'), 'num'],
            ['Accounts', (x) => String(x.accounts.length), 'num'],
            ['Suspended', (x) => yesNo(x.suspended)],
        ], members),
    ];
}

async function pageMember(ctx, id) {
    const enc = encodeURIComponent(id);
    const [mb, mi, { instruments }] = await Promise.all([
        get(`/v1/members/${enc}`), get(`/v1/members/${enc}/impact`), get('/v1/instruments')]);
    const projects = mb.kind === 'CITY' ? (await get(`/v1/projects?city=${enc}`)).projects : [];
    ctx.title = `${mb.id}: ${mb.name}`;
    const issued = instruments.filter((i) => (i.co_issuers || []).some((c) => c.member === mb.id));
    const rows = mi.instruments.flatMap((i) => i.kpis.map((k) => ({ ...k, instrument: i.instrument, units: i.units, out: i.units_outstanding })));
    return [
        h('h1', {}, mb.name), h('p', { class: 'lead' }, `${mb.id} · ${mb.kind} · ${mb.country}`),
        section('Member', dl([
            ['Kind', mb.kind],
            ['LEI', text(mb.lei)],
            ['Population', mb.population && mb.population !== '0' ? `${count(mb.population)} inhabitants` : '—'],
            ['Admitted', mb.admitted_height ? ['in block ', blockLink(mb.admitted_height)] : 'at genesis'],
            ['Suspended', yesNo(mb.suspended)],
            mb.accredited_categories.length ? ['Accredited to verify', mb.accredited_categories.join(', ')] : null,
        ])),
        section('Accounts', table([
            ['Key', (a) => accountLink(a.pubkey)],
            ['Roles', (a) => a.roles.join(', ')],
            ['Nonce', (a) => String(a.nonce), 'num'],
            ['Revoked', (a) => yesNo(a.revoked)],
        ], mb.accounts)),
        issued.length ? section('Co-issued instruments', table([
            ['Instrument', (i) => instrumentLink(i.id)],
            ['Name', (i) => i.name],
            ['Share', (i) => bps(i.co_issuers.find((c) => c.member === mb.id).share_bps), 'num'],
            ['Status', (i) => i.status],
        ], issued)) : null,
        mb.kind === 'CITY' ? section('Projects', table([
            ['Project', (p) => projectLink(p.id)],
            ['Name', (p) => p.name],
            ['Total cost', (p) => money(p.total_cost, p.currency), 'num'],
        ], projects, 'no project registered')) : null,
        section('Impact attributed to its holdings', table([
            ['Instrument', (k) => instrumentLink(k.instrument)],
            ['Units held / outstanding', (k) => `${count(k.units)} / ${count(k.out)}`, 'num'],
            ['KPI', (k) => kpiLink(k.kpi)],
            ['Confirmed (instrument)', (k) => impact(k.attributed_to_instrument, k.unit), 'num'],
            ['Attributed', (k) => impact(k.attributed, k.unit), 'num'],
        ], rows, 'holds no instrument')),
    ];
}

async function pageValidators(ctx) {
    const [vs, ch] = await Promise.all([get('/v1/validators'), get('/v1/validators/changes')]);
    ctx.title = 'Validators';
    return [
        h('h1', {}, 'Validators'),
        section(`In force from height ${vs.height}`, dl([
            ['Total power', String(vs.total_power)],
            ['Set hash', hashText(vs.hash)],
        ]), table([
            ['Key', (v) => h('code', { class: 'wrap' }, v.pubkey)],
            ['Power', (v) => String(v.power), 'num'],
            ['Operator', (v) => memberLink(v.operator)],
        ], vs.validators)),
        section('Changes of the set', table([
            ['In force from block', (c) => blockLink(c.height), 'num'],
            ['Set hash', (c) => hashText(c.hash)],
        ], ch.changes)),
    ];
}

async function pageKpis(ctx) {
    const { kpis } = await get('/v1/kpis');
    ctx.title = 'KPIs';
    return [
        h('h1', {}, 'KPIs'),
        h('p', {}, 'The catalogue of key performance indicators impact is reported in; each compares the cities.'),
        table([
            ['Id', (k) => kpiLink(k.id)],
            ['Name', (k) => k.name],
            ['Unit', (k) => k.unit],
            ['Category', (k) => k.category],
            ['Better when', (k) => k.direction],
        ], kpis),
    ];
}

async function pageKpi(ctx, id) {
    const k = await get(`/v1/kpis/${encodeURIComponent(id)}/cities`);
    ctx.title = `${k.kpi} across cities`;
    const cities = k.cities || [];
    const m = (c, v) => money(v, c.currency);
    return [
        h('h1', {}, k.name), h('p', { class: 'lead' }, `${k.kpi} · ${k.unit} · better when ${k.direction}`),
        h('p', {}, k.period ? `Period: ${k.period.start} – ${k.period.end}` : 'Period: all of time'),
        cities.length ? h('div', { class: 'charts' },
            chart(ctx, `Confirmed impact (${k.unit})`, 'bar', cities.map((c) => c.city), [
                { label: 'confirmed', data: cities.map((c) => plot(c.confirmed)), exact: cities.map((c) => impact(c.confirmed, k.unit)) }], { unit: k.unit }),
            chart(ctx, `${k.unit} per 1,000 inhabitants`, 'bar', cities.map((c) => c.city), [
                { label: 'per 1,000 inhabitants', data: cities.map((c) => plot(c.per_1000_inhabitants)), exact: cities.map((c) => text(c.per_1000_inhabitants)) }], { unit: k.unit })) : null,
        table([
            ['City', (c) => memberLink(c.city)],
            ['Name', (c) => c.name],
            ['Population', (c) => (c.population && c.population !== '0' ? count(c.population) : '—'), 'num'],
            ['Projects', (c) => (Array.isArray(c.projects) ? joinNodes(c.projects.map((p) => projectLink(typeof p === 'string' ? p : p.id))) : text(c.projects))],
            ['Confirmed', (c) => impact(c.confirmed, k.unit), 'num'],
            ['Financed by instruments', (c) => m(c, c.financed_by_instruments), 'num'],
            ['Financed externally', (c) => m(c, c.financed_externally), 'num'],
            [`${k.unit} per million financed`, (c) => text(c.per_million_financed), 'num'],
            [`${k.unit} per 1,000 inhabitants`, (c) => text(c.per_1000_inhabitants), 'num'],
        ], cities, 'no city reports this KPI'),
    ];
}

// ----------------------------------------------------------------- router

const ID = '([A-Z0-9-]{3,40})', HEX = '([0-9a-f]{64})';
const routes = [
    [/^$/, pageHome],
    [/^block\/(\d{1,20})$/, pageBlock],
    [new RegExp(`^tx/${HEX}$`), pageTx],
    [new RegExp(`^account/${HEX}$`), pageAccount],
    [/^instruments$/, pageInstruments],
    [new RegExp(`^instrument/${ID}$`), pageInstrument],
    [new RegExp(`^instrument/${ID}/report/${HEX}$`), pageReport],
    [/^projects$/, pageProjects],
    [new RegExp(`^project/${ID}$`), pageProject],
    [/^members$/, pageMembers],
    [/^member\/([a-z0-9-]{2,40})$/, pageMember],
    [/^validators$/, pageValidators],
    [/^kpis$/, pageKpis],
    [/^kpi\/([A-Za-z0-9_.-]{1,64})$/, pageKpi],
];

const main = document.getElementById('main');
const banner = document.getElementById('banner');
let seq = 0;

function showTokenBanner() {
    banner.replaceChildren(h('strong', {}, 'This node needs an API token. '),
        'It is configured with [api] token, so every route but /v1/status answers 401 without ',
        '"Authorization: Bearer …", and this explorer sends none. Read from a node without a token ',
        '(the normal read-only setup), or ask its operator.');
    banner.hidden = false;
}

async function render() {
    const my = ++seq;
    const raw = location.hash.replace(/^#\/?/, '');
    for (const c of charts) c.destroy();
    charts = [];
    document.body.dataset.state = 'loading';
    main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    const ctx = { title: '', mount: [] };
    let nodes;
    try {
        const path = decodeURIComponent(raw);
        const route = routes.find(([re]) => re.test(path));
        if (!route) throw new Error(`no page '#/${path}' in the explorer`);
        nodes = await route[1](ctx, ...path.match(route[0]).slice(1));
    } catch (e) {
        if (my !== seq) return;
        if (e.status === 401) showTokenBanner();
        document.title = 'error · esgledger explorer';
        main.replaceChildren(h('h1', {}, 'Cannot show this page'),
            h('p', { class: 'error' }, e.message),
            h('p', {}, link('#/', 'Back to the chain')));
        document.body.dataset.state = 'error';
        return;
    }
    if (my !== seq) return;
    document.title = `${ctx.title} · esgledger explorer`;
    main.replaceChildren(...[nodes].flat(Infinity).filter(Boolean));
    for (const f of ctx.mount) f();
    window.scrollTo(0, 0);
    document.body.dataset.state = 'ready';
}

window.addEventListener('hashchange', render);
render();
