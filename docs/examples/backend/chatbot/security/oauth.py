"""OAuth 2.0 Authorization Code with PKCE, as the backend-for-frontend (BFF) runs it.

The browser never sees a token: it gets an HttpOnly session cookie, and the BFF keeps the
access and refresh tokens server-side. Per RFC 9700 (OAuth 2.0 Security BCP) and the
OAuth 2.1 draft: PKCE with S256 for every client, exact redirect-URI matching, ``state``
against CSRF, ``nonce`` against ID-token replay, no implicit or password grant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx2


class OAuthError(Exception):
    """The login cannot complete; the user starts again (never retry with the same code)."""


@dataclass(frozen=True, slots=True)
class OAuthClientConfig:
    client_id: str
    authorize_url: str
    token_url: str
    redirect_uri: str  # registered at the IdP byte for byte; no wildcards
    scopes: tuple[str, ...] = ("openid", "profile", "chat")


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_in: int


# [start:pkce]
def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge): 86 random URL-safe chars and their SHA-256, S256."""
    verifier = secrets.token_urlsafe(64)  # RFC 7636: 43..128 characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


class PkceFlow:
    """Start and finish one login. The pending state lives in a signed, short-lived cookie."""

    COOKIE_TTL_S = 600  # a login left open longer than 10 minutes starts over

    def __init__(self, config: OAuthClientConfig, *, cookie_key: bytes, http: httpx2.AsyncClient):
        self._config = config
        self._key = cookie_key
        self._http = http

    def start(self) -> tuple[str, str]:
        """The IdP URL to redirect to, and the value of the ``__Host-login`` cookie."""
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._config.client_id,
                "redirect_uri": self._config.redirect_uri,
                "scope": " ".join(self._config.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        pending = {"state": state, "nonce": nonce, "verifier": verifier, "at": int(time.time())}
        return f"{self._config.authorize_url}?{query}", self._seal(pending)

    async def finish(self, *, code: str, state: str, cookie: str) -> tuple[TokenSet, str]:
        """Exchange the code; returns the tokens and the nonce the ID token must carry."""
        pending = self._open(cookie)
        if not hmac.compare_digest(pending["state"], state):
            raise OAuthError("state mismatch: possible CSRF or a stale tab")
        response = await self._http.post(
            self._config.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._config.redirect_uri,
                "client_id": self._config.client_id,
                "code_verifier": pending["verifier"],
            },
            headers={"Accept": "application/json"},
            timeout=10,
        )
        if response.status_code != 200:
            raise OAuthError(f"token endpoint answered {response.status_code}")
        body = response.json()
        tokens = TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token"),
            id_token=body.get("id_token"),
            expires_in=int(body.get("expires_in", 300)),
        )
        return tokens, str(pending["nonce"])

    # [end:pkce]

    def _seal(self, data: dict[str, object]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
        return f"{payload}.{mac}"

    def _open(self, cookie: str) -> dict[str, str]:
        payload, _, mac = cookie.rpartition(".")
        expected = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
        if not payload or not hmac.compare_digest(mac, expected):
            raise OAuthError("login cookie was altered")
        data = json.loads(base64.urlsafe_b64decode(payload))
        if time.time() - int(data["at"]) > self.COOKIE_TTL_S:
            raise OAuthError("login took too long")
        return {k: str(v) for k, v in data.items()}
