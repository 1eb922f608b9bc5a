"""The workspace's bundle signing key and the keys it trusts.

The private key is a file (mode 0600) under the workspace home, created on first use, like
the workspace's other secrets kept out of the database (the LLM key lives in the settings,
passwords and session tokens only as hashes). Every machine of a team points
BRIEFML_SIGNING_KEY_FILE at the same key, or lists the others' .pub files in
BRIEFML_TRUSTED_KEYS, so a bundle a worker signed verifies in the web app.
"""

from __future__ import annotations

from core.bundle import signing
from workspace.settings import get_settings


def signing_key():
    """The private key bundles built here are signed with (created if missing)."""
    return signing.load_or_create_key(get_settings().signing_key_path)


def trusted_keys(extra: list = ()) -> list[bytes]:
    """Our own public key, the settings' trusted keys and `extra` key files."""
    settings = get_settings()
    return signing.trusted_keys(settings.signing_key_path, [*settings.trusted_key_files, *extra])


def verification(extra: list = ()) -> dict:
    """Keyword arguments for `core.bundle.load_bundle`: what a bundle must prove to load."""
    return {"trust": trusted_keys(extra), "require_signature": get_settings().require_signed_bundles}
