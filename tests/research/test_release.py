"""Freeing a model before exit waits for its native teardown thread."""

from __future__ import annotations

import threading
import time

from research.release import CLOSE_THREAD, release_model


class SlowClose:
    """Closes like EmbeddedLlm: the teardown runs on a daemon thread named as the real one."""

    def __init__(self) -> None:
        self.freed = threading.Event()

    def close(self) -> None:
        def drop() -> None:
            time.sleep(0.2)
            self.freed.set()

        threading.Thread(target=drop, name=CLOSE_THREAD, daemon=True).start()


def test_release_waits_for_the_teardown_thread():
    model = SlowClose()
    release_model(model)
    assert model.freed.is_set()


def test_models_without_close_are_left_alone():
    release_model(object())
