// The dashboard: plain browser JavaScript over the public API (GraphQL over HTTP, the graphql-ws
// live feed, GET /audit/export), with the admin's token kept in this tab only (sessionStorage).
import { createClient } from '/dashboard/vendor/graphql-ws/client.js';

const DAY_MS = 86_400_000;
const COLOURS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];
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

/** Bars of `series` (one per key, stacked) over `buckets` (ISO starts), as SVG. */
function barChart(container, buckets, series) {
  const keys = Object.keys(series);
  const totals = buckets.map((bucket) => keys.reduce((sum, key) => sum + (series[key][bucket] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const width = 600;
  const height = 160;
  const barWidth = width / Math.max(1, buckets.length);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 20}`);
  buckets.forEach((bucket, index) => {
    let y = height;
    keys.forEach((key, keyIndex) => {
      const count = series[key][bucket] ?? 0;
      if (count === 0) return;
      const barHeight = (count / max) * height;
      y -= barHeight;
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      Object.entries({ x: index * barWidth + 1, y, width: Math.max(1, barWidth - 2), height: barHeight, fill: COLOURS[keyIndex % COLOURS.length] }).forEach(([name, value]) => rect.setAttribute(name, value));
      rect.dataset.key = key;
      rect.dataset.count = count;
      rect.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'title')).textContent = `${bucket.slice(0, 16)} ${key}: ${count}`;
      svg.appendChild(rect);
    });
  });
  const legend = document.createElement('div');
  legend.className = 'legend';
  keys.forEach((key, keyIndex) => {
    const span = legend.appendChild(document.createElement('span'));
    span.style.setProperty('--colour', COLOURS[keyIndex % COLOURS.length]);
    span.textContent = key;
  });
  container.replaceChildren(svg, legend);
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
  barChart($('[data-chart="per-day"]'), bucketsFrom(from, DAY_MS), series);
}

async function denied() {
  const from = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 47 * 3_600_000);
  const data = await graphql(
    'query Denied($from: DateTimeISO!) { auditStats(filter: { from: $from, outcome: DENIED }, groupBy: [], bucket: HOUR, order: TIME_ASC, first: 1000) { buckets { bucketStart count } } }',
    { from },
  );
  const series = { denied: {} };
  for (const bucket of data.auditStats.buckets) series.denied[new Date(bucket.bucketStart).toISOString()] = bucket.count;
  barChart($('[data-chart="denied"]'), bucketsFrom(from, 3_600_000), series);
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
