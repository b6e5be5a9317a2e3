"""Who the service believes at its edge: which peers may forward a client's address, and which Host names it serves.

Read by config.validate() at boot (a wide proxy range or a missing TRUSTED_HOSTS in production is refused
there, with the reason) and by create_app (Flask's own TRUSTED_HOSTS setting, checked on every request).
"""
import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A public range wider than this is not "the proxies": it holds clients, who could then name their own address.
MAX_PUBLIC_PREFIX = {4: 24, 6: 48}
# Names every development instance answers to (plus the address it binds, when that is a real one).
DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1", "::1")
UNSPECIFIED_BINDS = {"", "0.0.0.0", "::", "[::]"}


def _is_private_space(network: IPNetwork) -> bool:
    """Tell whether all of `network` lies in private, loopback, link-local or unique-local space."""
    if network.version == 4:
        spaces = [ipaddress.ip_network(text) for text in
                  ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
                   "100.64.0.0/10")]
    else:
        spaces = [ipaddress.ip_network(text) for text in ("fc00::/7", "::1/128", "fe80::/10")]
    return any(network.version == space.version and network.subnet_of(space)  # type: ignore[arg-type]
               for space in spaces)


def forwarded_allow_problem(networks: Iterable[IPNetwork]) -> str | None:
    """Return why production must refuse these FORWARDED_ALLOW_IPS networks, or None when each is narrow enough."""
    for network in networks:
        if network.prefixlen == 0:
            return ("production refuses FORWARDED_ALLOW_IPS=* (or a /0): list only your proxies' "
                    "addresses or CIDRs")
        if _is_private_space(network):
            continue
        widest = MAX_PUBLIC_PREFIX[network.version]
        if network.prefixlen < widest:
            return (f"production refuses FORWARDED_ALLOW_IPS entry {network}: a public range wider than "
                    f"/{widest} holds clients, who could then name their own address; list only your "
                    "proxies (private, loopback, link-local or unique-local space, or public ranges of at "
                    f"most /{MAX_PUBLIC_PREFIX[4]} for IPv4 and /{MAX_PUBLIC_PREFIX[6]} for IPv6)")
    return None


def parse_hosts(text: str) -> list[str]:
    """Return the host names of a comma-separated TRUSTED_HOSTS value (lower case, no brackets)."""
    return [entry.strip().lower().strip("[]") for entry in str(text).split(",") if entry.strip()]


def trusted_hosts(configured: str, bind: str, production: bool) -> list[str]:
    """Return the Host names this instance serves: TRUSTED_HOSTS, or in development the local names and `bind`."""
    hosts = parse_hosts(configured)
    if hosts or production:
        return hosts
    bound = bind.strip().lower()
    extra = [] if bound in UNSPECIFIED_BINDS else [bound.strip("[]")]
    return list(dict.fromkeys([*DEVELOPMENT_HOSTS, *extra]))
