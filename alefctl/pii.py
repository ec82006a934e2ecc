"""Personal data at rest: KYC document numbers are Fernet-encrypted and shown masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from alefctl.errors import AlefError

if TYPE_CHECKING:
    from alefctl.settings import Settings

KEY_FILE = "secret.key"


class PiiCipher:
    """Encrypts and decrypts personal data with one symmetric key."""

    def __init__(self, key: bytes):
        self._fernet = Fernet(key)

    def encrypt(self, plain: str) -> str:
        """The encrypted form, safe to store."""
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The plain text; fails loudly if the key is not the one that encrypted it."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise AlefError("cannot decrypt personal data: wrong security.encryption_key") from None


def mask(last4: str) -> str:
    """How a document number is shown in lists."""
    return "••••" + last4


def load_cipher(settings: Settings) -> PiiCipher:
    """The cipher from settings, else from <home>/secret.key (created, mode 0600, on first use)."""
    if settings.security.encryption_key is not None:
        return PiiCipher(settings.security.encryption_key.get_secret_value().encode())
    path = Path(settings.home) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return PiiCipher(path.read_bytes().strip())
