"""Reaching the Kobo server of a connected project from a request or the worker: the API
client for an asset, its token resolved (never logged), with the time-out the caller can
afford (a webhook request waits seconds, the worker longer)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from cryptography.fernet import Fernet

from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.secrets import TokenError, asset_token, token_cipher

log = logging.getLogger(__name__)

# Inside a webhook request: Kobo's own hook gives up after 30 s, and a slow answer holds a
# web worker; what Kobo cannot answer in this time the background worker fetches.
DEFAULT_REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class KoboAccess:
    cipher_factory: Callable[[], Fernet]
    timeout_s: float = 30.0
    retries: int = 0

    def client(self, asset: KoboAsset) -> KoboClient | None:
        """The client for `asset`; None when it has no server connection (webhook or import only)."""
        if not is_connected(asset):
            return None
        try:
            token = asset_token(asset, self.cipher_factory)
        except TokenError as exc:
            log.warning("kobo asset %s: %s", asset.asset_uid, exc)
            return None
        return KoboClient(asset.server_url, token, timeout=self.timeout_s, max_retries=self.retries)


def is_connected(asset: KoboAsset) -> bool:
    return bool(asset.server_url and (asset.token_env or asset.token_encrypted))


def app_access(*, timeout_s: float | None = None, retries: int = 0) -> KoboAccess | None:
    """The access the running app is configured for (None outside an app context)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    config = current_app.config

    def cipher() -> Fernet:
        return token_cipher(secret_key=config.get("SECRET_KEY"), token_key=config.get("KOBO_TOKEN_KEY"))

    if timeout_s is None:
        timeout_s = float(config.get("KOBO_VERSION_FETCH_TIMEOUT_S") or DEFAULT_REQUEST_TIMEOUT_S)
    return KoboAccess(cipher, timeout_s=timeout_s, retries=retries)
