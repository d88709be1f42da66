"""Model-level concerns above the provider adapters: tools, tokens, costs, routing."""
