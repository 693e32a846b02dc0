/** Tamper evidence for the trail: row hashes, the signed seal chain, its verifier and anchors (docs/integrity.md). */
export { headAnchor, parseAnchors, type Anchor } from './anchor';
export { auditRowHashes } from './audit-seal.table';
export { chainProgress, type ChainProgress } from './chain-store';
export { BUNDLE_FILES, BUNDLE_FORMAT, type BundleManifest } from './bundle-format';
export { BundleError, writeBundle, type BundleCounts, type WriteBundleOptions } from './bundle';
export { verifyBundle, type VerifyBundleOptions, type VerifyBundleResult } from './bundle-verify';
export { loadOrCreateDevSigningKey, readDevSigningKey } from './dev-signing-key';
export { hashedColumnsSql, rowHash, type HashedRow } from './row-hash';
export { SealWatcher } from './seal-watcher';
export { Sealer, sealOnce } from './sealer';
export { publicKeyFromText } from './seal-encoding';
export { verifyTrail } from './verify';
