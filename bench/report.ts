import os from 'node:os';
import type { SealAndVerify, SealLag } from './integrity';
import type { Comparison, RunStats } from './load';
import type { MicroResult } from './micro';
import type { Scenario } from './scenarios';

/** The 1, 5 and 15 minute load averages: above the core count, something else competes for the CPU. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** The machine the numbers were taken on. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${gib} GiB, ${os.type()} ${os.release()}, Node ${process.version} (load average at start: ${loadAverage()})`;
}

const number = (value: number, digits = 1) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** `req/s, p50, p99` of one run or one side's medians. */
export function formatRun(stats: RunStats): string {
  const cpu =
    (stats.serverCpuMsPerRequest === undefined ? '' : `   server CPU ${number(stats.serverCpuMsPerRequest, 2).padStart(6)} ms/req`) +
    (stats.databaseCpuMsPerRequest === undefined ? '' : `   database CPU ${number(stats.databaseCpuMsPerRequest, 2).padStart(6)} ms/req`);
  return `${number(stats.requestsPerSecond).padStart(9)} req/s   p50 ${number(stats.p50Ms, 2).padStart(7)} ms   p99 ${number(stats.p99Ms, 2).padStart(7)} ms${cpu}`;
}

/** `PASS` when the ON/OFF ratio reaches the scenario's target. */
export function verdict(scenario: Scenario, ratio: number): 'PASS' | 'MISS' {
  return ratio >= scenario.target ? 'PASS' : 'MISS';
}

/** The lines that close a scenario: medians of both sides, the ratio and the verdict. */
export function formatComparison(scenario: Scenario, comparison: Comparison): string[] {
  return [
    `  median ${comparison.off.label.padEnd(9)} ${formatRun(comparison.off)}   (${comparison.off.requests.toLocaleString('en-US')} requests)`,
    `  median ${comparison.on.label.padEnd(9)} ${formatRun(comparison.on)}   (${comparison.on.requests.toLocaleString('en-US')} requests)`,
    `  ratio ON/OFF ${number(comparison.ratio, 3)}  (per round: ${comparison.roundRatios.map((ratio) => number(ratio, 3)).join(', ')})` +
      `  target >= ${number(scenario.target, 2)}  ${verdict(scenario, comparison.ratio)}`,
  ];
}

/** Fields of a P1 page: 100 items of 6 fields. */
const FIELDS_PER_PAGE = 600;

/** The micro-benchmark as an aligned table. */
export function formatMicro(results: readonly MicroResult[]): string[] {
  const width = Math.max(...results.map((result) => result.label.length));
  return [
    `  ${'variant'.padEnd(width)}   µs/execution   ns/field   +ns/field   +ms per 100-item page`,
    ...results.map(
      (result) =>
        `  ${result.label.padEnd(width)}   ${number(result.nsPerExecution / 1000).padStart(12)}   ${number(result.nsPerField).padStart(8)}` +
        `   ${number(result.overheadNsPerField).padStart(9)}   ${number(pageOverheadMs(result), 2).padStart(21)}`,
    ),
  ];
}

function pageOverheadMs(result: MicroResult): number {
  return (result.overheadNsPerField * FIELDS_PER_PAGE) / 1e6;
}

/** Everything worth pasting into the README, as markdown. */
export function markdownSummary(options: {
  machine: string;
  database: string;
  command: string;
  results: readonly { scenario: Scenario; comparison: Comparison }[];
  micro: readonly MicroResult[];
  sealing?: { lag: SealLag; verify: SealAndVerify };
}): string[] {
  const sealing = options.sealing;
  const offToOn = (off: number | undefined, on: number | undefined) =>
    off === undefined || on === undefined ? 'n/a' : `${number(off, 1)} → ${number(on, 1)}`;
  return [
    '| Scenario | OFF req/s | ON req/s | ON/OFF (rounds) | target | | p50 ms OFF → ON | p99 ms OFF → ON | server CPU ms/req OFF → ON | database CPU ms/req OFF → ON |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
    ...options.results.map(
      ({ scenario, comparison: { on, off, ratio, roundRatios } }) =>
        `| ${scenario.id}: ${scenario.title} | ${number(off.requestsPerSecond, 0)} | ${number(on.requestsPerSecond, 0)} | ` +
        `${number(ratio, 2)} (${number(Math.min(...roundRatios), 2)}–${number(Math.max(...roundRatios), 2)}) | ≥ ${number(scenario.target, 2)} | ${verdict(scenario, ratio)} | ${offToOn(off.p50Ms, on.p50Ms)} | ` +
        `${offToOn(off.p99Ms, on.p99Ms)} | ${offToOn(off.serverCpuMsPerRequest, on.serverCpuMsPerRequest)} | ${offToOn(off.databaseCpuMsPerRequest, on.databaseCpuMsPerRequest)} |`,
    ),
    ...(sealing
      ? [
          '',
          '| Sealing | figure | target |',
          '| --- | ---: | ---: |',
          `| seal lag p50 / p99 / max (row written → sealed, P4's ${sealing.lag.rows.toLocaleString('en-US')} rows) | ${number(sealing.lag.p50Seconds, 2)} / ${number(sealing.lag.p99Seconds, 2)} / ${number(sealing.lag.maxSeconds, 2)} s | p99 ≤ 2 s |`,
          `| sealing ${sealing.verify.rows.toLocaleString('en-US')} rows in seals of 2,000 | ${number(sealing.verify.sealRowsPerSecond, 0)} rows/s | |`,
          `| audit:verify of the whole trail (${sealing.verify.verifiedRows.toLocaleString('en-US')} rows) | ${number(sealing.verify.verifyRowsPerSecond, 0)} rows/s | ≥ 100,000 rows/s |`,
        ]
      : []),
    '',
    '| In-process `graphql.execute`, 1,000 items × 6 fields | ns/field | + ns/field | + ms per 100-item page |',
    '| --- | ---: | ---: | ---: |',
    ...options.micro.map(
      (result) => `| ${result.label} | ${number(result.nsPerField)} | ${number(result.overheadNsPerField)} | ${number(pageOverheadMs(result), 2)} |`,
    ),
    '',
    `Measured with \`${options.command}\` on ${options.machine}; ${options.database}.`,
  ];
}
