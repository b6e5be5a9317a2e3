"""PINs (issue 28): set by the user after a fresh login or by an admin, 4 to 8 digits; a PIN login needs a
tablet's token, is bound to it, and five wrong PINs for a user in 15 minutes lock that user's PIN logins."""
from tests.support.floor import client_call, device_headers, pin_login, register_device, set_pin


def tablet(client, auth, **fields):
    return register_device(client_call(client, auth.headers("manager")), "tablet", **fields)


def test_a_pin_is_4_to_8_digits(client, auth):
    url = f"/api/users/{auth.user_id('operator1')}/pin"
    for pin in ("123", "123456789", "12a4", "１２３４", " 1234", 1234, None, ""):
        response = client.put(url, json={"pin": pin}, headers=auth.headers("operator1"))
        assert response.status_code == 422, pin
        assert response.mimetype == "application/problem+json"
    for pin in ("0000", "12345678"):
        assert client.put(url, json={"pin": pin}, headers=auth.headers("operator1")).status_code == 204


def test_the_user_with_a_fresh_login_or_an_admin_sets_a_pin(client, auth, db):
    url = f"/api/users/{auth.user_id('operator1')}/pin"
    assert client.put(url, json={"pin": "1234"}, headers=auth.headers("operator2")).status_code == 403
    assert client.put(url, json={"pin": "1234"}, headers=auth.headers("manager")).status_code == 403
    assert client.put(url, json={"pin": "1234"}, headers=auth.headers("operator1", fresh=False)).status_code == 401
    assert client.put(url, json={"pin": "1234"}, headers=auth.headers("admin")).status_code == 204
    assert client.put("/api/users/999999/pin", json={"pin": "1234"}, headers=auth.headers("admin")).status_code == 404
    with db.cursor() as cur:
        cur.execute("SELECT pin_hash FROM users WHERE username = 'operator1'")
        assert cur.fetchone()[0].startswith("scrypt:")


def test_a_pin_login_with_a_tablet_token_works_and_without_is_401(client, auth, db):
    device_id, token = tablet(client, auth)
    set_pin(client, auth, "operator1", "4321")
    response = pin_login(client, token, "operator1", "4321")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    assert {"access_token", "refresh_token", "user"} <= answer.keys()
    assert answer["user"]["username"] == "operator1" and answer["device_id"] == device_id
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == "operator1"
    without = client.post("/api/auth/pin", json={"username": "operator1", "pin": "4321"})
    assert without.status_code == 401 and without.mimetype == "application/problem+json"
    as_user = client.post("/api/auth/pin", json={"username": "operator1", "pin": "4321"},
                          headers=auth.headers("manager"))
    assert as_user.status_code == 401
    with db.cursor() as cur:
        cur.execute("SELECT device_id FROM sessions WHERE user_id = %s AND device_id IS NOT NULL",
                    (auth.user_id("operator1"),))
        assert [row[0] for row in cur.fetchall()] == [device_id]
    tablet_view = client.get("/api/tablet", headers=device_headers(token)).get_json()
    assert "operator1" in [person["username"] for person in tablet_view["operators"]]


def test_a_pin_session_is_not_fresh(client, auth):
    _, token = tablet(client, auth)
    set_pin(client, auth, "operator1", "5555")
    answer = pin_login(client, token, "operator1", "5555").get_json()
    response = client.put(f"/api/users/{answer['user']['id']}/pin", json={"pin": "6666"},
                          headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert response.status_code == 401  # changing the PIN needs a password login


def test_the_sixth_wrong_pin_is_429_and_the_right_one_too(client, auth, db):
    _, token = tablet(client, auth)
    set_pin(client, auth, "operator1", "2580")
    set_pin(client, auth, "operator2", "2580")
    for _ in range(5):
        assert pin_login(client, token, "operator1", "0000").status_code == 401
    sixth = pin_login(client, token, "operator1", "0000")
    assert sixth.status_code == 429 and sixth.mimetype == "application/problem+json"
    assert 800 < int(sixth.headers["Retry-After"]) <= 900
    right = pin_login(client, token, "operator1", "2580")
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert pin_login(client, token, "operator2", "2580").status_code == 200  # another user is not locked
    with db.cursor() as cur:
        cur.execute("SELECT message FROM notifications WHERE user_id = %s AND kind = 'system'",
                    (auth.user_id("operator1"),))
        assert any("wrong PINs" in row[0] for row in cur.fetchall())
        cur.execute("UPDATE failed_pins SET attempted_at = attempted_at - interval '15 minutes'")  # the window passes
    assert pin_login(client, token, "operator1", "2580").status_code == 200


def test_pin_actions_are_audited_as_the_operator_with_the_device(client, auth, db):
    device_id, token = tablet(client, auth)
    set_pin(client, auth, "operator1", "1357")
    answer = pin_login(client, token, "operator1", "1357").get_json()
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert client.post("/api/notifications/read-all", headers=headers).status_code in (200, 204)
    refreshed = client.post("/api/auth/refresh",
                            headers={"Authorization": f"Bearer {answer['refresh_token']}"}).get_json()
    assert client.post("/api/auth/logout",
                       headers={"Authorization": f"Bearer {refreshed['access_token']}"}).status_code == 200
    with db.cursor() as cur:
        cur.execute("SELECT action, user_id, device_id FROM audit_logs WHERE entity = 'users' "
                    "AND action IN ('login', 'logout') AND user_id = %s ORDER BY id", (auth.user_id("operator1"),))
        rows = cur.fetchall()
    assert rows[-2:] == [("login", auth.user_id("operator1"), device_id),
                         ("logout", auth.user_id("operator1"), device_id)]  # the refreshed token kept the device
    listed = client.get(f"/api/audit-logs?user_id={auth.user_id('operator1')}&action=logout",
                        headers=auth.headers("admin")).get_json()["items"]
    assert (listed[0]["device_id"], listed[0]["device_name"]) == (device_id, "tablet by the door")
