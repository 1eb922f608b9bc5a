"""Signing keys for bundles: who built a bundle, not only whether its files match.

A manifest's SHA-256 list catches damage, but anyone who changes a file can re-hash it. So a
bundle also carries ``signature.json``: an Ed25519 signature (from `cryptography`) over the
exact bytes of its ``manifest.json``. Verification lives in `core.runtime.verify_signature`,
so a bundle's own predict.py can check it (``--trust KEYFILE``).

The private key is a PEM file (mode 0600) created on first use: by default under the
workspace's home (BRIEFML_HOME), beside nothing else that is secret, the way the workspace
keeps its other secrets out of the database. Its public half sits next to it as ``.pub``:
hand that file to whoever should trust your bundles.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from core import runtime
from core.errors import BundleError

SIGNATURE_ALGORITHM = "ed25519"


def load_or_create_key(path: str | Path):
    """The Ed25519 private key at `path`, created (mode 0600, with `path`.pub) if missing.

    Raises BundleError when the file exists but is not such a key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path).expanduser()
    if not path.exists():
        _create_key(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise BundleError(f"The signing key at '{path}' cannot be read ({type(exc).__name__}). "
                          "Move it away and a new key is created on the next build.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"The signing key at '{path}' is not an Ed25519 key.")
    return key


def _create_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    try:  # a hard link appears whole and fails if the key exists: two first uses keep one key
        os.link(draft, path)
        public_path(path).write_bytes(public_pem(key))
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)


def public_path(key_path: str | Path) -> Path:
    key_path = Path(key_path).expanduser()
    return key_path.with_name(key_path.name + ".pub")


def public_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def signature_file(manifest_bytes: bytes, key) -> bytes:
    """signature.json for a manifest: algorithm, key id, public key and signature."""
    document = {
        "algorithm": SIGNATURE_ALGORITHM,
        "signed": runtime.MANIFEST,
        "key_id": runtime.public_key_id(key.public_key()),
        "public_key": public_pem(key).decode(),
        "signature": base64.b64encode(key.sign(manifest_bytes)).decode(),
    }
    return json.dumps(document, indent=2).encode()


def trusted_keys(key_path: str | Path | None, extra: list[str | Path] = ()) -> list[bytes]:
    """Public keys to trust: the one of our own signing key (created if missing) and the
    PEM files in `extra`. Raises BundleError naming a file that is not there."""
    keys = []
    if key_path is not None:
        keys.append(public_pem(load_or_create_key(key_path)))
    for name in extra:
        path = Path(name).expanduser()
        if not path.is_file():
            raise BundleError(f"No public key file at '{path}'. Pass the .pub file of whoever built the bundle.")
        keys.append(path.read_bytes())
    return keys
