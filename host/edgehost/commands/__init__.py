"""Subcommands of the `edgehost` CLI, one module each (see edgehost/cli.py)."""
