"""Prompt templates (text files) read by the agent."""
