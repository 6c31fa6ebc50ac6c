"""`empathica eval`: run the agent in text mode over scripted dialogues and report on it (docs/research.md).

runner: plays dialogues against the agent, turn by turn as a server session; metrics: the pure metric functions;
summary: per-variant figures; plots and report: the Markdown/JSON report with matplotlib figures; command: the CLI.
"""
