"""``python -m chatbot``: serve the application with uvicorn on the configured address."""

from __future__ import annotations

import uvicorn

from chatbot.settings import get_settings


def main() -> None:
    """Start the server; ``CHATBOT_HOST`` and ``CHATBOT_PORT`` choose where it listens."""
    settings = get_settings()
    uvicorn.run(
        "chatbot.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        timeout_graceful_shutdown=30,  # let streams in flight finish on SIGTERM
    )


if __name__ == "__main__":
    main()
