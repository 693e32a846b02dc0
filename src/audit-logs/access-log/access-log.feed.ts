import { viewerOf } from '../../api/context';
import type { FeedKind } from '../feed/audit-log.feed';
import { VIEW_MY_DATA_ACCESS } from './access-log.actions';
import { accessEntry } from './access-log.entry';
import { ACCESS_LOG_PAGE, type DataAccess } from './access-log.type';

/**
 * An owner's access log, live: the trail's sealed stream narrowed to the rows where an admin
 * bypassed the scoping on their records, each shown as `myDataAccess` shows it. Its start and end
 * are reads of the owner's own data; what it delivers is theirs alone, so batches are not named again.
 */
export const ACCESS_LOG_FEED: FeedKind<DataAccess> = {
  field: 'Subscription.myDataAccessed',
  action: VIEW_MY_DATA_ACCESS,
  page: ACCESS_LOG_PAGE,
  recordedAs: (viewer) => ({ ownerIds: [viewer.id], adminBypass: false }),
  recordsDeliveries: false,
  nodeOf: (entry, context) => accessEntry(entry.row, viewerOf(context).id, context.accessLog),
};
