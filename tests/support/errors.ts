import type { GraphQLResponse } from './graphql-http';

/*
 * The error shapes a client meets, asserted in full: which field failed (or that the whole
 * request did), the HTTP status, `extensions` exactly, and what `data` came back beside it.
 */

/** A status and a body, from `TestServer.graphql` or the plain `graphql` of graphql-http.ts. */
type Answer = Pick<GraphQLResponse, 'status' | 'body'>;

/** A message given exactly, or a pattern it must match. */
type Message = string | RegExp;

interface ErrorExpectation {
  code: string;
  /** `extensions.field`, the argument or input field at fault; when not given, there must be none. */
  field?: string;
  /** What else `extensions` carries beside `code` and `field`; when not given, nothing. */
  extensions?: Record<string, unknown>;
  /** Unchecked when not given. */
  message?: Message;
}

export interface FieldErrorExpectation extends ErrorExpectation {
  /** The root field that failed. */
  path: string;
  /** `data` as a client receives it next to the error. */
  data: unknown;
}

export interface RequestErrorExpectation extends ErrorExpectation {
  status: number;
  /**
   * The error points into the operation (`locations`), as errors found in its document or
   * variables do; when not set it must not, as for errors about the request itself (its token).
   */
  inOperation?: boolean;
}

/** What a client learns of a failure on the server's side: nothing but that it happened. */
export const INTERNAL_ERROR = { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } as const;

/** What an anonymous caller gets on a field that needs a user. */
export const AUTHENTICATION_REQUIRED = { code: 'UNAUTHENTICATED', message: 'authentication required' } as const;

const extensionsOf = ({ code, field, extensions }: ErrorExpectation) => ({ ...extensions, code, ...(field === undefined ? {} : { field }) });
const messageMatching = (message: Message | undefined) =>
  message === undefined ? expect.any(String) : typeof message === 'string' ? message : expect.stringMatching(message);

/** Exactly one error, on the root field `path`; the request itself succeeded (HTTP 200). */
export function expectFieldError(response: Answer, expected: FieldErrorExpectation): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toEqual(expected.data);
  expect(response.body.errors).toEqual([
    {
      message: messageMatching(expected.message),
      locations: expect.any(Array),
      path: [expected.path],
      extensions: extensionsOf(expected),
    },
  ]);
}

/** Bad input the API itself rejected: BAD_USER_INPUT on `path`, naming `field` first in the message. */
export function expectInvalidInput(response: Answer, expected: { path: string; field: string; data: unknown }): void {
  const fieldPrefix = new RegExp(`^${expected.field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `);
  expectFieldError(response, { ...expected, code: 'BAD_USER_INPUT', message: fieldPrefix });
}

/** The whole request refused before any field ran: `status`, no `data`, exactly one error on no field. */
export function expectRequestError(response: Answer, expected: RequestErrorExpectation): void {
  expect(response.status).toBe(expected.status);
  const error: Record<string, unknown> = { message: messageMatching(expected.message), extensions: extensionsOf(expected) };
  if (expected.inOperation) error.locations = expect.any(Array);
  // Nothing else in the body, and nothing else in the error.
  expect(response.body).toEqual({ errors: [error] });
}

/** The data of a response that must have succeeded. */
export function dataOf<TData>(response: GraphQLResponse<TData>): TData {
  expect(response.body.errors).toBeUndefined();
  expect(response.status).toBe(200);
  return response.body.data as TData;
}
