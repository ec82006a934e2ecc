"""Which URLs a webhook may target: http(s) only, and no private, loopback, link-local or
otherwise non-public address unless settings.webhooks.allow_private_targets (tests, on-premise).
Checked at subscription and again before each delivery (a name may resolve elsewhere later)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from alefctl.errors import InvalidInput


def check_target(url: str, allow_private: bool) -> str:
    """The URL if a webhook may POST to it, else InvalidInput saying why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("a webhook URL must be http:// or https:// with a host", field="url")
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL may not carry credentials", field="url")
    if allow_private:
        return url.strip()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        raise InvalidInput(f"cannot resolve {parts.hostname}", field="url") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise InvalidInput(f"{parts.hostname} resolves to a private or loopback address"
                               f" ({address}); refused", field="url")
    return url.strip()
