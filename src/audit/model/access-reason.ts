import type { AccessReasonPolicy } from '../../config/access-transparency';
import { InvalidInput } from '../../core/errors';

/** Why a request accesses records its caller does not own, as it stated it; every row of the request carries it. */
export interface AccessReason {
  /** One of the policy's codes (`support`, `incident`…). */
  readonly code: string;
  /** What the reason refers to, such as a ticket id; null when only the code was stated. */
  readonly reference: string | null;
  /** The code is the policy's break-glass code. */
  readonly breakGlass: boolean;
}

export const MAX_ACCESS_REFERENCE_LENGTH = 200;

/** `details.reason` of a read or change refused because the policy requires a reason and none was stated. */
export const REASON_REQUIRED = 'access_reason_required';

/** Printable ASCII: what an HTTP header carries safely, and what a log line or a CSV cell shows as is. */
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * The reason in `value` (`<code>` or `<code> <reference>`, from the `Access-Reason` header or
 * `connectionParams.accessReason`), or undefined when none was stated or the policy takes none.
 * Anything else is {@link InvalidInput} naming `field`, with the codes the policy takes.
 */
export function parseAccessReason(value: unknown, policy: AccessReasonPolicy, field: string): AccessReason | undefined {
  if (policy.mode === 'off' || value === undefined || value === null) return undefined;
  const expected = `must be "<code>" or "<code> <reference>", the code one of ${[...policy.codes].join(', ')}, the reference up to ${MAX_ACCESS_REFERENCE_LENGTH} printable ASCII characters`;
  if (typeof value !== 'string') throw new InvalidInput(field, expected);
  const text = value.trim();
  const space = text.indexOf(' ');
  const code = space === -1 ? text : text.slice(0, space);
  const reference = space === -1 ? null : text.slice(space + 1).trim();
  if (!policy.codes.has(code)) throw new InvalidInput(field, expected);
  if (reference !== null && (reference.length > MAX_ACCESS_REFERENCE_LENGTH || !PRINTABLE.test(reference))) throw new InvalidInput(field, expected);
  return { code, reference, breakGlass: code === policy.breakGlassCode };
}
