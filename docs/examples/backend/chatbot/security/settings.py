"""Security settings, nested in the app's ``Settings`` as ``security``.

Environment names are ``CHATBOT_SECURITY__<NAME>``, e.g. ``CHATBOT_SECURITY__JWT_ISSUER``.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr


# [start:settings]
class SecuritySettings(BaseModel):
    # Anonymous access is for a laptop: the app refuses it unless it listens on loopback.
    allow_anonymous: bool = False
    # OIDC: tokens are RS256/ES256 JWTs from the identity provider, keys from its JWKS.
    jwt_issuer: str = ""
    jwt_audience: str = "chatbot-api"
    jwks_url: str = ""
    jwt_algorithms: list[str] = ["RS256", "ES256"]
    jwt_leeway_s: int = 30
    # API keys are stored as HMAC-SHA256(pepper, secret); the pepper lives in a Secret.
    api_key_pepper: SecretStr = SecretStr("")
    # Pseudonyms in the audit log: HMAC(audit_key, user id); rotate yearly.
    audit_key: SecretStr = SecretStr("")
    cors_origins: list[str] = []
    max_body_bytes: int = 64 * 1024  # 8,000 characters of UTF-8 JSON fit with room to spare
    link_allowlist: list[str] = ["example.com"]
    moderation_enabled: bool = False
    moderation_model: str = ""  # set in configuration, e.g. the provider's moderation model


# [end:settings]
