// The dashboard: plain browser JavaScript over the public API (GraphQL over HTTP, the graphql-ws
// live feed, GET /audit/export), with the admin's token kept in this tab only (sessionStorage).
import { createClient } from '/dashboard/vendor/graphql-ws/client.js';
import uPlot from '/dashboard/vendor/uplot/uPlot.esm.js';

const DAY_MS = 86_400_000;
// Red is kept for break-glass and denials.
const COLOURS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d', '#0f766e'];
const ALERT = '#dc2626';
const FEED_ROWS = 50;

const $ = (selector) => document.querySelector(selector);
const token = () => sessionStorage.getItem('audit-dashboard-token') ?? '';
const status = (text) => ($('#status').textContent = text);

async function graphql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((error) => error.message).join('; '));
  return body.data;
}

/** Text of a cell: nothing the API returns is ever parsed as HTML. */
function row(cells, className) {
  const tr = document.createElement('tr');
  if (className) tr.className = className;
  for (const cell of cells) tr.appendChild(document.createElement('td')).textContent = cell ?? '—';
  return tr;
}

/**
 * Stacked bars of `series` (counts by key, then by bucket start) over `buckets` (ISO starts), drawn
 * by uPlot with time and count axes and a legend that shows each key's count at the hovered bucket,
 * and the same numbers in a table beneath, for screen readers and for copying. `colourOf` may
 * choose a key's colour (break-glass in red).
 */
function stackedBars(container, buckets, series, { unit, colourOf = () => undefined } = {}) {
  const keys = Object.keys(series).sort();
  const colour = (key, index) => colourOf(key) ?? COLOURS[index % COLOURS.length];
  const counts = keys.map((key) => buckets.map((bucket) => series[key][bucket] ?? 0));
  // uPlot draws series in order, each bar from 0: the running totals, tallest first, make a stack.
  const totals = counts.map((_, index) => buckets.map((__, at) => counts.slice(0, index + 1).reduce((sum, row) => sum + row[at], 0)));
  const order = keys.map((_, index) => index).reverse();
  const chart = document.createElement('div');
  const width = Math.max(320, container.clientWidth || 600);
  new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { label: unit, size: 50 }],
      series: [
        { label: 'From', value: (_u, seconds) => (seconds == null ? '—' : new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')) },
        ...order.map((index) => ({
          label: keys[index],
          stroke: colour(keys[index], index),
          fill: colour(keys[index], index),
          paths: uPlot.paths.bars({ size: [0.8, 40] }),
          points: { show: false },
          // The legend shows the key's own count at the hovered bucket, not the running total.
          value: (_u, _total, _series, at) => (at == null ? '—' : String(counts[index][at])),
        })),
      ],
      legend: { live: true },
    },
    [buckets.map((bucket) => Date.parse(bucket) / 1000), ...order.map((index) => totals[index])],
    chart,
  );
  container.replaceChildren(chart, dataTable(buckets, keys, counts));
}

/** The chart's numbers as a table (non-zero counts), folded under "Data". */
function dataTable(buckets, keys, counts) {
  const details = document.createElement('details');
  details.appendChild(document.createElement('summary')).textContent = 'Data';
  const table = details.appendChild(document.createElement('table'));
  const head = table.appendChild(document.createElement('thead')).appendChild(document.createElement('tr'));
  for (const title of ['From', 'Key', 'Count']) head.appendChild(document.createElement('th')).textContent = title;
  const body = table.appendChild(document.createElement('tbody'));
  buckets.forEach((bucket, at) => keys.forEach((key, index) => counts[index][at] > 0 && body.appendChild(row([bucket.slice(0, 16), key, String(counts[index][at])]))));
  return details;
}

/** Every bucket start from `from` to now, `stepMs` apart, as the API writes them (ISO, UTC). */
function bucketsFrom(from, stepMs) {
  const starts = [];
  for (let time = from.getTime(); time <= Date.now(); time += stepMs) starts.push(new Date(time).toISOString());
  return starts;
}

async function perDay() {
  const from = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 29 * DAY_MS);
  const data = await graphql(
    'query PerDay($from: DateTimeISO!) { auditStats(filter: { from: $from }, groupBy: [ACTION], bucket: DAY, order: TIME_ASC, first: 1000) { buckets { bucketStart count keys { action } } } }',
    { from },
  );
  const series = {};
  for (const bucket of data.auditStats.buckets) (series[bucket.keys.action] ??= {})[new Date(bucket.bucketStart).toISOString()] = bucket.count;
  stackedBars($('[data-chart="per-day"]'), bucketsFrom(from, DAY_MS), series, { unit: 'events per day' });
}

async function denied() {
  const from = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 47 * 3_600_000);
  const data = await graphql(
    'query Denied($from: DateTimeISO!) { auditStats(filter: { from: $from, outcome: DENIED }, groupBy: [], bucket: HOUR, order: TIME_ASC, first: 1000) { buckets { bucketStart count } } }',
    { from },
  );
  const series = { denied: {} };
  for (const bucket of data.auditStats.buckets) series.denied[new Date(bucket.bucketStart).toISOString()] = bucket.count;
  stackedBars($('[data-chart="denied"]'), bucketsFrom(from, 3_600_000), series, { unit: 'denied per hour', colourOf: () => ALERT });
}

/** The break-glass code the trail's rows carry (learnt from a flagged row), so the reasons chart can mark it. */
let breakGlassCode;

