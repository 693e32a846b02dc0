import { customType } from 'drizzle-orm/pg-core';

/**
 * PostgreSQL's 64-bit transaction id (`pg_current_xact_id()`), which drizzle has no type for. Read
 * and written as its decimal text: the values pass 2^53 in a long-lived cluster.
 */
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/** Raw bytes (`bytea`): a SHA-256 digest takes 32 bytes instead of 64 characters of hex. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
