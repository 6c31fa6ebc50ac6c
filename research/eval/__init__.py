"""`empathica eval`: run the agent in text mode over dialogues and report on it (docs/research.md).

runner: plays dialogues turn by turn as a server session; baselines: the agent with one part stripped away;
hints: what the chain's prompt told the model; judge: what each reply shows (words' emotion, mechanisms,
closeness to the reference); strategy: the mechanism detector; metrics: pure metric functions; measures: every
metric of the report; stats: bootstrap intervals and seed spread; summary: per-variant figures; plots and
report: the Markdown/JSON report with matplotlib figures; command: the CLI entry.
"""
