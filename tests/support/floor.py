"""The floor's devices as tests arrange them: register a board or a tablet, set a PIN, sign in with it."""


def register_device(call, kind, name=None, machine_id=None, idle_seconds=None):
    """Register a device through `call(method, path, body)` (the manager's); return (id, token)."""
    body = {"name": name or f"{kind} by the door", "kind": kind}
    if machine_id is not None:
        body["machine_id"] = machine_id
    if idle_seconds is not None:
        body["idle_seconds"] = idle_seconds
    status, answer = call("POST", "/api/devices", body)
    assert status == 201, answer
    return answer["id"], answer["token"]


def device_headers(token):
    return {"Authorization": f"Bearer {token}"}


def client_call(client, headers):
    """Return call(method, path, body) -> (status, JSON) through a Flask test client with `headers`."""

    def call(method, path, body=None):
        response = client.open(path, method=method, json=body, headers=headers)
        return response.status_code, response.get_json(silent=True)

    return call


def set_pin(client, auth, username, pin):
    """Set `username`'s PIN as that user (a fresh token)."""
    response = client.put(f"/api/users/{auth.user_id(username)}/pin", json={"pin": pin},
                          headers=auth.headers(username))
    assert response.status_code == 204, response.get_json()


def pin_login(client, tablet_token, username, pin):
    """POST /api/auth/pin with the tablet's token; return the response."""
    return client.post("/api/auth/pin", json={"username": username, "pin": pin},
                       headers=device_headers(tablet_token))
