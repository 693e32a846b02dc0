/** Base64url of UTF-8 `text`, as cursors and JWT segments are encoded. */
export const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** Base64url of `value` as JSON, as a JWT header or payload is encoded. */
export const base64urlJson = (value: unknown): string => base64url(JSON.stringify(value));
