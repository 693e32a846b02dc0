import { InvalidInput } from '../core/errors';

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 10_000;

/** Length in characters as users count them (code points), not UTF-16 units. */
const length = (value: string) => [...value].length;

export function checkTitle(title: string | null | undefined, field = 'input.title'): string {
  if (title === null || title === undefined) throw new InvalidInput(field, 'is required');
  if (title.trim() === '') throw new InvalidInput(field, 'must not be blank');
  if (length(title) > TITLE_MAX) throw new InvalidInput(field, `must be at most ${TITLE_MAX} characters`);
  return title;
}

export function checkDescription(description: string | null | undefined, field = 'input.description'): string | null {
  if (description === null || description === undefined) return null;
  if (length(description) > DESCRIPTION_MAX) {
    throw new InvalidInput(field, `must be at most ${DESCRIPTION_MAX} characters`);
  }
  return description;
}
