"""authlib (PyPI) against Gatehouse: real flows, ID tokens verified against /jwks.

GATEHOUSE_URL is the issuer of a running Gatehouse with the integration-test config.
"""

import os
import re
import secrets
import unittest
from urllib.parse import urljoin

# authlib refuses plain http unless told; the tests run on loopback only.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken, IDToken  # noqa: E402

BASE = os.environ.get("GATEHOUSE_URL", "http://127.0.0.1:8080")
META = requests.get(BASE + "/.well-known/openid-configuration", timeout=10).json()


def field(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    return m and m.group(1)


def browser_sign_in(url, username="alice", password="alice-password", b=None):
    """Follows a person's path through the login and consent forms; returns the callback URL."""
    b = b or requests.Session()
    page = b.get(url, allow_redirects=False, timeout=10)
    if page.status_code == 200 and 'name="password"' in page.text:
        page = b.post(urljoin(BASE, "/login"), data={
            "interaction": field(page.text, "interaction"), "csrf": field(page.text, "csrf"),
            "username": username, "password": password,
        }, allow_redirects=False, timeout=10)
    if page.status_code == 200 and 'name="decision"' in page.text:
        page = b.post(urljoin(BASE, "/consent"), data={
            "interaction": field(page.text, "interaction"), "csrf": field(page.text, "csrf"),
            "decision": "approve",
        }, allow_redirects=False, timeout=10)
    assert page.status_code == 303, (page.status_code, page.text[:300])
    return page.headers["location"]


def verify_id_token(token, client_id, nonce=None, cls=IDToken):
    jwks = JsonWebKey.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"], jwks, claims_cls=cls,
        claims_options={"iss": {"essential": True, "value": META["issuer"]}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token.get("access_token")},
    )
    claims.validate()
    return claims


