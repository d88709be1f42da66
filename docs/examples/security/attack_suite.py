"""Chapter 10.4's security suite: attacks on the running backend, through its real middleware.

``tests/examples/test_security_api.py`` runs it with the examples' fixtures (``settings``).

The identity provider is simulated by a JWKS document served over HTTP on loopback, so
``jwt.PyJWKClient`` really fetches and caches keys. Tokens are signed with keys generated
per test session; the attacks forge, alter and replay them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from chatbot.app import create_app
from chatbot.security.apikeys import ApiKeyManager
from chatbot.security.settings import SecuritySettings
from chatbot.settings import Settings
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

ISSUER = "https://idp.test/"
AUDIENCE = "chatbot-api"
PEPPER = "p" * 32


class IdP:
    """Signs tokens like the organisation's OIDC provider and publishes its JWKS."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "k1"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [jwk | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}
        self.jwks_fetches = 0

    def token(self, sub: str | None, *, key: Any = None, alg: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300}
        payload |= {"scope": "chat"} | claims
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or self.key, algorithm=alg, headers={"kid": self.kid})

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture(scope="module")
def idp() -> Iterator[tuple[IdP, str]]:
    provider = IdP()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.jwks_fetches += 1
            body = json.dumps(provider.jwks).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def secure_settings(settings: Settings, idp: tuple[IdP, str]) -> Settings:
    security = SecuritySettings(
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwks_url=idp[1],
        api_key_pepper=PEPPER,
        cors_origins=["https://chat.example.com"],
        max_body_bytes=64 * 1024,
    )
    return settings.model_copy(
        update={"host": "0.0.0.0", "security": security, "rate_limit_per_minute": 5}
    )


