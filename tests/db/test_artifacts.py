import hashlib
import os

import pytest
import sqlalchemy as sa

from db.artifacts import (
    CHUNK_SIZE,
    ArtifactCorrupted,
    ArtifactMissing,
    put_artifact,
    read_artifact,
    write_artifact_to,
)
from db.engine import session_scope
from db.models import Artifact, ArtifactChunk


def test_round_trip_small_file(db):
    with session_scope() as session:
        sha = put_artifact(session, b"hello, workspace", media_type="text/plain")
    assert sha == hashlib.sha256(b"hello, workspace").hexdigest()
    with session_scope() as session:
        assert read_artifact(session, sha) == b"hello, workspace"
        assert session.get(Artifact, sha).media_type == "text/plain"


def test_large_file_is_stored_in_chunks_and_streamed_back(db, tmp_path):
    payload = os.urandom(CHUNK_SIZE * 3 + 123)
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    with session_scope() as session:
        sha = put_artifact(session, source)
    with session_scope() as session:
        stored = session.get(Artifact, sha)
        assert (stored.size, stored.chunk_count) == (len(payload), 4)
        out = write_artifact_to(session, sha, tmp_path / "copy" / "big.bin")
    assert out.read_bytes() == payload


def test_the_same_content_is_stored_once(db):
    with session_scope() as session:
        first = put_artifact(session, b"same")
        second = put_artifact(session, b"same")
        count = session.exec(sa.select(sa.func.count()).select_from(Artifact)).one()[0]
    assert first == second and count == 1


def test_empty_file_round_trips(db):
    with session_scope() as session:
        sha = put_artifact(session, b"")
    with session_scope() as session:
        assert read_artifact(session, sha) == b""


def test_corrupted_bytes_are_never_returned(db, tmp_path):
    with session_scope() as session:
        sha = put_artifact(session, b"model weights v1")
    with session_scope() as session:  # damage the stored chunk behind the store's back
        session.execute(sa.update(ArtifactChunk).where(ArtifactChunk.sha256 == sha)
                        .values(data=b"model weights v2"))
    with session_scope() as session:
        with pytest.raises(ArtifactCorrupted, match="damaged"):
            read_artifact(session, sha)
        destination = tmp_path / "bundle.zip"
        with pytest.raises(ArtifactCorrupted, match="was not returned"):
            write_artifact_to(session, sha, destination)
    assert not destination.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_unknown_hash_says_so(db):
    with session_scope() as session:
        with pytest.raises(ArtifactMissing, match="No stored file"):
            read_artifact(session, "0" * 64)
