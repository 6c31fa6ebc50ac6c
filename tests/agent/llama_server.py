"""Run llama.cpp's OpenAI-compatible HTTP server (through xllamacpp) until killed: a real server for tests.

python tests/agent/llama_server.py MODEL.gguf PORT
"""

from __future__ import annotations

import sys
import threading

import xllamacpp


def main() -> None:
    model, port = sys.argv[1], int(sys.argv[2])
    params = xllamacpp.CommonParams()
    params.model.path = model
    params.offline = True
    params.n_ctx = 2048
    params.n_parallel = 1
    params.use_jinja = True
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.port = port  # xllamacpp.Server serves llama.cpp's HTTP API on this loopback port
    params.verbosity = -1
    server = xllamacpp.Server(params)
    print("serving", flush=True)
    threading.Event().wait()  # until the test kills the process
    del server


if __name__ == "__main__":
    main()
