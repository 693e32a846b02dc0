import 'reflect-metadata';
import { decodeGlobalId } from '../../src/api/global-id';
import { AUDIT_LOG_NODE } from '../../src/audit-logs/query/audit-log.type';
import { ITEM_NODE } from '../../src/items/item.type';

/*
 * Clients see only global ids; the database and the audit rows keep row ids. Tests that arrange or
 * check rows directly convert between the two here.
 */

/** The global id of the item whose row id is `rowId`. */
export const itemId = (rowId: number | bigint | string): string => ITEM_NODE.globalId(String(rowId));

/** The global id of the audit entry whose row id is `rowId`. */
export const auditLogId = (rowId: number | bigint | string): string => AUDIT_LOG_NODE.globalId(String(rowId));

/** The row id behind a global id, as the database and audit rows store it. */
export const rawIdOf = (globalId: string): string => decodeGlobalId(globalId, 'id').key;
