"""Research toolkit: evaluate, compare and replay empathetic dialogues; fine-tune the reply model with LoRA.

A composition root over `agent/` (like `server/`): it may import `core`, `agent`, `storage` and `compose` (the
configuration and engine factories); nothing else imports it except the CLI (`cli/main.py` forwards `eval`,
`replay`, `finetune`).
"""
