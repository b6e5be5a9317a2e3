"""The Host header check is Flask's own (TRUSTED_HOSTS); this request class only lets it accept IPv6 literals.

werkzeug compares a trusted entry up to its first ":", so "::1" or "[::1]" can never match a Host of
"[::1]:5000". The request answers Flask's check with "no restriction" exactly when its Host is a bracketed
IPv6 literal listed in TRUSTED_HOSTS; every other Host goes through werkzeug's comparison unchanged.
"""
import ipaddress
import re
from collections.abc import Collection

from flask import Request

_BRACKETED = re.compile(r"\[([0-9a-fA-F:.]+)\](?::[0-9]{1,5})?")


def _ipv6(text: str) -> ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    return address if isinstance(address, ipaddress.IPv6Address) else None


class HostCheckedRequest(Request):
    """Flask's request, whose trusted_hosts also match a bracketed IPv6 Host."""

    _trusted: Collection[str] | None = None

    @property  # type: ignore[override]
    def trusted_hosts(self) -> Collection[str] | None:
        trusted = self._trusted
        if not trusted:
            return trusted
        match = _BRACKETED.fullmatch(self.environ.get("HTTP_HOST", ""))
        host = _ipv6(match.group(1)) if match else None
        if host is not None and any(_ipv6(entry) == host for entry in trusted):
            return None  # a listed IPv6 literal: trusted (werkzeug still checks its characters)
        return trusted

    @trusted_hosts.setter
    def trusted_hosts(self, value: Collection[str] | None) -> None:
        self._trusted = value
