"""Persistence: the SQLite conversation store, turns waiting for a writable database, and retention.

Imports only `core`; the server, the CLI and the research toolkit use it.
"""
