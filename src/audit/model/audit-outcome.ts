/** Whether an audited attempt succeeded, was refused, or failed: the one list of outcome values. */
export const AUDIT_OUTCOMES = ['success', 'denied', 'error'] as const;

export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
