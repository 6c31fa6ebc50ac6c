"""The `empathica` command (cli.main) and its subcommands; it may import every other package."""
