"""Secrets at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256) under ENCRYPTION_KEY."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealError(Exception):
    """A sealed value could not be opened: wrong key, or the value was altered."""


class Sealer:
    """Seals with the first key, opens with any of them, so keys can be rotated."""

    def __init__(self, *keys: str) -> None:
        if not keys or not all(keys):
            raise ValueError("ENCRYPTION_KEY is empty")
        try:
            self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
        except (ValueError, TypeError) as error:
            raise ValueError("ENCRYPTION_KEY must be a Fernet key: 32 url-safe base64-encoded bytes "
                             "(make one with `flask --app app keys generate`).") from error

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def unseal(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise SealError("a stored secret could not be decrypted with ENCRYPTION_KEY") from error


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


if __name__ == "__main__":  # `python -m app.security.sealing`: a new ENCRYPTION_KEY, before any is configured
    print(new_key())
