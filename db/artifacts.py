"""Content-addressed file storage inside Postgres.

Files live in the database by default, so one shared database is the whole workspace: a
second machine with the same DATABASE_URL can download every bundle. Files are split into
chunks (1 MiB) and addressed by the SHA-256 of their content; the hash is checked on every
read, and a file that does not match is never handed out.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlmodel import Session, select

from db.models import Artifact, ArtifactChunk

CHUNK_SIZE = 1024 * 1024


class ArtifactCorrupted(RuntimeError):
    """The stored bytes do not match their SHA-256: the file is damaged."""


class ArtifactMissing(KeyError):
    """No artifact with this hash is stored."""


def _open_source(source: bytes | str | Path | BinaryIO) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if isinstance(source, (str, Path)):
        return open(source, "rb")
    return source


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def sha256_of(source: bytes | str | Path | BinaryIO) -> str:
    """SHA-256 of a source, read in chunks (a file object is rewound afterwards)."""
    stream = _open_source(source)
    start = stream.tell()
    digest = hashlib.sha256()
    for chunk in _chunks(stream):
        digest.update(chunk)
    stream.seek(start)
    if isinstance(source, (str, Path)):
        stream.close()
    return digest.hexdigest()


def put_artifact(
    session: Session,
    source: bytes | str | Path | BinaryIO,
    *,
    media_type: str = "application/octet-stream",
) -> str:
    """Store a file (bytes, a path or a seekable binary stream); return its SHA-256.

    Storing the same content twice stores it once. The content is read twice (hash, then
    chunks) rather than held in memory, so large files stay cheap.
    """
    sha = sha256_of(source)
    if session.get(Artifact, sha) is not None:
        return sha
    stream = _open_source(source)
    try:
        size, seq = 0, 0
        session.add(Artifact(sha256=sha, size=0, media_type=media_type))
        session.flush()
        for seq, chunk in enumerate(_chunks(stream)):
            session.execute(sa.insert(ArtifactChunk).values(sha256=sha, seq=seq, data=chunk))
            size += len(chunk)
        count = seq + 1 if size else 0
        session.execute(
            sa.update(Artifact).where(Artifact.sha256 == sha).values(size=size, chunk_count=count)
        )
    finally:
        if isinstance(source, (str, Path)):
            stream.close()
    return sha


def iter_artifact(session: Session, sha: str) -> Iterator[bytes]:
    """Yield the stored chunks in order. The caller must verify (see `write_artifact_to`)."""
    if session.get(Artifact, sha) is None:
        raise ArtifactMissing(f"No stored file has SHA-256 {sha}.")
    query = (
        select(ArtifactChunk.data)
        .where(ArtifactChunk.sha256 == sha)
        .order_by(ArtifactChunk.seq)
        .execution_options(yield_per=1)
    )
    yield from session.exec(query)


def _corrupted(sha: str, actual: str) -> ArtifactCorrupted:
    return ArtifactCorrupted(
        f"Stored file {sha[:12]}… is damaged: its content hashes to {actual[:12]}…. "
        "It was not returned. Restore the database from a backup or rebuild the model."
    )


def read_artifact(session: Session, sha: str) -> bytes:
    """The whole file, verified. For large files prefer `write_artifact_to`."""
    data = b"".join(iter_artifact(session, sha))
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        raise _corrupted(sha, actual)
    return data


def write_artifact_to(session: Session, sha: str, destination: str | Path) -> Path:
    """Stream the file to `destination`, verified before it appears there.

    Chunks go to a temporary file beside the destination; it is renamed into place only
    when the hash matches, so wrong bytes never reach the destination.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter_artifact(session, sha):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha:
            raise _corrupted(sha, digest.hexdigest())
        os.replace(tmp_name, destination)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return destination
