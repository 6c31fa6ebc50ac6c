"""Server metrics in the Prometheus text exposition format (version 0.0.4), written by hand: no client library.

One `Metrics` object belongs to the app; sessions count into it and `/metrics` renders it. Everything runs on the
event loop, so plain integers need no lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from storage.store import InputKind

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "empathica_"
# Seconds; a turn on a laptop CPU takes from under a second (typed, short reply) to tens of seconds.
LATENCY_BUCKETS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
TURN_KINDS: tuple[InputKind, ...] = ("text", "audio")


@dataclass
class Histogram:
    """Cumulative-bucket histogram of observations in seconds."""

    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        """Add one observation."""
        self.count += 1
        self.total += value
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1

    def lines(self, name: str) -> list[str]:
        """The `_bucket`, `_sum` and `_count` sample lines."""
        out = [f'{name}_bucket{{le="{_number(b)}"}} {c}' for b, c in zip(self.buckets, self.counts, strict=True)]
        out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{name}_sum {_number(self.total)}")
        out.append(f"{name}_count {self.count}")
        return out


@dataclass
class Metrics:
    """The counters, histograms and gauges that `/metrics` exposes."""

    connections: int = 0
    barge_ins: int = 0
    turns: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TURN_KINDS, 0))
    errors: dict[str, int] = field(default_factory=dict)
    first_media: Histogram = field(default_factory=Histogram)
    turn_time: Histogram = field(default_factory=Histogram)

    def connection_opened(self) -> None:
        """A websocket was upgraded."""
        self.connections += 1

    def barge_in(self) -> None:
        """The user spoke over a reply and it was stopped."""
        self.barge_ins += 1

    def error(self, code: str) -> None:
        """An `error` message with this code was sent to a client."""
        self.errors[code] = self.errors.get(code, 0) + 1

    def turn_completed(self, kind: InputKind, timings_ms: Mapping[str, float]) -> None:
        """A turn was stored; its pipeline timings (milliseconds) feed the latency histograms."""
        self.turns[kind] = self.turns.get(kind, 0) + 1
        if "first_media" in timings_ms:
            self.first_media.observe(timings_ms["first_media"] / 1000.0)
        if "total" in timings_ms:
            self.turn_time.observe(timings_ms["total"] / 1000.0)

    def render(self, open_sessions: int) -> str:
        """The exposition text; `open_sessions` is read from the app at scrape time rather than tracked here."""
        lines: list[str] = []

        def header(name: str, kind: str, help_text: str) -> str:
            full = PREFIX + name
            lines.extend([f"# HELP {full} {help_text}", f"# TYPE {full} {kind}"])
            return full

        name = header("websocket_connections_total", "counter", "Websocket connections opened.")
        lines.append(f"{name} {self.connections}")
        name = header("turns_total", "counter", "Turns completed and stored, by input kind.")
        lines.extend(f'{name}{{kind="{_label(k)}"}} {v}' for k, v in sorted(self.turns.items()))
        name = header("barge_ins_total", "counter", "Replies stopped because the user started speaking.")
        lines.append(f"{name} {self.barge_ins}")
        name = header("errors_total", "counter", "Error messages sent to clients, by error code.")
        lines.extend(f'{name}{{code="{_label(k)}"}} {v}' for k, v in sorted(self.errors.items()))
        name = header("first_media_seconds", "histogram", "End of the user's input to the first media piece sent.")
        lines.extend(self.first_media.lines(name))
        name = header("turn_seconds", "histogram", "End of the user's input to the end of the turn.")
        lines.extend(self.turn_time.lines(name))
        name = header("open_sessions", "gauge", "Websocket conversations open now.")
        lines.append(f"{name} {open_sessions}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return repr(float(value))


def _label(value: str) -> str:
    # Label values escape backslash, double quote and newline (exposition format rules).
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
