-- Records are marked as unclaimed by an AFTER ROW trigger, no longer a BEFORE ROW one. A statement
-- nested in another (a function called in its RETURNING or its WHERE) starts when the outer one
-- did and changes the same kind: with the outer statement's marks made as its records changed,
-- the nested statement's trigger took them and recorded its own records only, and the outer
-- statement's changes committed unrecorded. An AFTER trigger's WHEN is still evaluated as each
-- record changes (a claim made later cannot reach back), but its marks are made as the statement
-- ends, just before its statement trigger takes them, when any nested statement has ended.
DROP TRIGGER "items_audit_backstop_mark" ON "items";
--> statement-breakpoint
CREATE TRIGGER "items_audit_backstop_mark" AFTER INSERT OR UPDATE OR DELETE ON "items"
  FOR EACH ROW
  WHEN (pg_catalog.current_setting('audit.api_change', true) IS DISTINCT FROM pg_catalog.md5(pg_catalog.current_query()))
  EXECUTE FUNCTION "audit_backstop_mark"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
ALTER TABLE "items" ENABLE ALWAYS TRIGGER "items_audit_backstop_mark";
