"""Agents: the ReAct loop, tools, the sandbox, workflows, approvals and coordination.

Everything here talks to models through :class:`chatbot.providers.base.LLMProvider`, so
an agent runs unchanged on OpenAI, Anthropic or a self-hosted model.
"""
