import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../../config/logger';
import type { AuditContext } from '../../record/audit-context';

/** Options for {@link ApolloServerPluginAuditTrail}. */
export interface AuditTrailPluginOptions {
  /** Receives failures to write the trail, with their cause; clients only learn the data was withheld. */
  readonly logger: Logger;
}

/**
 * Completes each request's audit trail: stamps the resolved operation name on its rows and, before
 * the response is sent, writes the buffered read events in one INSERT. If that write fails the
 * response carries an error and no data, so nothing leaves the server unrecorded (fail closed).
 */
export function ApolloServerPluginAuditTrail(options: AuditTrailPluginOptions): ApolloServerPlugin<AuditContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operationName }) {
          contextValue.audit.request.operationName = operationName ?? null;
        },
        async willSendResponse({ contextValue, response }) {
          try {
            await contextValue.audit.flush();
          } catch (error) {
            options.logger.error({ err: error, requestId: contextValue.audit.request.requestId }, 'audit trail write failed; response withheld');
            response.http.status = 503;
            response.body = {
              kind: 'single',
              singleResult: {
                errors: [
                  {
                    message: 'The audit trail could not be written, so the result was withheld. Try again later.',
                    extensions: { code: 'INTERNAL_SERVER_ERROR' },
                  },
                ],
              },
            };
          }
        },
      };
    },
  };
}
