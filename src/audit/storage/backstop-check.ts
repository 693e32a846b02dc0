import type postgres from 'postgres';
import { ConfigError } from '../../config/settings';
import type { AuditedResource } from '../model/audited-resource';
import { backstopArgument, functionOf, qualifiedTable, TRIGGERS } from './backstop';

/**
 * The start-up check of the audit backstops (`backstop.ts` generates them): the server refuses to
 * start while any declared resource's triggers, or those every backstop relies on, are missing,
 * disabled, not firing in every replication role, or not as declared.
 */

/**
 * What is wrong with the installed backstops of `resources`: a trigger missing, disabled, not
 * firing in every replication role, pointing at another function or told another declaration. Empty when every
 * backstop is as declared. Read from the catalog, so any role can check.
 */
export async function backstopProblems(sql: postgres.Sql, resources: readonly AuditedResource[]): Promise<string[]> {
  const problems: string[] = resources.length > 0 ? await sharedTriggerProblems(sql) : [];
  for (const resource of resources) {
    const table = qualifiedTable(resource.table);
    const expected = backstopArgument(resource);
    const installed = await sql<{ name: string; enabled: string; fn: string; argument: string | null }[]>`
      select t.tgname as name, t.tgenabled as enabled, p.proname as fn,
             pg_catalog.convert_from(pg_catalog.rtrim(t.tgargs, '\\x00'::bytea), 'UTF8') as argument
      from pg_catalog.pg_trigger t join pg_catalog.pg_proc p on p.oid = t.tgfoid
      where t.tgrelid = pg_catalog.to_regclass(${table.sql}) and t.tgname like ${`${table.name}_audit_backstop_%`}`;
    // Statement triggers on a parent do not fire for statements naming a partition or child.
    const [shape] = await sql<{ divided: boolean }[]>`
      select c.relkind = 'p' or exists (select from pg_catalog.pg_inherits where inhparent = c.oid) as divided
      from pg_catalog.pg_class c where c.oid = pg_catalog.to_regclass(${table.sql})`;
    if (shape?.divided) problems.push(`${resource.type}'s table has partitions or child tables, which its audit backstop does not cover`);
    for (const suffix of TRIGGERS) {
      const trigger = installed.find((row) => row.name === `${table.name}_audit_backstop_${suffix}`);
      const label = `the ${suffix} trigger of ${resource.type}'s audit backstop`;
      const fn = functionOf(suffix, table.name);
      if (!trigger) problems.push(`${label} is missing`);
      else if (trigger.enabled === 'D') problems.push(`${label} is disabled`);
      else if (trigger.enabled !== 'A') problems.push(`${label} is not enabled ALWAYS: under session_replication_role = replica it would not fire`);
      else if (trigger.fn !== fn) problems.push(`${label} calls another function`);
      else if (trigger.argument !== expected) problems.push(`${label} does not match its declaration`);
    }
  }
  return problems;
}

/**
 * The triggers every backstop relies on, outside any one resource's table: at commit, no mark of an
 * unclaimed change may be left unrecorded (migration 0025); and the trail's stamping trigger, on
 * the trail and each of its partitions, must fire in a replica session too, or a change recorded
 * there would keep its columns' defaults and never be sealed (migration 0021).
 */
const SHARED_TRIGGERS = [
  { table: 'audit_backstop_unclaimed', name: 'audit_backstop_unclaimed_recorded', fn: 'audit_backstop_unrecorded', label: "the audit backstop's check that every unclaimed change was recorded" },
  { table: 'audit_logs', name: 'audit_logs_stamp_server_values', fn: 'audit_logs_stamp_server_values', label: "the audit trail's stamping trigger" },
] as const;

async function sharedTriggerProblems(sql: postgres.Sql): Promise<string[]> {
  const problems: string[] = [];
  for (const { table, name, fn, label } of SHARED_TRIGGERS) {
    // A partitioned table's row trigger is cloned onto each partition, where it fires; a plain
    // table has no partition tree, only itself.
    const installed = await sql<{ enabled: string | null; fn: string | null }[]>`
      with rel as (select pg_catalog.to_regclass(${table}) as oid),
      tree as (select relid from rel, pg_catalog.pg_partition_tree(rel.oid) union select oid from rel where oid is not null)
      select t.tgenabled as enabled, p.proname as fn
      from tree
      left join pg_catalog.pg_trigger t on t.tgrelid = tree.relid and t.tgname = ${name}
      left join pg_catalog.pg_proc p on p.oid = t.tgfoid`;
    if (installed.length === 0 || installed.some((trigger) => trigger.enabled === null)) problems.push(`${label} is missing`);
    else if (installed.some((trigger) => trigger.enabled === 'D')) problems.push(`${label} is disabled`);
    else if (installed.some((trigger) => trigger.enabled !== 'A')) problems.push(`${label} is not enabled ALWAYS: under session_replication_role = replica it would not fire`);
    else if (installed.some((trigger) => trigger.fn !== fn)) problems.push(`${label} calls another function`);
  }
  return problems;
}

/**
 * Refuses to start while any backstop of `resources` is not installed as declared: changes made
 * outside the API would go unrecorded. Names the first problem and how many more there are.
 */
export async function assertBackstops(sql: postgres.Sql, resources: readonly AuditedResource[]): Promise<void> {
  const [first, ...more] = await backstopProblems(sql, resources);
  if (first === undefined) return;
  const others = more.length > 0 ? ` (and ${more.length} more)` : '';
  throw new ConfigError(
    `${first}${others}: changes made outside the API would go unrecorded; run "npm run db:migrate", and for a resource whose declaration changed generate its backstop's migration ("npm run db:backstop", docs/CONTRIBUTING.md)`,
  );
}