async function breakGlass() {
  const data = await graphql(
    'query BreakGlass { auditLogs(filter: { breakGlass: true, adminBypass: true }, first: 20) { nodes { timestamp userId action resourceType resourceId resourceIds accessReason { code reference } } } }',
  );
  const entries = data.auditLogs.nodes;
  breakGlassCode = entries[0]?.accessReason.code ?? breakGlassCode;
  $('#break-glass tbody').replaceChildren(
    ...entries.map((entry) => {
      const records = entry.resourceId ? [entry.resourceId] : entry.resourceIds;
      return row([entry.timestamp, entry.userId, entry.action, records.join(' '), entry.accessReason.reference], 'break-glass');
    }),
  );
}

async function byReason() {
  // Counts by reason come from the daily rollups: the range starts at a midnight (UTC).
  const from = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 29 * DAY_MS);
  const data = await graphql(
    'query ByReason($from: DateTimeISO!) { auditStats(filter: { from: $from, adminBypass: true }, groupBy: [ACCESS_REASON], bucket: DAY, order: TIME_ASC, first: 1000) { buckets { bucketStart count keys { accessReason } } } }',
    { from },
  );
  const series = {};
  for (const bucket of data.auditStats.buckets) (series[bucket.keys.accessReason ?? '(no reason)'] ??= {})[new Date(bucket.bucketStart).toISOString()] = bucket.count;
  stackedBars($('[data-chart="by-reason"]'), bucketsFrom(from, DAY_MS), series, {
    unit: 'accesses per day',
    colourOf: (key) => (key === breakGlassCode ? ALERT : undefined),
  });
}

async function topAdmins() {
  // Counts by user are kept per day: the range starts at a midnight (UTC).
  const from = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 29 * DAY_MS);
  const data = await graphql(
    'query TopAdmins($from: DateTimeISO!) { auditStats(filter: { from: $from, adminBypass: true }, groupBy: [USER_ID], order: COUNT_DESC, first: 10) { buckets { count keys { userId } } } }',
    { from },
  );
  $('#top-admins tbody').replaceChildren(...data.auditStats.buckets.map((bucket) => row([bucket.keys.userId, String(bucket.count)])));
}

async function whoAccessed(itemId) {
  const data = await graphql(
    'query ItemHistory($id: ID!) { auditLogs(filter: { resourceType: "item", resourceId: $id }, first: 50) { nodes { timestamp userId action outcome } } }',
    { id: itemId },
  );
  $('#item tbody').replaceChildren(...data.auditLogs.nodes.map((entry) => row([entry.timestamp, entry.userId, entry.action, entry.outcome], entry.outcome === 'DENIED' ? 'denied' : '')));
}

let feed;
function liveFeed() {
  feed?.dispose();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  feed = createClient({ url, connectionParams: { authorization: `Bearer ${token()}` } });
  feed.subscribe(
    {
      query:
        'subscription Feed { auditLogAdded(filter: { excludeActions: ["view_audit_logs"] }) { cursor node { timestamp userId action resourceType resourceId outcome } } }',
    },
    {
      next: ({ data, errors }) => {
        if (errors) return status(errors.map((error) => error.message).join('; '));
        const entry = data.auditLogAdded.node;
        const body = $('#feed tbody');
        body.prepend(row([entry.timestamp, entry.userId, entry.action, entry.resourceId ? `${entry.resourceType} ${entry.resourceId}` : entry.resourceType, entry.outcome], entry.outcome === 'DENIED' ? 'denied' : ''));
        while (body.rows.length > FEED_ROWS) body.lastElementChild.remove();
      },
      error: () => status('The live feed stopped; press Use to reconnect.'),
      complete: () => {},
    },
  );
}

/** Downloads an export: a plain link cannot carry the Authorization header, so it goes through fetch. */
async function exportTrail(from, to, format) {
  const response = await fetch(`/audit/export?${new URLSearchParams({ from, to, format })}`, { headers: { authorization: `Bearer ${token()}` } });
  if (!response.ok) throw new Error((await response.json()).errors?.[0]?.message ?? `HTTP ${response.status}`);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `audit-logs.${format}`;
  link.click();
  URL.revokeObjectURL(link.href);
  status(`Exported ${response.headers.get('x-audit-rows')} rows.`);
}

/** Loads every panel; a panel that fails says why in its place, the others still show. */
async function refresh() {
  if (!token()) return status('Paste an admin token to begin.');
  status('');
  liveFeed();
  const panels = [
    ['#per-day .chart', perDay],
    ['#denied .chart', denied],
    // The break-glass rows first: they tell the reasons chart which code to mark.
    ['#by-reason .chart', () => breakGlass().then(byReason)],
    ['#top-admins tbody', topAdmins],
  ];
  await Promise.all(
    panels.map(([where, load]) =>
      load().catch((error) => {
        const message = document.createElement('p');
        message.className = 'denied';
        message.textContent = error.message;
        $(where).replaceChildren(message);
      }),
    ),
  );
}

const guarded = (work) => (event) => {
  event.preventDefault();
  work().catch((error) => status(error.message));
};

$('#token-form').addEventListener('submit', guarded(async () => {
  sessionStorage.setItem('audit-dashboard-token', $('#token').value.trim().replace(/^Bearer\s+/i, ''));
  await refresh();
}));
$('#item-form').addEventListener('submit', guarded(() => whoAccessed($('#item-id').value.trim())));
$('#export-form').addEventListener('submit', guarded(() => exportTrail($('#export-from').value, $('#export-to').value, $('#export-format').value)));
$('#export-to').value = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
$('#export-from').value = new Date(Date.now() - 7 * DAY_MS).toISOString().slice(0, 10);
$('#token').value = token();
refresh();
