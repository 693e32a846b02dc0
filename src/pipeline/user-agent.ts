const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
/** C0 and C1 control characters, which could forge lines in exports and logs (and NUL fails inserts). */
const CONTROL = /\p{Cc}/gu;

/**
 * The `User-Agent` header as audit rows record it. Node hands header bytes over one byte per
 * character (latin1), so a UTF-8 agent such as `Café/1.0` arrives as `CafÃ©/1.0`: the bytes are
 * decoded again as UTF-8 when they are valid UTF-8, and kept as latin1 when they are not. Control
 * characters are dropped; its length is the audit row's to cap (`ROW_LIMITS.userAgent`), which
 * records the cut.
 */
export function userAgentOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  let text: string;
  try {
    text = STRICT_UTF8.decode(Buffer.from(header, 'latin1'));
  } catch {
    text = header;
  }
  return text.replace(CONTROL, '');
}