@pytest.fixture
def api(secure_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(secure_settings)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_conversation(api: TestClient, token: str, text: str = "hello") -> str:
    response = api.post("/v1/chat/stream", json={"message": text}, headers=bearer(token))
    assert response.status_code == 200, response.text
    meta = next(line for line in response.text.splitlines() if line.startswith("data:"))
    return str(json.loads(meta[5:])["conversation_id"])


# [start:auth-bypass]
def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(idp: IdP) -> dict[str, str]:
    """Every way we know to get a token past a careless verifier."""
    good = idp.token("alice")
    head, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "hs256_with_public_key": _hs256_confusion(idp, claims),
        "foreign_key_same_kid": idp.token("alice", key=other_key),
        "payload_swapped": f"{head}.{_b64(claims | {'sub': 'bob'})}.{signature}",
        "expired": idp.token("alice", exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "wrong_audience": idp.token("alice", aud="another-api"),
        "wrong_issuer": idp.token("alice", iss="https://evil.test/"),
        "no_subject": idp.token(None),
        "no_expiry": idp.token("alice", exp=None),
        "garbage": "not-a-jwt",
    }


def _hs256_confusion(idp: IdP, claims: dict[str, Any]) -> str:
    """The classic: sign HS256 with the RSA public key, hoping the server uses it as a secret."""
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": idp.kid})
    body = _b64(claims)
    mac = hmac.new(idp.public_pem(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_forged_and_invalid_tokens_are_rejected(api: TestClient, idp: tuple[IdP, str]) -> None:
    for name, token in forged_tokens(idp[0]).items():
        response = api.get(f"/v1/conversations/{uuid.uuid4()}", headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json() == {"detail": "authentication required"}, name  # no oracle
        assert response.headers["www-authenticate"].startswith("Bearer"), name


def test_missing_or_misplaced_credentials_are_rejected(
    api: TestClient, idp: tuple[IdP, str]
) -> None:
    token = idp[0].token("alice")
    attempts: list[dict[str, Any]] = [
        {},
        {"headers": {"Authorization": "Bearer"}},
        {"headers": {"Authorization": f"Basic {token}"}},
        {"headers": {"Cookie": f"access_token={token}"}},
        {"params": {"access_token": token}},  # tokens in URLs end up in access logs
    ]
    for attempt in attempts:
        response = api.post("/v1/chat/stream", json={"message": "hi"}, **attempt)
        assert response.status_code == 401, attempt


def test_valid_token_works_and_jwks_is_cached(api: TestClient, idp: tuple[IdP, str]) -> None:
    before = idp[0].jwks_fetches
    for _ in range(3):
        start_conversation(api, idp[0].token("alice"))
    assert idp[0].jwks_fetches - before <= 1  # one fetch, then PyJWKClient's cache


# [end:auth-bypass]


def test_probes_stay_public(api: TestClient) -> None:
    assert api.get("/healthz").status_code == 200
    assert api.get("/readyz").status_code == 200


# [start:idor]
def test_users_cannot_read_or_extend_each_others_conversations(
    api: TestClient, idp: tuple[IdP, str]
) -> None:
    alice, bob = idp[0].token("alice"), idp[0].token("bob")
    conversation = start_conversation(api, alice, "my salary is 92000")

    read = api.get(f"/v1/conversations/{conversation}", headers=bearer(bob))
    missing = api.get(f"/v1/conversations/{uuid.uuid4()}", headers=bearer(bob))
    assert read.status_code == missing.status_code == 404
    assert read.json() == missing.json()  # "not yours" looks exactly like "does not exist"

    hijack = api.post(
        "/v1/chat/stream",
        json={"message": "append this", "conversation_id": conversation},
        headers=bearer(bob),
    )
    assert hijack.status_code == 404
    pre_claimed = api.post(
        "/v1/chat/stream",
        json={"message": "mine now", "conversation_id": str(uuid.uuid4())},
        headers=bearer(bob),
    )
    assert pre_claimed.status_code == 404  # clients cannot mint conversation ids

    own = api.get(f"/v1/conversations/{conversation}", headers=bearer(alice)).json()
    assert own["messages"][0]["content"] == "my salary is 92000"
    assert len(own["messages"]) == 2  # bob's attempt added nothing


def test_malformed_ids_do_not_reach_the_database(api: TestClient, idp: tuple[IdP, str]) -> None:
    alice = idp[0].token("alice")
    for bad in ["1 OR 1=1", "../../etc/passwd", "%00", "00000000-0000-0000-0000-00000000000g"]:
        response = api.get(f"/v1/conversations/{bad}", headers=bearer(alice))
        assert response.status_code in {404, 422}, bad


# [end:idor]


# [start:payloads]
def test_oversized_payloads_are_refused_before_parsing(
    api: TestClient, idp: tuple[IdP, str]
) -> None:
    headers = bearer(idp[0].token("alice"))
    too_long = api.post("/v1/chat/stream", json={"message": "x" * 8001}, headers=headers)
    assert too_long.status_code == 422  # the model's max_length

    huge = json.dumps({"message": "x" * 200_000}).encode()
    declared = api.post(
        "/v1/chat/stream",
        content=huge,
        headers=headers | {"Content-Type": "application/json"},
    )
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b'{"message": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}'

    streamed = api.post(
        "/v1/chat/stream", content=chunks(), headers=headers | {"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413

    nested = ("[" * 5000 + "]" * 5000).encode()
    deep = api.post(
        "/v1/chat/stream", content=nested, headers=headers | {"Content-Type": "application/json"}
    )
    assert deep.status_code == 400  # json.loads hits the recursion limit: a clean 400, no 500


def test_wrong_content_type_is_rejected(api: TestClient, idp: tuple[IdP, str]) -> None:
    response = api.post(
        "/v1/chat/stream",
        content=b'{"message": "hi"}',
        headers=bearer(idp[0].token("alice")) | {"Content-Type": "text/plain"},
    )
    assert response.status_code == 422


# [end:payloads]


# [start:rate-limit]
async def _issue_key(api: TestClient, owner: str) -> str:
    async with api.app.state.sessions() as session:  # type: ignore[attr-defined]
        return await ApiKeyManager(PEPPER.encode()).issue(
            session, owner_id=owner, name="ci", scopes=frozenset({"chat"})
        )


def test_rate_limit_cannot_be_evaded(api: TestClient, idp: tuple[IdP, str]) -> None:
    provider = idp[0]
    key_1 = api.portal.call(_issue_key, api, "alice")  # type: ignore[union-attr]
    key_2 = api.portal.call(_issue_key, api, "alice")  # type: ignore[union-attr]
    credentials = [provider.token("alice"), key_1, key_2, provider.token("alice", jti="x")]
    spoofed = [
        {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"} for n in range(8)
    ]
    if time.time() % 60 > 55:  # the limiter's window is the clock minute: don't straddle it
        time.sleep(60 - time.time() % 60)
    statuses = []
    for n in range(8):  # limit is 5 per minute; rotate credentials and spoofed client IPs
        headers = bearer(credentials[n % len(credentials)]) | spoofed[n]
        response = api.post("/v1/chat/stream", json={"message": f"m{n}"}, headers=headers)
        statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429] * 3
    assert "retry-after" in response.headers

    bob = api.post("/v1/chat/stream", json={"message": "hi"}, headers=bearer(provider.token("bob")))
    assert bob.status_code == 200  # per user, not global


# [end:rate-limit]


def test_revoked_and_mangled_api_keys_are_rejected(api: TestClient) -> None:
    key = api.portal.call(_issue_key, api, "carol")  # type: ignore[union-attr]
    assert api.get("/healthz", headers=bearer(key)).status_code == 200
    start = api.post("/v1/chat/stream", json={"message": "hi"}, headers=bearer(key))
    assert start.status_code == 200
    flipped = key[:-7] + ("A" if key[-7] != "A" else "B") + key[-6:]
    assert (
        api.post("/v1/chat/stream", json={"message": "x"}, headers=bearer(flipped)).status_code
        == 401
    )

    async def revoke() -> bool:
        async with api.app.state.sessions() as session:  # type: ignore[attr-defined]
            manager = ApiKeyManager(PEPPER.encode())
            key_id = key.removeprefix("cb_live_").split("_")[0]
            assert not await manager.revoke(session, owner_id="mallory", key_id=key_id)
            return await manager.revoke(session, owner_id="carol", key_id=key_id)

    assert api.portal.call(revoke)  # type: ignore[union-attr]
    assert (
        api.post("/v1/chat/stream", json={"message": "x"}, headers=bearer(key)).status_code == 401
    )


def test_security_headers_and_cors(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = api.options(
        "/v1/chat/stream", headers=preflight | {"Origin": "https://chat.example.com"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://chat.example.com"
    denied = api.options("/v1/chat/stream", headers=preflight | {"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in denied.headers
