import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { cpuBetween, type CpuByProcess } from './database-cpu';
import { median, percentile } from './stats';

/** What a load run sends, and what counts as a good answer. */
export interface LoadProfile {
  /** Headers and body of the next POST to `/graphql`; they may change from request to request. */
  nextRequest(): { headers: Record<string, string>; body: string };
  /** True when a response body is the success the scenario expects (no GraphQL `errors`). */
  isSuccess(body: string): boolean;
}

/** How hard and how long to push, and how to interleave the two sides. */
export interface LoadPlan {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
}

/** One run against one server. */
export interface RunStats {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** CPU time of the API server process per request, when the platform reports it. */
  readonly serverCpuMsPerRequest: number | undefined;
  /** CPU time of the PostgreSQL backends serving the target's database per request, when they run here. */
  readonly databaseCpuMsPerRequest: number | undefined;
}

/** One side's runs and their medians. */
export interface SideStats extends RunStats {
  readonly label: string;
  readonly runs: readonly RunStats[];
}

/** Both sides measured in alternating rounds. */
export interface Comparison {
  readonly on: SideStats;
  readonly off: SideStats;
  /** Median ON throughput over median OFF throughput. */
  readonly ratio: number;
  /** ON over OFF within each round, to show how much the ratio moves. */
  readonly roundRatios: readonly number[];
}

/** A load run in which some request failed: the benchmark is broken, not slow. */
export class LoadFailure extends Error {
  override readonly name = 'LoadFailure';
}

/** A target the load is sent to. */
export interface LoadTarget {
  readonly label: string;
  readonly url: string;
  /** CPU seconds the server has used so far, if known. */
  cpuSeconds?(): number | undefined;
  /** CPU seconds so far of the database backends serving it, by process, if they run here. */
  databaseCpu?(): CpuByProcess;
}

/** Pause between runs so one side's in-flight work does not spill into the other's run. */
const SETTLE_MS = 500;

/**
 * Runs autocannon (pipelining 1) against `target` for `seconds` and measures every response's
 * latency itself, to fractions of a millisecond. Throws {@link LoadFailure} if any request
 * errored, timed out, got a non-2xx status or a body `profile` does not accept.
 */
export async function runLoad(target: LoadTarget, profile: LoadProfile, connections: number, seconds: number): Promise<RunStats> {
  const latencies: number[] = [];
  let firstBadBody: string | undefined;
  let firstError: string | undefined;
  const cpuBefore = target.cpuSeconds?.();
  const databaseCpuBefore = target.databaseCpu?.();
  const instance = autocannon({
    url: `${target.url}/graphql`,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    // autocannon calls setupRequest before every send, so each request can differ.
    requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...profile.nextRequest() }) }],
    verifyBody: profile.isSuccess,
  });
  instance.on('response', (_client, _status, _bytes, responseTimeMs) => latencies.push(responseTimeMs));
  instance.on('reqMismatch', (body) => (firstBadBody ??= body));
  instance.on('reqError', (error) => (firstError ??= error.message));
  const result = await instance;
  const cpuAfter = target.cpuSeconds?.();
  const databaseCpuAfter = target.databaseCpu?.();

  const failed = result.errors + result.timeouts + result.non2xx + result.mismatches;
  if (failed > 0 || latencies.length === 0) {
    throw new LoadFailure(
      `${target.label}: ${failed} failed of ${latencies.length} responses ` +
        `(errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}, unexpected bodies ${result.mismatches})` +
        (firstError ? `; first error: ${firstError}` : '') +
        (firstBadBody ? `; first unexpected body: ${firstBadBody.slice(0, 300)}` : ''),
    );
  }
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / result.duration,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    requests: latencies.length,
    serverCpuMsPerRequest:
      cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / latencies.length,
    databaseCpuMsPerRequest:
      databaseCpuBefore === undefined || databaseCpuAfter === undefined || databaseCpuAfter.size === 0
        ? undefined
        : (cpuBetween(databaseCpuBefore, databaseCpuAfter) * 1000) / latencies.length,
  };
}

/**
 * Measures `on` against `off` fairly on a small machine: a warm-up of each, then `rounds` short
 * runs per side, alternating which side goes first, so drift, background work and thermal
 * effects fall on both. Compares medians. `report` hears about every measured run.
 */
export async function compareSideBySide(
  sides: { on: LoadTarget; off: LoadTarget },
  profile: LoadProfile,
  plan: LoadPlan,
  report: (round: number, target: LoadTarget, stats: RunStats) => void,
): Promise<Comparison> {
  for (const target of [sides.on, sides.off]) {
    await runLoad(target, profile, plan.connections, plan.warmupSeconds);
    await sleep(SETTLE_MS);
  }
  const runs = new Map<LoadTarget, RunStats[]>([
    [sides.on, []],
    [sides.off, []],
  ]);
  for (let round = 1; round <= plan.rounds; round++) {
    const order = round % 2 === 1 ? [sides.on, sides.off] : [sides.off, sides.on];
    for (const target of order) {
      const stats = await runLoad(target, profile, plan.connections, plan.roundSeconds);
      runs.get(target)!.push(stats);
      report(round, target, stats);
      await sleep(SETTLE_MS);
    }
  }
  const on = summarize(sides.on, runs.get(sides.on)!);
  const off = summarize(sides.off, runs.get(sides.off)!);
  return {
    on,
    off,
    ratio: on.requestsPerSecond / off.requestsPerSecond,
    roundRatios: on.runs.map((run, index) => run.requestsPerSecond / off.runs[index]!.requestsPerSecond),
  };
}

function summarize(target: LoadTarget, runs: RunStats[]): SideStats {
  return {
    label: target.label,
    runs,
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    serverCpuMsPerRequest: medianOfAll(runs.map((run) => run.serverCpuMsPerRequest)),
    databaseCpuMsPerRequest: medianOfAll(runs.map((run) => run.databaseCpuMsPerRequest)),
  };
}

/** The median of `values`, if every run reported one. */
const medianOfAll = (values: readonly (number | undefined)[]) =>
  values.every((value) => value !== undefined) ? median(values as number[]) : undefined;
