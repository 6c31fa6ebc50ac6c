"""Chat LLM engines implementing `agent.base.ChatModel`; one runtime per module."""
