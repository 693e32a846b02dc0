import { isInputObjectType, isObjectType, type GraphQLSchema } from 'graphql';
import type { AuditActionRegistry } from '../../audit/operations';
import { ACTIONS_DESCRIPTION } from './audit-log.inputs';

/**
 * Writes the action registry into the descriptions of `AuditLog.action` and the filter's `action`
 * and `actions`, once every feature has defined its actions (at schema build), so the schema
 * lists exactly the actions the server records.
 */
export function describeAuditActions(schema: GraphQLSchema, actions: AuditActionRegistry): void {
  const names = actions
    .all()
    .map((action) => action.name)
    .join(', ');
  const auditLog = schema.getType('AuditLog');
  const filter = schema.getType('AuditLogFilter');
  if (!isObjectType(auditLog) || !isInputObjectType(filter)) throw new Error('AuditLog types are missing from the schema');
  auditLog.getFields().action!.description = `What happened; one of: ${names}.`;
  filter.getFields().action!.description = `One action: ${names}.`;
  filter.getFields().actions!.description = ACTIONS_DESCRIPTION;
}

/** The table of actions in docs/audit-trail.md, one row per defined action. */
export function auditActionTable(actions: AuditActionRegistry): string {
  const rows = actions.all().map(
    (action) =>
      `| \`${action.name}\` | ${action.resourceType ? `\`${action.resourceType}\`` : '—'} | ${action.activity} | ${action.description} | ${action.details} |`,
  );
  return ['| action | resource type | activity (OCSF) | when | details |', '|---|---|---|---|---|', ...rows].join('\n');
}
