"""Shared value types and utilities used by every Empathica package.

`agent`, `speech` and `avatar` never import each other; the values that flow between them live here.
"""