class CodeFlow(unittest.TestCase):
    def flow(self, client_id, secret, method, redirect_uri, scope, browser=None):
        s = OAuth2Session(client_id, secret, scope=scope, redirect_uri=redirect_uri,
                          code_challenge_method="S256", token_endpoint_auth_method=method)
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = s.create_authorization_url(META["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        callback = browser_sign_in(url, b=browser)
        token = s.fetch_token(META["token_endpoint"], authorization_response=callback, code_verifier=verifier)
        claims = verify_id_token(token, client_id, nonce, CodeIDToken)
        return s, token, claims

    def test_confidential_client_secret_basic_with_refresh_and_userinfo(self):
        s, token, claims = self.flow("webapp", "webapp-secret", "client_secret_basic",
                                     "http://127.0.0.1:3000/callback", "openid email roles offline_access")
        self.assertEqual(claims["roles"], ["admin"])
        self.assertEqual(s.get(META["userinfo_endpoint"], timeout=10).json()["email"], "alice@example.com")
        new = s.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertNotEqual(new["refresh_token"], token["refresh_token"])
        verify_id_token(new, "webapp")
        # A repeat inside the reuse grace window gets the same successor...
        again = s.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertEqual(again["refresh_token"], new["refresh_token"])
        # ...and once that successor has been used, the rotated token is a replay.
        s.refresh_token(META["token_endpoint"], refresh_token=new["refresh_token"])
        with self.assertRaises(Exception) as ctx:
            s.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertIn("invalid_grant", str(ctx.exception))

    def test_confidential_client_secret_post(self):
        _, _, claims = self.flow("postapp", "postapp-secret", "client_secret_post",
                                 "http://127.0.0.1:4000/cb", "openid profile")
        self.assertEqual(claims["aud"], "postapp")

    def test_public_spa_with_pkce(self):
        _, token, claims = self.flow("spa", None, "none", "http://127.0.0.1:5173/callback", "openid offline_access")
        self.assertTrue(token["refresh_token"])
        self.assertTrue(claims["sub"])


class Lifecycle(unittest.TestCase):
    def test_rp_initiated_logout(self):
        browser = requests.Session()
        _, token, claims = CodeFlow().flow("webapp", "webapp-secret", "client_secret_basic",
                                           "http://127.0.0.1:3000/callback", "openid", browser)
        r = browser.get(META["end_session_endpoint"], params={
            "id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:3000/", "state": "bye",
        }, allow_redirects=False, timeout=10)
        self.assertEqual(r.status_code, 303)
        self.assertEqual(r.headers["location"], "http://127.0.0.1:3000/?state=bye")
        # The SSO session is gone: signing in again shows the login form.
        s = OAuth2Session("webapp", "webapp-secret", scope="openid", redirect_uri="http://127.0.0.1:3000/callback",
                          code_challenge_method="S256")
        url, _ = s.create_authorization_url(META["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48))
        self.assertIn('name="password"', browser.get(url, allow_redirects=False, timeout=10).text)

    def test_introspection_and_revocation(self):
        s = OAuth2Session("pwapp", "pwapp-secret", scope="openid offline_access")
        token = s.fetch_token(META["token_endpoint"], username="alice", password="alice-password")
        live = s.introspect_token(META["introspection_endpoint"], token=token["access_token"]).json()
        self.assertTrue(live["active"])
        self.assertEqual(live["username"], "alice")
        r = s.revoke_token(META["revocation_endpoint"], token=token["access_token"], token_type_hint="access_token")
        self.assertEqual(r.status_code, 200)
        dead = s.introspect_token(META["introspection_endpoint"], token=token["access_token"]).json()
        self.assertEqual(dead, {"active": False})
        self.assertTrue(s.introspect_token(META["introspection_endpoint"], token=token["refresh_token"]).json()["active"])


class DirectGrants(unittest.TestCase):
    def test_client_credentials(self):
        s = OAuth2Session("service", "service-secret", scope="roles")
        token = s.fetch_token(META["token_endpoint"], grant_type="client_credentials")
        self.assertEqual(token["scope"], "roles")
        self.assertNotIn("id_token", token)

    def test_password(self):
        s = OAuth2Session("pwapp", "pwapp-secret", scope="openid roles offline_access")
        token = s.fetch_token(META["token_endpoint"], username="alice", password="alice-password")
        self.assertEqual(verify_id_token(token, "pwapp")["roles"], ["admin"])
        new = s.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertTrue(new["access_token"])

    def test_wrong_secret(self):
        s = OAuth2Session("service", "nope")
        with self.assertRaises(Exception) as ctx:
            s.fetch_token(META["token_endpoint"], grant_type="client_credentials")
        self.assertIn("invalid_client", str(ctx.exception))


class Administration(unittest.TestCase):
    """The admin API with a gatehouse:admin token that authlib obtained."""

    def test_admin_api_round_trip(self):
        s = OAuth2Session("ops", "ops-secret", scope="gatehouse:admin")
        s.fetch_token(META["token_endpoint"], grant_type="client_credentials")
        created = s.post(BASE + "/admin/v1/clients", json={
            "client_id": "made-by-authlib", "scope": "roles", "grants": ["client_credentials"],
        }, timeout=10)
        self.assertEqual(created.status_code, 201, created.text)
        secret = created.json()["client_secret"]
        # The new client works at once, with authlib too.
        fresh = OAuth2Session("made-by-authlib", secret, scope="roles")
        self.assertEqual(fresh.fetch_token(META["token_endpoint"], grant_type="client_credentials")["scope"], "roles")
        self.assertEqual(s.delete(BASE + "/admin/v1/clients/made-by-authlib", timeout=10).status_code, 204)
        bad = s.post(BASE + "/admin/v1/clients", json={"client_id": "x", "grants": ["magic"]}, timeout=10)
        self.assertEqual(bad.status_code, 400)
        self.assertEqual(bad.headers["content-type"], "application/problem+json")
        self.assertEqual(bad.json()["errors"][0]["field"], "grants")

    def test_private_key_jwt(self):
        """A client that holds a key instead of a secret, made through the admin API, gets
        tokens with authlib's own RFC 7523 client authentication; a replayed assertion fails."""
        from authlib.oauth2.rfc7523 import PrivateKeyJWT
        from joserfc.jwk import ECKey  # authlib's JOSE backend

        key = ECKey.generate_key("P-256", parameters={"kid": "authlib-1"})
        admin = OAuth2Session("ops", "ops-secret", scope="gatehouse:admin")
        admin.fetch_token(META["token_endpoint"], grant_type="client_credentials")
        created = admin.post(BASE + "/admin/v1/clients", json={
            "client_id": "keyed-by-authlib", "scope": "roles", "grants": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.as_dict(private=False)]},
        }, timeout=10)
        self.assertEqual(created.status_code, 201, created.text)
        self.assertNotIn("client_secret", created.json())
        self.assertIn("private_key_jwt", META["token_endpoint_auth_methods_supported"])
        s = OAuth2Session("keyed-by-authlib", key, scope="roles",
                          token_endpoint_auth_method="private_key_jwt")
        s.register_client_auth_method(PrivateKeyJWT(META["token_endpoint"], alg="ES256"))
        token = s.fetch_token(META["token_endpoint"], grant_type="client_credentials")
        self.assertEqual(token["scope"], "roles")
        # Another key under the client's name is refused.
        other = ECKey.generate_key("P-256", parameters={"kid": "authlib-1"})
        forged = OAuth2Session("keyed-by-authlib", other, scope="roles",
                               token_endpoint_auth_method="private_key_jwt")
        forged.register_client_auth_method(PrivateKeyJWT(META["token_endpoint"], alg="ES256"))
        with self.assertRaises(Exception):
            forged.fetch_token(META["token_endpoint"], grant_type="client_credentials")
        admin.delete(BASE + "/admin/v1/clients/keyed-by-authlib", timeout=10)


if __name__ == "__main__":
    unittest.main()
