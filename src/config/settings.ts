import { parseDuration } from './duration';

/** A setting that makes the server refuse to start; its message is one line meant for operators. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/*
 * Readers of one environment variable each: unset or blank gives the default; anything else out of
 * range is a {@link ConfigError} naming the variable.
 */

/** The value, trimmed; `undefined` when unset or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}

export function parseInteger(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (nonEmpty(value) === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** A duration setting (`90`, `90s`, `30m`, `8h`, `1d`), in seconds. */
export function parseDurationSetting(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (nonEmpty(value) === undefined) return fallback;
  const seconds = parseDuration(value!);
  if (seconds === undefined || seconds < min || seconds > max) {
    throw new ConfigError(`${name} must be a duration from ${min}s to ${max}s (e.g. 30s, 15m, 8h, 1d), got "${value}"`);
  }
  return seconds;
}

/** A PostgreSQL timeout in milliseconds: 0 turns it off, 2^31 - 1 (about 24 days) is the most it takes. */
export function parseMilliseconds(name: string, env: NodeJS.ProcessEnv, fallback: number): number {
  return parseInteger(name, env[name], fallback, 0, 2_147_483_647);
}

export function parseBoolean(name: string, value: string | undefined): boolean {
  const normalized = nonEmpty(value)?.toLowerCase();
  if (normalized === undefined || normalized === 'false' || normalized === '0') return false;
  if (normalized === 'true' || normalized === '1') return true;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}
