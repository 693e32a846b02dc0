import pino, { type DestinationStream, type Logger } from 'pino';
import { serializeError } from './error-serializer';

export type { Logger };

/**
 * JSON-lines logger, on stdout unless given `destination`; `err` values keep their stack so
 * operators can debug what clients never see, but never the data a database error quotes.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'audited-graphql-api' }, serializers: { err: serializeError } }, destination);
}
