/** One row of the trail as exported: every column, `occurredAt` with its microseconds. */
export interface ExportedRow {
  readonly id: string;
  readonly occurredAt: string;
  readonly userId: string | null;
  readonly userRole: string | null;
  readonly action: string;
  readonly resourceType: string | null;
  readonly resourceId: string | null;
  readonly resourceIds: string[];
  readonly ownerIds: string[];
  readonly outcome: string;
  readonly adminBypass: boolean;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;
  readonly operationName: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The reason code the request stated; null: none. */
  readonly accessReason: string | null;
  readonly accessReference: string | null;
  readonly breakGlass: boolean;
}
