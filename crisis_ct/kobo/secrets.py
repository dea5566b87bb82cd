"""The Kobo API token of an operation: named by an environment variable, or stored
encrypted in the database. The token itself is never printed, logged or returned by
the API; only where it comes from is shown.

The encryption key is `CRISIS_CT_KOBO_TOKEN_KEY` (a Fernet key) when set, else one
derived from the app's SECRET_KEY with HKDF, so a stolen database alone (without the
server's secret) does not give away Kobo accounts.
"""
from __future__ import annotations

import base64
import os
from typing import Mapping

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crisis_ct.kobo.models import KoboAsset

# Fixed context so the derived key is used for nothing but Kobo tokens.
_HKDF_INFO = b"crisis-ct kobo api token v1"
_HKDF_SALT = b"crisis-ct/kobo-token"


class TokenError(ValueError):
    """No usable token for an asset; the message says what to do, never the token."""


def token_cipher(*, secret_key: str | None, token_key: str | None = None) -> Fernet:
    if token_key:
        try:
            return Fernet(token_key.encode() if isinstance(token_key, str) else token_key)
        except (ValueError, TypeError) as exc:
            raise TokenError("CRISIS_CT_KOBO_TOKEN_KEY is not a valid Fernet key "
                             "(32 url-safe base64-encoded bytes; make one with "
                             "`python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())'`)") from exc
    if not secret_key:
        raise TokenError("No key to encrypt Kobo tokens: set CRISIS_CT_KOBO_TOKEN_KEY or the app's SECRET_KEY.")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_token(token: str, cipher: Fernet) -> str:
    token = token.strip()
    if not token:
        raise TokenError("The Kobo API token is empty.")
    return cipher.encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str, cipher: Fernet) -> str:
    try:
        return cipher.decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise TokenError("The stored Kobo token cannot be decrypted with the current key (SECRET_KEY or "
                         "CRISIS_CT_KOBO_TOKEN_KEY changed?): run `crisis-ct kobo connect` again.") from exc


def asset_token(asset: KoboAsset, cipher_factory, environ: Mapping[str, str] | None = None) -> str:
    """The API token for `asset`. `cipher_factory()` is only called for an encrypted token,
    so an operation using an environment variable needs no key at all."""
    environ = os.environ if environ is None else environ
    if asset.token_env:
        value = (environ.get(asset.token_env) or "").strip()
        if not value:
            raise TokenError(f"Asset {asset.asset_uid}: the environment variable {asset.token_env} "
                             "that should hold its Kobo API token is not set.")
        return value
    if asset.token_encrypted:
        return decrypt_token(asset.token_encrypted, cipher_factory())
    raise TokenError(f"Asset {asset.asset_uid} has no Kobo API token: run `crisis-ct kobo connect "
                     "--token-env VAR` or `--token-stdin`.")


def token_source(asset: KoboAsset) -> str | None:
    """Where the token comes from, safe to show: 'env:NAME', 'encrypted' or None."""
    if asset.token_env:
        return f"env:{asset.token_env}"
    if asset.token_encrypted:
        return "encrypted"
    return None
