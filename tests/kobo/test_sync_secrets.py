"""Where the sync's Kobo token comes from: an environment variable, or encrypted at rest."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.secrets import TokenError, asset_token, decrypt_token, encrypt_token, token_cipher, token_source


def test_a_token_encrypted_with_the_derived_key_decrypts_with_the_same_secret():
    ciphertext = encrypt_token("abc123", token_cipher(secret_key="s1"))
    assert "abc123" not in ciphertext
    assert decrypt_token(ciphertext, token_cipher(secret_key="s1")) == "abc123"


def test_another_secret_key_cannot_decrypt_and_says_what_to_do():
    ciphertext = encrypt_token("abc123", token_cipher(secret_key="s1"))
    with pytest.raises(TokenError, match="kobo connect") as info:
        decrypt_token(ciphertext, token_cipher(secret_key="s2"))
    assert "abc123" not in str(info.value)


def test_an_explicit_fernet_key_wins_over_the_secret_key():
    key = Fernet.generate_key().decode()
    ciphertext = encrypt_token("abc123", token_cipher(secret_key="s1", token_key=key))
    assert Fernet(key).decrypt(ciphertext.encode()) == b"abc123"


def test_a_malformed_token_key_is_refused():
    with pytest.raises(TokenError, match="CRISIS_CT_KOBO_TOKEN_KEY"):
        token_cipher(secret_key="s1", token_key="not-a-key")


def test_the_token_is_read_from_the_named_environment_variable():
    asset = KoboAsset(asset_uid="a1", token_env="KOBO_T")
    assert asset_token(asset, lambda: None, environ={"KOBO_T": " tok "}) == "tok"
    assert token_source(asset) == "env:KOBO_T"


def test_an_unset_variable_is_an_error_naming_the_variable():
    with pytest.raises(TokenError, match="KOBO_T"):
        asset_token(KoboAsset(asset_uid="a1", token_env="KOBO_T"), lambda: None, environ={})


def test_an_encrypted_token_is_decrypted_on_use():
    cipher = token_cipher(secret_key="s1")
    asset = KoboAsset(asset_uid="a1", token_encrypted=encrypt_token("tok", cipher))
    assert asset_token(asset, lambda: cipher, environ={}) == "tok"
    assert token_source(asset) == "encrypted"


def test_an_asset_without_token_says_how_to_connect():
    with pytest.raises(TokenError, match="--token-env"):
        asset_token(KoboAsset(asset_uid="a1"), lambda: None, environ={})
