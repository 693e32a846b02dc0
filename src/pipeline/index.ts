/**
 * The request pipeline: what every door (HTTP `/graphql`, `/audit/export`, each WebSocket
 * connection and subscription, each command-line run) goes through before it may run anything:
 * where the request came from, who is calling, whether they may call now, and the audit trail
 * its rows go through.
 */
export { Admission, commandLineRun, type AdmissionOptions, type Admitted, type Presented } from './admission';
export { clientIp, COMMAND_LINE, originOf, type Origin, type TrustProxy } from './origin';
export { Refused, type Door, type LimitName } from './rate-limits';
