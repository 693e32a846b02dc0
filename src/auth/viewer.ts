export enum Role {
  USER = 'USER',
  ADMIN = 'ADMIN',
}

/** The authenticated caller, taken from a verified bearer token. */
export interface Viewer {
  /** The token's `sub` claim. */
  readonly id: string;
  readonly role: Role;
  /**
   * When the token stops vouching for this caller (its `exp`, plus the clock tolerance), in
   * milliseconds since the epoch: a connection that outlives it is closed.
   */
  readonly validUntil?: number;
}

export const isAdmin = (viewer: Viewer | undefined): boolean => viewer?.role === Role.ADMIN;
