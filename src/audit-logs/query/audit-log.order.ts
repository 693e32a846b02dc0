import { registerEnumType } from 'type-graphql';

// A file of its own, without decorated classes, so that the service can use the orders without
// loading the GraphQL object types (and reflect-metadata) with them.
/** The orders `auditLogs` pages in. */
export enum AuditLogOrder {
  NEWEST_FIRST = 'NEWEST_FIRST',
  OLDEST_FIRST = 'OLDEST_FIRST',
  SEALED_ASC = 'SEALED_ASC',
}

registerEnumType(AuditLogOrder, {
  name: 'AuditLogOrder',
  description: 'How `auditLogs` pages.',
  valuesConfig: {
    NEWEST_FIRST: { description: 'By time, newest first (`timestamp`, then `id`). Rows committed late may appear behind rows already read.' },
    OLDEST_FIRST: {
      description: 'By time, oldest first (`timestamp`, then `id`), through the same indexes read forwards. Rows committed late may appear behind rows already read.',
    },
    SEALED_ASC: {
      description:
        'Sealed rows only, in the order they were sealed (seal, then id): a consumer following `endCursor` sees every row exactly once, as its seal commits.',
    },
  },
});
