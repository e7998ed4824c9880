"""Database-level guard for issued documents (DESIGN.md "Money").

Once a document leaves draft, its parties, type, number, currency, dates, amounts and lines never
change, and it is never deleted; a cancelled document never comes back; nothing returns to draft.
Applications are never deleted and, once unlinked, never change. Only `status`, `open_amount`,
`settled_at` and `cancelled_at` of an issued document may move. The services keep these rules;
the triggers make them hold against any other writer (a shell, a bad migration, raw SQL).
"""

from django.db import migrations

IMMUTABLE = (
    "issuer_id", "recipient_id", "doc_type", "number", "currency", "issue_date", "due_date",
    "subtotal", "tax_total", "total", "payment_method_id", "reference", "memo", "created_at",
    "issued_at",
)

PG = f"""
CREATE OR REPLACE FUNCTION billing_document_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
      RAISE EXCEPTION 'issued document % cannot be deleted', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status <> 'draft' THEN
    IF ({", ".join("NEW." + c for c in IMMUTABLE)}) IS DISTINCT FROM
       ({", ".join("OLD." + c for c in IMMUTABLE)}) THEN
      RAISE EXCEPTION 'issued document % is immutable', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = 'draft' OR (OLD.status = 'cancelled' AND NEW.status <> 'cancelled') THEN
      RAISE EXCEPTION 'document % cannot move from % to %', OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_document_guard BEFORE UPDATE OR DELETE ON billing_document
  FOR EACH ROW EXECUTE FUNCTION billing_document_guard();

CREATE OR REPLACE FUNCTION billing_documentline_guard() RETURNS trigger AS $$
DECLARE st text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT status INTO st FROM billing_document WHERE id = OLD.document_id;
    IF st IS NOT NULL AND st <> 'draft' THEN
      RAISE EXCEPTION 'lines of issued document % are immutable', OLD.document_id
        USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT status INTO st FROM billing_document WHERE id = NEW.document_id;
    IF st <> 'draft' THEN
      RAISE EXCEPTION 'lines of issued document % are immutable', NEW.document_id
        USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_documentline_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_documentline
  FOR EACH ROW EXECUTE FUNCTION billing_documentline_guard();

CREATE OR REPLACE FUNCTION billing_application_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'application % cannot be deleted; unlink it instead', OLD.id
      USING ERRCODE = 'restrict_violation';
  END IF;
  IF (NEW.credit_document_id, NEW.debit_document_id, NEW.amount, NEW.currency, NEW.applied_at,
      NEW.applied_by_id) IS DISTINCT FROM
     (OLD.credit_document_id, OLD.debit_document_id, OLD.amount, OLD.currency, OLD.applied_at,
      OLD.applied_by_id)
     OR OLD.unapplied_at IS NOT NULL THEN
    RAISE EXCEPTION 'application % is immutable', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_application_guard BEFORE UPDATE OR DELETE ON billing_application
  FOR EACH ROW EXECUTE FUNCTION billing_application_guard();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS billing_document_guard ON billing_document;
DROP TRIGGER IF EXISTS billing_documentline_guard ON billing_documentline;
DROP TRIGGER IF EXISTS billing_application_guard ON billing_application;
DROP FUNCTION IF EXISTS billing_document_guard();
DROP FUNCTION IF EXISTS billing_documentline_guard();
DROP FUNCTION IF EXISTS billing_application_guard();
"""

_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IMMUTABLE)
SQLITE = [
    "CREATE TRIGGER billing_document_no_delete BEFORE DELETE ON billing_document "
    "WHEN OLD.status <> 'draft' BEGIN SELECT RAISE(ABORT, 'issued document cannot be deleted'); END",
    "CREATE TRIGGER billing_document_immutable BEFORE UPDATE ON billing_document "
    f"WHEN OLD.status <> 'draft' AND ({_changed} OR NEW.status = 'draft' "
    "OR (OLD.status = 'cancelled' AND NEW.status <> 'cancelled')) "
    "BEGIN SELECT RAISE(ABORT, 'issued document is immutable'); END",
    "CREATE TRIGGER billing_documentline_no_insert BEFORE INSERT ON billing_documentline "
    "WHEN (SELECT status FROM billing_document WHERE id = NEW.document_id) <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'lines of issued document are immutable'); END",
    "CREATE TRIGGER billing_documentline_no_update BEFORE UPDATE ON billing_documentline "
    "WHEN (SELECT status FROM billing_document WHERE id = OLD.document_id) <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'lines of issued document are immutable'); END",
    "CREATE TRIGGER billing_documentline_no_delete BEFORE DELETE ON billing_documentline "
    "WHEN (SELECT status FROM billing_document WHERE id = OLD.document_id) <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'lines of issued document are immutable'); END",
    "CREATE TRIGGER billing_application_no_delete BEFORE DELETE ON billing_application "
    "BEGIN SELECT RAISE(ABORT, 'application cannot be deleted'); END",
    "CREATE TRIGGER billing_application_immutable BEFORE UPDATE ON billing_application "
    "WHEN OLD.unapplied_at IS NOT NULL OR NEW.amount IS NOT OLD.amount "
    "OR NEW.credit_document_id IS NOT OLD.credit_document_id "
    "OR NEW.debit_document_id IS NOT OLD.debit_document_id "
    "BEGIN SELECT RAISE(ABORT, 'application is immutable'); END",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "billing_document_no_delete", "billing_document_immutable",
        "billing_documentline_no_insert", "billing_documentline_no_update",
        "billing_documentline_no_delete", "billing_application_no_delete",
        "billing_application_immutable",
    )
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no params: '%' is PL/pgSQL's
            cursor.execute(PG)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
