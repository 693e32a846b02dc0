import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON-lines logger; `err` values keep their stack so operators can debug what clients never see. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'audited-graphql-api' } });
}
