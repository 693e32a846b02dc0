/** Tamper evidence for the trail: row hashes, the signed seal chain, its verifier and anchors (README: Integrity). */
export { headAnchor, parseAnchors } from './anchor';
export { auditRowHashes } from './audit-seal.table';
export { loadOrCreateDevSigningKey, readDevSigningKey } from './dev-signing-key';
export { hashedColumnsSql, rowHash, type HashedRow } from './row-hash';
export { SealWatcher } from './seal-watcher';
export { Sealer, sealOnce } from './sealer';
export { publicKeyFromText } from './seal-encoding';
export { verifyTrail } from './verify';
