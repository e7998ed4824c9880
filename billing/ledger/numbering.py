"""Document numbers: DocumentSequence, one UPDATE ... RETURNING inside the issuing transaction."""

from __future__ import annotations

from django.db import connection

from billing.models import DocumentSequence


def numbers_allocate(*, issuer_id: int, doc_type: str, count: int = 1) -> int:
    """Take `count` consecutive numbers for (issuer, type) and return the first.

    One statement: it creates the sequence on first use and otherwise increments it, holding the
    row lock until the caller's transaction ends. A rolled-back transaction gives its numbers back,
    so numbering stays gap-free; a billing chunk takes its whole block at once.
    """
    if count < 1:
        raise ValueError("count must be positive")
    table = DocumentSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (issuer_id, doc_type, last_number) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (issuer_id, doc_type) DO UPDATE "
            f"SET last_number = {table}.last_number + EXCLUDED.last_number "
            f"RETURNING last_number",
            [issuer_id, doc_type, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1
