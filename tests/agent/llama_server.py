"""Run llama.cpp's OpenAI-compatible HTTP server (through xllamacpp) until killed: a real server for tests.

python tests/agent/llama_server.py MODEL.gguf PORT [SLOTS [THREADS [SLOT_CONTEXT]]]

SLOTS requests are decoded side by side (llama.cpp's parallel slots, default 1), each with SLOT_CONTEXT tokens of
context (default 2048); THREADS CPU threads (default 1). benchmarks/load.py serves several sessions with it.
"""

from __future__ import annotations

import sys
import threading

import xllamacpp


def main() -> None:
    model, port = sys.argv[1], int(sys.argv[2])
    defaults = [1, 1, 2048]
    given = [int(a) for a in sys.argv[3:6]]
    slots, threads, slot_context = given + defaults[len(given) :]
    params = xllamacpp.CommonParams()
    params.model.path = model
    params.offline = True
    params.n_ctx = slot_context * slots  # llama.cpp splits the context among its slots
    params.n_parallel = slots
    params.use_jinja = True
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.port = port  # xllamacpp.Server serves llama.cpp's HTTP API on this loopback port
    params.verbosity = -1
    server = xllamacpp.Server(params)
    print("serving", flush=True)
    threading.Event().wait()  # until the test kills the process
    del server


if __name__ == "__main__":
    main()
