import { ConfigError, nonEmpty } from './settings';

/**
 * When an admin must state why they access records they do not own: `off` takes no reasons (the
 * `Access-Reason` header is ignored), `optional` records one when given, `required` refuses such
 * access without one.
 */
export type AccessReasonMode = 'off' | 'optional' | 'required';

/** Which reasons a request may state, and whether admins must. */
export interface AccessReasonPolicy {
  /**
   * @defaultValue `required` in production, `optional` otherwise (`ADMIN_ACCESS_REASON`)
   */
  readonly mode: AccessReasonMode;
  /**
   * The codes a reason may start with, the break-glass code always among them.
   * @defaultValue `support`, `incident`, `legal`, `fraud`, `break-glass` (`ACCESS_REASON_CODES`)
   */
  readonly codes: ReadonlySet<string>;
  /**
   * The code for emergency access: always accepted, and its rows flagged and counted so an alert can page someone.
   * @defaultValue `break-glass` (`ACCESS_REASON_BREAK_GLASS_CODE`)
   */
  readonly breakGlassCode: string;
}

export const DEFAULT_ACCESS_REASON_CODES = ['support', 'incident', 'legal', 'fraud', 'break-glass'] as const;

/** A reason code: short, lowercase, nothing a log or CSV reader could trip over. */
export const ACCESS_REASON_CODE = /^[a-z][a-z0-9_-]{0,39}$/;

const MODES: readonly AccessReasonMode[] = ['off', 'optional', 'required'];

export function parseAccessReasonPolicy(env: NodeJS.ProcessEnv, production: boolean): AccessReasonPolicy {
  const mode = (nonEmpty(env.ADMIN_ACCESS_REASON)?.toLowerCase() ?? (production ? 'required' : 'optional')) as AccessReasonMode;
  if (!MODES.includes(mode)) throw new ConfigError(`ADMIN_ACCESS_REASON must be one of ${MODES.join(', ')}, got "${env.ADMIN_ACCESS_REASON}"`);
  const code = (name: string, value: string) => {
    if (!ACCESS_REASON_CODE.test(value)) {
      throw new ConfigError(`${name} must hold codes of lowercase letters, digits, _ and - (up to 40, starting with a letter), got "${value}"`);
    }
    return value;
  };
  const breakGlassCode = code('ACCESS_REASON_BREAK_GLASS_CODE', nonEmpty(env.ACCESS_REASON_BREAK_GLASS_CODE) ?? 'break-glass');
  const listed = nonEmpty(env.ACCESS_REASON_CODES)
    ?.split(',')
    .map((value) => value.trim())
    .filter(Boolean)
    .map((value) => code('ACCESS_REASON_CODES', value));
  return { mode, codes: new Set([...(listed ?? DEFAULT_ACCESS_REASON_CODES), breakGlassCode]), breakGlassCode };
}

/**
 * What an owner's access log (`myDataAccess`) says of the admin who accessed their data: the
 * admin's user id, or only their role (`ADMIN`), for teams that keep staff identities from customers.
 */
export interface AccessLogPolicy {
  /** @defaultValue `role` (`ACCESS_LOG_SHOWS_ADMIN`) */
  readonly showsAdmin: 'id' | 'role';
}

export function parseAccessLogPolicy(env: NodeJS.ProcessEnv): AccessLogPolicy {
  const showsAdmin = nonEmpty(env.ACCESS_LOG_SHOWS_ADMIN)?.toLowerCase() ?? 'role';
  if (showsAdmin !== 'id' && showsAdmin !== 'role') throw new ConfigError(`ACCESS_LOG_SHOWS_ADMIN must be id or role, got "${env.ACCESS_LOG_SHOWS_ADMIN}"`);
  return { showsAdmin };
}
