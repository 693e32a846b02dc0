import { documentedEnum } from '../../api/documented-enum';

// A file of its own, without decorated classes, so that the service can use the orders without
// loading the GraphQL object types (and reflect-metadata) with them.
/** The orders `auditLogs` pages in. */
export const AuditLogOrder = documentedEnum('AuditLogOrder', 'How `auditLogs` pages.', {
  NEWEST_FIRST: 'By time, newest first (`timestamp`, then `id`). Rows committed late may appear behind rows already read.',
  OLDEST_FIRST:
    'By time, oldest first (`timestamp`, then `id`), through the same indexes read forwards. Rows committed late may appear behind rows already read.',
  SEALED_ASC:
    'Sealed rows only, in the order they were sealed (seal, then id): a consumer following `endCursor` sees every row exactly once, as its seal commits.',
});
export type AuditLogOrder = (typeof AuditLogOrder)[keyof typeof AuditLogOrder];
