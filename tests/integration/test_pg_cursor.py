"""The lean cursor of the event database's PostgreSQL connections (``kiosk.pg_cursor``).

Its ``description`` must say what psycopg's own says where SQLAlchemy reads it (each column's
name and type), for every kind of result, or results would come back under the wrong keys."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select, text

from kiosk.db import open_database
from kiosk.models import Customer
from kiosk.pg_cursor import LeanCursor

pytestmark = pytest.mark.pg

STATEMENTS = [
    "SELECT 1, 'a' AS \"名字\", now() AS at, NULL::numeric(10, 2) AS money",  # names, types
    "SELECT",  # a result with no columns: [] (psycopg's own answer), not None
    "SELECT 1 WHERE false",  # columns but no rows
    "CREATE TEMP TABLE IF NOT EXISTS lean (a int)",  # no result rows at all: None
    "INSERT INTO lean VALUES (1) RETURNING a, a + 1 AS b",
    "UPDATE lean SET a = 2",
    "SELECT a, a FROM lean",  # the same name twice
]


def test_its_description_names_and_types_each_column_as_psycopgs_own(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        own, lean = conn.cursor(), LeanCursor(conn)
        for statement in STATEMENTS:
            own.execute(statement)
            lean.execute(statement)
            described = [lean.description, own.description]
            if described[1] is None:
                assert described[0] is None, statement
                continue
            assert described[0] is not None, statement
            assert [(c.name, c.type_code) for c in described[0]] == [
                (c.name, c.type_code) for c in described[1]
            ], statement
            assert all(len(c) == 7 for c in described[0])  # PEP 249's seven items


def test_the_event_databases_connections_use_it_and_read_back_by_name(pg_demo_url: str) -> None:
    db = open_database(pg_demo_url)
    try:
        with db.engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            assert isinstance(cursor, LeanCursor)
            cursor.close()
            row = connection.execute(text("SELECT 7 AS seven, '张三' AS name")).one()
            assert row._mapping == {"seven": 7, "name": "张三"}
        with db.unit_of_work() as uow:
            first = uow.session.scalars(select(Customer).order_by(Customer.id).limit(1)).one()
            assert first.customer_no and first.name
    finally:
        db.dispose()
