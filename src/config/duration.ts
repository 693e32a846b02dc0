const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/**
 * Seconds in a duration written as a whole number with an optional unit: `90` or `90s`, `30m`,
 * `8h`, `1d`. Returns `undefined` for anything else, so callers can name the setting at fault.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]{1,9})\s*([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS];
}
