import { viewerOf } from '../api/context';
import type { ApiFeature } from '../api/feature';
import { ViewerResolver } from './viewer.resolver';
import { VIEWER_NODE } from './viewer.type';

/** `me`, and `node()` of your own viewer id (anyone else's is null). */
export const feature: ApiFeature = {
  resolvers: [ViewerResolver],
  access: { Query: { me: 'signedIn' } },
  nodes: [
    {
      type: VIEWER_NODE,
      fetch: (id, context) => (VIEWER_NODE.parse(id, 'id') === viewerOf(context).id ? new ViewerResolver().me(context) : null),
    },
  ],
};
