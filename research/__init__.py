"""Research toolkit: evaluate, compare and replay empathetic dialogues; ask people; fine-tune the reply model.

A composition root over `agent/` (like `server/`): it may import `core`, `agent`, `storage` and `compose` (the
configuration and engine factories); nothing else imports it except the CLI (`cli/main.py` forwards `eval`,
`replay`, `humaneval`, `finetune`). `formats` reads corpora, `provenance` records how a report was made,
`release` frees a loaded LLM before exit.
"""
