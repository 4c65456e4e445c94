"""A second, plain connection to the test database's server, beside
Django's: for what another session does at the same moment (hold a lock,
cut a connection, stop accepting connections)."""

from __future__ import annotations

import psycopg
from django.db import connection


def another_connection(dbname: str | None = None) -> psycopg.Connection:
    """An autocommit psycopg connection as Django's user, to the test
    database or to ``dbname``."""
    s = connection.settings_dict
    return psycopg.connect(dbname=dbname or s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                           host=s["HOST"] or None, port=s["PORT"] or None, autocommit=True)
