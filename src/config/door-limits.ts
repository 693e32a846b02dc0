import { parseDurationSetting, parseInteger } from './settings';

/**
 * How much one caller, and one process, may ask of the API through any door (HTTP `/graphql`,
 * `/audit/export`, the WebSocket feed). Every refusal is recorded, but as one summary row per
 * caller, limit and window with a count, so a flood cannot grow the trail faster than the limits.
 */
export interface RateLimits {
  /**
   * The window the counts below are per, in seconds.
   * @defaultValue 10 (`RATE_LIMIT_WINDOW`, a duration such as `10s` or `1m`)
   */
  readonly windowSeconds: number;
  /**
   * Requests (an HTTP request, a WebSocket connection or subscription) one signed-in caller (token
   * `sub`) may make per window. Admins are limited too: their reads are the dangerous ones.
   * 0 turns the limit off.
   * @defaultValue 1000 (`RATE_LIMIT_PER_CALLER`): 100 a second
   */
  readonly perCaller: number;
  /**
   * Requests per window from one client address without a valid token. Anonymous callers can do
   * nothing but be refused, and each refusal is a row, so this is the bound on what a stranger
   * adds to the trail. 0 turns the limit off.
   * @defaultValue 30 (`RATE_LIMIT_ANONYMOUS`): 3 a second
   */
  readonly perAnonymousAddress: number;
  /**
   * Requests per window this process serves, whoever sends them: what is left for everyone when
   * many callers flood at once. 0 turns the limit off.
   * @defaultValue 20000 (`RATE_LIMIT_PER_PROCESS`): 2,000 a second
   */
  readonly perProcess: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { windowSeconds: 10, perCaller: 1000, perAnonymousAddress: 30, perProcess: 20_000 };

/** Bounds of the graphql-ws door (the live feeds), which HTTP's limits do not reach. */
export interface WebSocketLimits {
  /**
   * The largest WebSocket message accepted, in bytes; a larger one closes the connection (1009)
   * before it is buffered. `GRAPHQL_MAX_TOKENS` tokens fit in far less.
   * @defaultValue 65536 (`WS_MAX_PAYLOAD`)
   */
  readonly maxPayloadBytes: number;
  /**
   * How long a new connection may wait before sending `connection_init` (closed 4408 after).
   * @defaultValue 3000 (`WS_CONNECTION_INIT_TIMEOUT_MS`)
   */
  readonly connectionInitTimeoutMs: number;
  /**
   * Subscriptions open at once on one connection.
   * @defaultValue 20 (`WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`)
   */
  readonly maxSubscriptionsPerConnection: number;
  /**
   * Subscriptions open at once in this process, over every connection.
   * @defaultValue 1000 (`WS_MAX_SUBSCRIPTIONS`)
   */
  readonly maxSubscriptions: number;
  /**
   * How often a connection's token is verified again, besides at its expiry and at each new
   * subscription: with `JWKS_URL`, a key the identity provider withdrew ends the connection within
   * this plus `JWKS_CACHE_MAX_AGE`.
   * @defaultValue 60 (`WS_TOKEN_RECHECK_INTERVAL`, a duration)
   */
  readonly tokenRecheckSeconds: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  maxPayloadBytes: 65_536,
  connectionInitTimeoutMs: 3_000,
  maxSubscriptionsPerConnection: 20,
  maxSubscriptions: 1_000,
  tokenRecheckSeconds: 60,
};

/** The rate limits from `RATE_LIMIT_*`. */
export function parseRateLimits(env: NodeJS.ProcessEnv): RateLimits {
  return {
    windowSeconds: parseDurationSetting('RATE_LIMIT_WINDOW', env.RATE_LIMIT_WINDOW, DEFAULT_RATE_LIMITS.windowSeconds, 1, 3600),
    perCaller: parseInteger('RATE_LIMIT_PER_CALLER', env.RATE_LIMIT_PER_CALLER, DEFAULT_RATE_LIMITS.perCaller, 0, 10_000_000),
    perAnonymousAddress: parseInteger('RATE_LIMIT_ANONYMOUS', env.RATE_LIMIT_ANONYMOUS, DEFAULT_RATE_LIMITS.perAnonymousAddress, 0, 10_000_000),
    perProcess: parseInteger('RATE_LIMIT_PER_PROCESS', env.RATE_LIMIT_PER_PROCESS, DEFAULT_RATE_LIMITS.perProcess, 0, 100_000_000),
  };
}

/** The WebSocket door's bounds from `WS_*`. */
export function parseWebSocketLimits(env: NodeJS.ProcessEnv): WebSocketLimits {
  const limit = (name: string, fallback: number, min: number, max: number) => parseInteger(name, env[name], fallback, min, max);
  return {
    maxPayloadBytes: limit('WS_MAX_PAYLOAD', DEFAULT_WEBSOCKET_LIMITS.maxPayloadBytes, 1024, 16 * 1024 * 1024),
    connectionInitTimeoutMs: limit('WS_CONNECTION_INIT_TIMEOUT_MS', DEFAULT_WEBSOCKET_LIMITS.connectionInitTimeoutMs, 100, 60_000),
    maxSubscriptionsPerConnection: limit('WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerConnection, 1, 1000),
    maxSubscriptions: limit('WS_MAX_SUBSCRIPTIONS', DEFAULT_WEBSOCKET_LIMITS.maxSubscriptions, 1, 100_000),
    tokenRecheckSeconds: parseDurationSetting('WS_TOKEN_RECHECK_INTERVAL', env.WS_TOKEN_RECHECK_INTERVAL, DEFAULT_WEBSOCKET_LIMITS.tokenRecheckSeconds, 1, 3600),
  };
}
