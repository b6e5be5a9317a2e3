"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.support.fuzz_hooks): a fresh admin token for every request.

A fresh token each time, so a generated logout or a password change revokes nothing the next request needs.
FUZZ_ADMIN_ID names the admin's user id.
"""
import os

import schemathesis

from tests.support.tokens import claims_for, signed


@schemathesis.auth(refresh_interval=None)
class FreshAdminToken:
    def get(self, case, context):
        kind = "refresh" if case.path.endswith("/refresh") else "access"  # POST /api/auth/refresh and the like
        return signed(claims_for(int(os.environ["FUZZ_ADMIN_ID"]), "admin", token_type=kind))

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
