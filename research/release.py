"""Free a loaded LLM before the interpreter exits.

llama.cpp runs native threads inside the process. `EmbeddedLlm.close()` hands the native server to a daemon
thread named "xllamacpp-close" whose destructor joins them; if the interpreter exits while that destructor runs
(or with the server never closed), the thread is torn down inside native code and glibc aborts the process with
"FATAL: exception not rethrown" after the work is done. Waiting here for that thread lets the command exit
cleanly; a destructor that hangs (rare) is given up on after `timeout` seconds, as before.
"""

from __future__ import annotations

import threading
from typing import Any

CLOSE_THREAD = "xllamacpp-close"  # agent.llm.embedded.EmbeddedLlm.close() names its thread so


def release_model(model: Any, timeout: float = 60.0) -> None:
    """Close `model` (anything with a close() method; others are left alone) and wait for its native teardown."""
    close = getattr(model, "close", None)
    if not callable(close):
        return
    close()
    for thread in threading.enumerate():
        if thread.name == CLOSE_THREAD and thread is not threading.current_thread():
            thread.join(timeout)
