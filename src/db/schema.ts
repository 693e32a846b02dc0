/** Every table the application owns; drizzle-kit generates migrations from this module. */
export * from '../items/item.table';
export * from '../audit/audit-log.table';
