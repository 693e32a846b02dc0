import { defineAuditAction } from '../../audit';

/** An owner reading who accessed their data: recorded like any read, never a bypass. */
export const VIEW_MY_DATA_ACCESS = defineAuditAction({
  name: 'view_my_data_access',
  resourceType: null,
  activity: 'read',
  description: 'a signed-in user reads the log of admins\' accesses to their records (`myDataAccess`), or follows it live (`myDataAccessed`)',
  details: '`{ from, to, first, after }` of the query, `count` of entries shown; a live feed\'s `{ after, feed: "started" | "ended" }`',
});
