"""The API key commands and the console act with: ALEF_API_KEY, else the credentials file that
`alefctl login` writes in the data directory (mode 0600: the key is a password)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from alefctl.settings import Settings


def api_key(settings: Settings) -> tuple[str | None, str]:
    """The key to act with and where it came from (the variable, or the file's path)."""
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return settings.api_key.get_secret_value(), "ALEF_API_KEY"
    return saved_key(settings), str(settings.credentials_file)


def saved_key(settings: Settings) -> str | None:
    """The key saved by `alefctl login`, if any."""
    try:
        data = json.loads(settings.credentials_file.read_text())
    except (OSError, ValueError):
        return None
    key = data.get("api_key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else None


def save_key(settings: Settings, secret: str, email: str) -> Path:
    """Keep a key for this data directory's user, readable by them alone."""
    path = settings.credentials_file
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"email": email, "api_key": secret}, out)
        out.write("\n")
    os.replace(staged, path)
    return path


def forget_key(settings: Settings) -> bool:
    """Remove the saved key; False if there was none."""
    try:
        settings.credentials_file.unlink()
    except FileNotFoundError:
        return False
    return True
