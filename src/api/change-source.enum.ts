import { registerEnumType } from 'type-graphql';
import type { RecordVersion } from '../audit';

/**
 * The GraphQL enum of where a change was made, shared by the trail's entries and records' versions;
 * `satisfies` keeps it to the trail's sources, every one of them.
 */
export const ChangeSource = { API: 'API', DATABASE: 'DATABASE' } as const satisfies { readonly [S in RecordVersion['source']]: S };
export type ChangeSource = RecordVersion['source'];

registerEnumType(ChangeSource, {
  name: 'ChangeSource',
  description: 'Where an action was taken: through the API, or straight in the database (`psql`, a migration, another service), where the audited table\'s backstop trigger recorded it.',
  valuesConfig: {
    API: { description: 'Through this API: the row names the application user.' },
    DATABASE: { description: 'Outside the API: the row names the database session (`database`), never an application user.' },
  },
});
