"""Conversation state, memory, context-window budgeting and sessions (chapter 7).

:mod:`~chatbot.memory.conversation` holds the message tree and its thread manager,
:mod:`~chatbot.memory.tokens` and :mod:`~chatbot.memory.context` decide what fits in the
model's window, :mod:`~chatbot.memory.memory` assembles short-term, summary, long-term and
entity memory, and :mod:`~chatbot.memory.sessions` keeps sessions and devices in step
through Redis.
"""
