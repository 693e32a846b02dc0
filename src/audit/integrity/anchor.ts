import type postgres from 'postgres';
import { headSeal } from './chain-store';

/** A signed head published outside the database (`npm run audit:anchor`), as verify reads it back. */
export interface Anchor {
  readonly sequence: number;
  readonly hash: string;
  /** Where it was read from (`parseAnchors`), for messages; its place in the list otherwise. */
  readonly line?: number;
  /** The line as read, to tell a line repeated verbatim from a head anchored again. */
  readonly text?: string;
}

/** The signed head of the chain as published outside the database: one JSON line per anchor. */
export interface AnchorLine extends Anchor {
  readonly horizon: string;
  readonly sealedAt: string;
  readonly publicKey: string;
  readonly signature: string;
}

/** The chain's head seal as an anchor; `undefined` before the first seal. */
export async function headAnchor(sql: postgres.Sql): Promise<AnchorLine | undefined> {
  const head = await headSeal(sql);
  return head && { sequence: head.sequence, hash: head.hash, horizon: head.horizon, sealedAt: head.sealedAt, publicKey: head.publicKey, signature: head.signature };
}

/** Reads anchors written by {@link headAnchor}'s lines, one JSON object per line, each with its line number and text; throws naming the first line that is not one. */
export function parseAnchors(text: string): Anchor[] {
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    let anchor: Partial<Anchor> | undefined;
    try {
      anchor = JSON.parse(line) as Partial<Anchor>;
    } catch {
      anchor = undefined;
    }
    if (!anchor || !Number.isInteger(anchor.sequence) || typeof anchor.hash !== 'string' || !/^[0-9a-f]{64}$/.test(anchor.hash)) {
      throw new Error(`anchor line ${index + 1} is not an anchor: expected JSON with "sequence" and "hash"`);
    }
    return [{ sequence: anchor.sequence!, hash: anchor.hash, line: index + 1, text: line.trim() }];
  });
}

/** What a list of anchors says about itself, before any of them is compared with the chain. */
export interface AnchorReview {
  /** The anchored hash of each sequence, from its first line. */
  readonly bySequence: ReadonlyMap<number, Anchor>;
  /**
   * The first sequence two lines anchor with different hashes: at most one of them came from this
   * chain, so verify fails, whichever the chain holds (keeping the last line, as a map would, let
   * a line appended after a conflicting one hide it).
   */
  readonly conflict?: { readonly sequence: number; readonly first: Anchor; readonly second: Anchor };
  /**
   * Lines identical to an earlier one, or that come after a higher sequence: harmless for the check
   * (each line is compared with the chain), but not what appending heads on a schedule writes (a
   * head anchored again while no seal was made differs in `anchoredAt`), so worth a look at how the
   * file was put together.
   */
  readonly warnings: readonly string[];
}

/** Checks `anchors` (in file order) against each other: conflicts, identical lines, lines out of order. */
export function reviewAnchors(anchors: readonly Anchor[]): AnchorReview {
  const bySequence = new Map<number, Anchor>();
  /** The first line of each text (of each sequence and hash for anchors not read from a file). */
  const firstLines = new Map<string, number>();
  const warnings: string[] = [];
  let conflict: AnchorReview['conflict'];
  let highest: number | undefined;
  anchors.forEach((anchor, index) => {
    const line = lineOf(anchor, index);
    const text = anchor.text ?? `${anchor.sequence} ${anchor.hash}`;
    const earlier = bySequence.get(anchor.sequence);
    if (earlier && earlier.hash !== anchor.hash) {
      conflict ??= { sequence: anchor.sequence, first: earlier, second: { ...anchor, line } };
    } else if (firstLines.has(text)) {
      warnings.push(`anchors: line ${line} repeats line ${firstLines.get(text)} (sequence ${anchor.sequence})`);
    } else if (highest !== undefined && anchor.sequence < highest) {
      warnings.push(`anchors: line ${line} (sequence ${anchor.sequence}) comes after sequence ${highest}`);
    }
    if (!earlier) bySequence.set(anchor.sequence, { ...anchor, line });
    if (!firstLines.has(text)) firstLines.set(text, line);
    highest = Math.max(highest ?? anchor.sequence, anchor.sequence);
  });
  return { bySequence, conflict, warnings };
}

/** Where `anchor` was read from: its line, or its place in the list when it was not read from a file. */
const lineOf = (anchor: Anchor, index: number): number => anchor.line ?? index + 1;
