"""How every command reports a user's mistake: one red line on stderr, exit code 2."""

from __future__ import annotations

import errno
from pathlib import Path

import typer
from rich.console import Console

USER_ERROR_EXIT = 2


def fail(message: str) -> None:
    """Print `message` as one error line (no traceback) and stop the command."""
    Console(stderr=True, highlight=False).print(f"[bold red]Error:[/] {message}", soft_wrap=True)
    raise typer.Exit(USER_ERROR_EXIT)


_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the disk is read-only",
    errno.ENOENT: "there is no such file or folder",
    errno.ENOSPC: "the disk is full",
    errno.EISDIR: "that is a folder, not a file",
    errno.ENOTDIR: "part of the path is not a folder",
}


def file_error_sentence(exc: OSError, *, output: Path | None = None) -> str:
    """An OSError from reading the input or writing `output`, as one line in words (not
    Python's "[Errno 13] ..."); the flag to change when it was the output."""
    named = Path(exc.filename) if exc.filename else None
    writing = output is not None and (named is None or named.resolve() == Path(output).resolve())
    reason = _REASONS.get(exc.errno)
    if reason is None and writing and "non-existent directory" in str(exc):  # pandas' own words
        reason = f"the folder {Path(output).parent} does not exist"
    reason = reason or (exc.strerror or str(exc)).rstrip(".").lower()
    if writing:
        return f"Could not write {output}: {reason}. Choose another place with -o."
    return f"Could not read {named or 'the file'}: {reason}."
