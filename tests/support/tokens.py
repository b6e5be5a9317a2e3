"""Hostile Authorization headers: every way a bearer token can be missing, malformed, forged or dead."""
import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt as pyjwt

from tests.support.auth import TEST_SECRET

OTHER_SECRET = "another-secret-that-is-long-enough-0123456789"


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed(claims, key=TEST_SECRET, algorithm="HS256", headers=None):
    """Return a JWT of `claims` signed with `key`."""
    return pyjwt.encode(claims, key, algorithm=algorithm, headers=headers)


def _signed_with_empty_key(claims):
    """Return an HS256 JWT whose HMAC key is empty (PyJWT refuses to make one)."""
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    digest = hmac.new(b"", signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def claims_for(user_id, role, token_type="access", lifetime=900, **extra):
    """Return the claims flask-jwt-extended would put in a token of `user_id`."""
    now = int(time.time())
    claims = {"fresh": False, "iat": now, "jti": str(uuid.uuid4()), "type": token_type, "sub": str(user_id),
              "nbf": now, "exp": now + lifetime, "role": role}
    claims.update(extra)
    return claims


def malformed_headers(good_token):
    """Return {kind: Authorization header or None} for headers no token check should even parse."""
    header, payload, _ = good_token.split(".")
    return {
        "missing": None,
        "empty bearer": "Bearer ",
        "not a jwt": "Bearer not-a-jwt",
        "two segments": f"Bearer {header}.{payload}",
        "four segments": f"Bearer {good_token}.x",
        "no scheme": good_token,
        "basic scheme": "Basic " + base64.b64encode(b"admin:demo").decode(),
        "bearer twice": f"Bearer Bearer {good_token}",
        "binary garbage": "Bearer " + base64.urlsafe_b64encode(bytes(range(48))).decode(),
    }


def forged_tokens(victim, viewer, token_type):
    """Return {kind: token} derived from real identities: `victim` and `viewer` are (user_id, role, live session id).

    Each is refused for a different reason: signature, algorithm, time, or the database's view of the user.
    """
    (victim_id, victim_role, victim_sid), (viewer_id, viewer_role, viewer_sid) = victim, viewer
    victim, viewer = (victim_id, victim_role), (viewer_id, viewer_role)
    victim_claims = claims_for(*victim, token_type=token_type, sid=victim_sid)
    viewer_token = signed(claims_for(*viewer, token_type=token_type, sid=viewer_sid))
    header, payload, signature = viewer_token.split(".")
    viewer_claims = pyjwt.decode(viewer_token, TEST_SECRET, algorithms=["HS256"])
    now = int(time.time())
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(victim_claims)}.",
        "alg None, signature kept": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(victim_claims)}.{signature}",
        "wrong key": signed(victim_claims, key=OTHER_SECRET),
        "empty key": _signed_with_empty_key(victim_claims),
        "HS512 with the right key": signed(victim_claims, algorithm="HS512"),
        "bad signature": f"{header}.{payload}.{signature[::-1]}",
        "expired": signed(dict(victim_claims, iat=now - 3600, nbf=now - 3600, exp=now - 1)),
        "not yet valid": signed(dict(victim_claims, nbf=now + 3600, exp=now + 7200)),
        "forged role, signature kept": f"{header}.{_b64(dict(viewer_claims, role='admin'))}.{signature}",
        "role claim not the user's": signed(dict(claims_for(*viewer, token_type=token_type, sid=viewer_sid),
                                                 role="admin")),
        "unknown user": signed(claims_for(987654321, victim[1], token_type=token_type, sid=victim_sid)),
        "subject not a number": signed(claims_for("admin", victim[1], token_type=token_type, sid=victim_sid)),
        "session id not a uuid": signed(claims_for(*victim, token_type=token_type, sid="1 OR 1=1")),
        "kid header injection": signed(victim_claims, key=OTHER_SECRET,
                                       headers={"kid": "../../../../dev/null"}),
    }
