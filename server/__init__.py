"""The realtime server: the websocket protocol, the web routes (web), sessions (session) and the turn pipeline (turn).

Imports `core`, `agent`, `speech`, `avatar`, `storage` and `compose`; never `research` or `cli`.
"""
