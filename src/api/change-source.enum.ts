import type { RecordVersion } from '../audit';
import { documentedEnum } from './documented-enum';

/**
 * The GraphQL enum of where a change was made, shared by the trail's entries and records' versions;
 * `satisfies` keeps it to the trail's sources, every one of them.
 */
export const ChangeSource = documentedEnum(
  'ChangeSource',
  'Where an action was taken: through the API, or straight in the database (`psql`, a migration, another service), where the audited table\'s backstop trigger recorded it.',
  {
    API: 'Through this API: the row names the application user.',
    DATABASE: 'Outside the API: the row names the database session (`database`), never an application user.',
  },
) satisfies { readonly [S in RecordVersion['source']]: S };
export type ChangeSource = RecordVersion['source'];
