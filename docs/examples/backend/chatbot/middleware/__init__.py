"""Cross-cutting ASGI middleware: error handling and request ids."""
