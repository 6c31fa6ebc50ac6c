"""Composition: the typed configuration and the engines built from it (the only place naming concrete engines).

Imports `core`, `agent`, `speech` and `avatar`; the server, the CLI and the research toolkit use it.
"""
