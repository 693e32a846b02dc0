-- Rows written before owner_ids existed get the owner their details or the item already name, so
-- "whose data did admin Y see or change" covers the whole trail. The append-only trigger is
-- paused for this one statement, inside the migration's transaction, by the table owner.
ALTER TABLE "audit_logs" DISABLE TRIGGER "audit_logs_no_update_or_delete";
--> statement-breakpoint
WITH "owners" AS (
  SELECT a."id", coalesce(
    a."details"->'after'->>'ownerId',
    a."details"->'before'->>'ownerId',
    a."details"->>'ownerId',
    (SELECT i."owner_id" FROM "items" i WHERE i."id"::text = a."resource_id"),
    (SELECT d."details"->'before'->>'ownerId' FROM "audit_logs" d
      WHERE d."action" = 'delete_item' AND d."outcome" = 'success' AND d."resource_id" = a."resource_id" LIMIT 1)
  ) AS "owner"
  FROM "audit_logs" a
  WHERE a."resource_type" = 'item' AND a."resource_id" IS NOT NULL
)
UPDATE "audit_logs" SET "owner_ids" = ARRAY["owners"."owner"]
FROM "owners" WHERE "audit_logs"."id" = "owners"."id" AND "owners"."owner" IS NOT NULL;
--> statement-breakpoint
ALTER TABLE "audit_logs" ENABLE TRIGGER "audit_logs_no_update_or_delete";
