import type postgres from 'postgres';
import { microsecondsUtc } from './row-hash';
import type { Anchor } from './verify';

/** The signed head of the chain as published outside the database: one JSON line per anchor. */
export interface AnchorLine extends Anchor {
  readonly horizon: string;
  readonly sealedAt: string;
  readonly publicKey: string;
  readonly signature: string;
}

/** The chain's head seal as an anchor; `undefined` before the first seal. */
export async function headAnchor(sql: postgres.Sql): Promise<AnchorLine | undefined> {
  const [head] = await sql.unsafe<AnchorLine[]>(
    `select sequence::int as sequence, hash, horizon::text as horizon, ${microsecondsUtc('sealed_at')} as "sealedAt",
            public_key as "publicKey", signature
     from audit_seals order by sequence desc limit 1`,
  );
  return head && { sequence: head.sequence, hash: head.hash, horizon: head.horizon, sealedAt: head.sealedAt, publicKey: head.publicKey, signature: head.signature };
}

/** Reads anchors written by {@link headAnchor}'s lines, one JSON object per line; throws naming the first line that is not one. */
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
    return [{ sequence: anchor.sequence!, hash: anchor.hash }];
  });
}
