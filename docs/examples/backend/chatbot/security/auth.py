"""Who is calling: OIDC access tokens (JWT) for people, API keys for services.

Endpoints declare ``user: CurrentUser``; nothing else in the backend parses credentials.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Annotated, Literal, Protocol

import anyio.to_thread
import jwt
from fastapi import Depends, HTTPException, Request, params, status

from chatbot.security.apikeys import PREFIX, ApiKeyManager
from chatbot.security.settings import SecuritySettings


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str  # the IdP's stable "sub", or the API key owner's id
    scopes: frozenset[str]
    via: Literal["jwt", "api_key", "anonymous"]
    key_id: str | None = None
    claims: dict[str, object] = field(default_factory=dict, compare=False)


class SigningKeys(Protocol):
    """``jwt.PyJWKClient`` in production; a fixed key set in tests."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK: ...


# [start:jwt]
class JWTVerifier:
    """Validate an access token: signature, algorithm, issuer, audience, expiry.

    The accepted algorithms come from configuration, never from the token's header, so an
    ``alg: none`` or HS256-with-the-public-key token is rejected before any key is used.
    """

    def __init__(self, keys: SigningKeys, settings: SecuritySettings) -> None:
        self._keys = keys
        self._settings = settings

    async def verify(self, token: str) -> Principal:
        try:
            # PyJWKClient fetches the JWKS with blocking urllib on a cache miss (first call,
            # key rotation): keep that off the event loop.
            key = await anyio.to_thread.run_sync(self._keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self._settings.jwt_algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise _unauthorized("invalid_token") from exc
        raw = claims.get("scope", claims.get("scp", ""))
        scopes = frozenset(raw.split() if isinstance(raw, str) else raw)
        return Principal(str(claims["sub"]), scopes, "jwt", claims=claims)


def jwks_client(settings: SecuritySettings) -> jwt.PyJWKClient:
    """Keys cached for 5 minutes; an unknown ``kid`` triggers one refetch (key rotation)."""
    return jwt.PyJWKClient(settings.jwks_url, cache_jwk_set=True, lifespan=300, timeout=5)


# [end:jwt]


@dataclass(frozen=True, slots=True)
class Authenticator:
    settings: SecuritySettings
    jwt: JWTVerifier | None
    api_keys: ApiKeyManager | None
    anonymous_ok: bool


def build_authenticator(settings: SecuritySettings, *, host: str) -> Authenticator:
    """Anonymous access when asked for, or by default on a laptop with no IdP configured.

    A server listening on 0.0.0.0 never defaults to anonymous; the Helm chart's values
    schema forbids ``allow_anonymous`` in a cluster, and a test checks the manifests.
    """
    verifier = JWTVerifier(jwks_client(settings), settings) if settings.jwks_url else None
    pepper = settings.api_key_pepper.get_secret_value().encode()
    return Authenticator(
        settings=settings,
        jwt=verifier,
        api_keys=ApiKeyManager(pepper) if pepper else None,
        anonymous_ok=settings.allow_anonymous or (_is_loopback(host) and verifier is None),
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unauthorized(error: str) -> HTTPException:
    # One message for every failure: telling "expired" from "bad signature" helps attackers.
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "authentication required",
        {"WWW-Authenticate": f'Bearer error="{error}"'},
    )


# [start:authenticate]
async def authenticate(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <JWT or API key>``; 401 otherwise."""
    auth: Authenticator = request.app.state.authenticator
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        if auth.anonymous_ok:
            return Principal("anonymous", frozenset({"chat"}), "anonymous")
        raise _unauthorized("invalid_request")
    if credential.startswith(PREFIX):
        if auth.api_keys is None:
            raise _unauthorized("invalid_token")
        async with request.app.state.sessions() as session:
            key = await auth.api_keys.verify(session, credential)
        if key is None:
            raise _unauthorized("invalid_token")
        return Principal(key.owner_id, key.scopes, "api_key", key_id=key.key_id)
    if auth.jwt is None:
        raise _unauthorized("invalid_token")
    return await auth.jwt.verify(credential)


def require_scope(scope: str) -> params.Depends:
    """A dependency that lets through only principals holding *scope*."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope not in principal.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing scope {scope!r}")
        return principal

    dependency: params.Depends = Depends(check)
    return dependency


CurrentUser = Annotated[Principal, Depends(authenticate)]
# [end:authenticate]
