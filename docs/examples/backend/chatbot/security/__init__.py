"""Security controls: input sanitising, prompt-injection guardrails, moderation, privacy.

Every module here is usable on its own; ``chatbot.security.wiring`` plugs them into the app.
"""
