import { isAcceptableSubject } from '../../src/auth/token-claims';

// `sub` becomes the user id in every audit row of the caller's requests, so what a reader of the
// trail sees must be all there is: no invisible characters, no second encoding of the same text.
describe('isAcceptableSubject', () => {
  it.each([
    ['format characters after "root" (a right-to-left override, a zero-width space)', 'root\u202e\u200b'],
    ['a zero-width joiner', 'ali\u200dce'],
    ['a byte order mark', '\ufeffalice'],
    ['a left-to-right isolate', 'alice\u2066'],
    ['a soft hyphen', 'al\u00adice'],
    ['a tag character (outside the BMP)', 'alice\u{e0041}'],
    ['e and a combining acute accent (NFD)', 'rene\u0301'],
    ['the Angstrom sign, whose NFC is Å', '\u212bngstr\u00f6m'],
  ])('refuses %s', (_label, sub) => {
    expect(isAcceptableSubject(sub)).toBe(false);
  });

  it.each([
    ['plain ASCII', 'root'],
    ['an e-mail address', 'user@example.com'],
    ['a precomposed é (NFC)', 'ren\u00e9'],
    ['a combining mark with no precomposed form (NFC too)', 'q\u0307'],
    ['Hangul syllables', '\ud55c\uad6d'],
    ['an emoji outside the BMP', 'alice\u{1f600}'],
  ])('accepts %s', (_label, sub) => {
    expect(isAcceptableSubject(sub)).toBe(true);
  });
});
