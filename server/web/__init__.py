"""The aiohttp application: the web page, static files, health, metrics, portrait uploads and idle clips."""
