import 'reflect-metadata';
import { constants } from 'node:os';
import { ConfigError, loadConfig } from './config/config';
import { createLogger, type Logger } from './config/logger';
import type { Server } from './server';

/**
 * Stop signals this close to the first of a press are that press. One Ctrl-C under `npm start` is
 * two SIGINTs for node, since the terminal signals the whole process group and npm forwards its
 * own: the duplicate must not cut short the graceful stop, so only a later one, a second Ctrl-C, does.
 */
const ONE_PRESS_MS = 1_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`refusing to start: ${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  // Loaded only once the configuration is known to be usable: a refusal is a line on stderr
  // within a fraction of a second, without first loading the whole server (most of node's start).
  const { startServer } = await import('./server.js');
  const server = await startServer(config, logger);
  stopOnSignals(server, logger);
}

/**
 * Stops gracefully on the first SIGTERM or SIGINT, ignores (and logs) its duplicates within
 * {@link ONE_PRESS_MS}, and forces the exit at a later one. The listeners stay: a signal with none
 * kills node on the spot, before in-flight requests finish and the audit trail's group commit
 * writes its last rows.
 */
function stopOnSignals(server: Server, logger: Logger): void {
  let pressedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (pressedAt === undefined) {
      pressedAt = now;
      void stopGracefully(server, logger, signal);
    } else if (now - pressedAt < ONE_PRESS_MS) {
      logger.warn({ signal }, 'already shutting down: signal again to force the exit');
    } else {
      forceExit(logger, signal);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function stopGracefully(server: Server, logger: Logger, signal: NodeJS.Signals): Promise<void> {
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  try {
    await server.stop();
    logger.info('stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'unclean shutdown');
    process.exit(1);
  }
}

/** Exits with 128 + the signal's number, the status a shell reports for a process that signal ended. */
function forceExit(logger: Logger, signal: NodeJS.Signals): never {
  logger.error({ signal }, 'forced exit: in-flight requests and audit rows not yet committed are lost');
  process.exit(128 + constants.signals[signal]);
}

main().catch((error: unknown) => {
  // A ConfigError found while starting (e.g. an unfit database role) is one line, like the others.
  if (error instanceof ConfigError) process.stderr.write(`refusing to start: ${error.message}\n`);
  else process.stderr.write(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
