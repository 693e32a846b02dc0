export enum Role {
  USER = 'USER',
  ADMIN = 'ADMIN',
}

/** The authenticated caller, taken from a verified bearer token. */
export interface Viewer {
  /** The token's `sub` claim. */
  readonly id: string;
  readonly role: Role;
}

export const isAdmin = (viewer: Viewer | undefined): boolean => viewer?.role === Role.ADMIN;
