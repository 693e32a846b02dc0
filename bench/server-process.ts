/**
 * Child process entry of the benchmark: starts the API as `main.ts` does, silent, with the audit
 * trail ON or OFF as the parent asks ({@link ServerStartRequest}), answers with its URL, and
 * stops cleanly when the parent disconnects.
 */
import './production-mode';
import 'reflect-metadata';
import pino from 'pino';
import { loadConfig } from '#src/config/config';
import { startServer, type Server } from '#src/server';
import type { ServerStartReply, ServerStartRequest } from './servers';

function reply(message: ServerStartReply): void {
  process.send!(message);
}

process.once('message', async (request: ServerStartRequest) => {
  let server: Server;
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: request.databaseUrl,
      DATABASE_POOL_MAX: String(request.poolMax),
      JWT_SECRET: request.jwtSecret,
      AUDIT_SIGNING_KEY: request.signingKey,
      HOST: '127.0.0.1',
      PORT: '0',
      // The load comes from a few users at thousands of requests a second: the rate limits are off
      // on both servers, so the bench measures what auditing costs, not what the limits allow.
      RATE_LIMIT_PER_CALLER: '0',
      RATE_LIMIT_ANONYMOUS: '0',
      RATE_LIMIT_PER_PROCESS: '0',
    });
    server = await startServer(config, pino({ level: 'silent' }), {
      audit: request.audit,
      seal: request.seal,
      backstop: request.backstop,
      checkServingRole: request.checkServingRole,
    });
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
    process.disconnect();
    return;
  }
  process.once('disconnect', () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  reply({ url: server.url });
});
