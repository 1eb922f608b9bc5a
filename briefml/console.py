"""How every command reports a user's mistake: one red line on stderr, exit code 2."""

from __future__ import annotations

import typer
from rich.console import Console

USER_ERROR_EXIT = 2


def fail(message: str) -> None:
    """Print `message` as one error line (no traceback) and stop the command."""
    Console(stderr=True, highlight=False).print(f"[bold red]Error:[/] {message}", soft_wrap=True)
    raise typer.Exit(USER_ERROR_EXIT)
