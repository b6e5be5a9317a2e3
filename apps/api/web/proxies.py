"""Trust boundary at the edge: X-Forwarded-* honoured only from FORWARDED_ALLOW_IPS peers (gunicorn's meaning)."""
import ipaddress

from flask import has_request_context, request

# The direct peer's address, before any X-Forwarded-For was applied (for checks that need the real socket).
PEER_ADDR = "printshop.peer_addr"


def parse_address(text):
    """Return `text` as an address (IPv4-mapped IPv6 as IPv4, no zone id), or None when it is not one."""
    try:
        # A zone id (fe80::1%eth0) names an interface of the sender's host: no part of who the client is,
        # and no inet column takes it.
        address = ipaddress.ip_address(str(text).strip().split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ForwardedFrom:
    """WSGI middleware: take the client address and scheme from X-Forwarded-* only when the peer is trusted.

    The client is the rightmost X-Forwarded-For address that is not itself a trusted proxy, so a client
    cannot choose its address by sending the header itself: every trusted proxy appends what it saw.
    """

    def __init__(self, app, allowed):
        self.app = app
        self.allowed = allowed

    def trusted(self, address):
        return address is not None and any(address in network for network in self.allowed)

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR")
        environ[PEER_ADDR] = peer
        if self.trusted(parse_address(peer)):
            forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
            client = peer
            for hop in reversed(forwarded.split(",") if forwarded else []):
                address = parse_address(hop)
                if address is None:
                    break
                client = str(address)
                if not self.trusted(address):
                    break
            environ["REMOTE_ADDR"] = client
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").rsplit(",", 1)[-1].strip().lower()
            if scheme in ("http", "https"):
                environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)


def rate_limit_key(text):
    """Return the key a client address counts under: IPv6 clients by their /64 (one host usually has all of it)."""
    address = parse_address(text)
    if address is None:
        return text or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_ip():
    """Return the client's address (X-Forwarded-For applied only from FORWARDED_ALLOW_IPS peers)."""
    if not has_request_context():
        return None
    address = request.remote_addr
    if address and "%" in address:  # a link-local peer's zone id (fe80::1%eth0): inet takes no zone
        address = address.split("%", 1)[0]
    return address
