"""Expose a VITS voice's per-phoneme durations as an extra ONNX output, in memory, without the `onnx` package.

Piper voices are VITS models: inside the graph a `Ceil` node rounds the predicted duration of every phoneme id
to whole spectrogram frames (`w_ceil`), and the audio is exactly `sum(w_ceil) * hop_length` samples long. Piper
(`PiperVoice.load(include_alignments=True)`) marks that tensor as a graph output with the `onnx` package; we do
the same edit directly on the protobuf wire format so the alignments need no extra dependency: a second
`graph` field appended to a serialised `ModelProto` is merged into the first by every protobuf parser, and its
repeated `output` field is appended to the graph's outputs.

Other duration-predicting voices (hibari, a Kokoro distillation) round their durations with a `Round` and
then build the frame alignment with a single `CumSum` over them: for those, the tensor to expose is the
`CumSum`'s first input (`source="cumsum"`).

Field numbers (onnx.proto3): ModelProto.graph = 7; GraphProto.node = 1, GraphProto.output = 12;
NodeProto.input = 1, NodeProto.output = 2, NodeProto.op_type = 4; ValueInfoProto.name = 1.
"""

from __future__ import annotations

from collections.abc import Iterator

_MODEL_GRAPH, _GRAPH_NODE, _GRAPH_OUTPUT, _NODE_OUTPUT, _NODE_OP_TYPE, _VALUE_INFO_NAME = 7, 1, 12, 2, 4, 1
_NODE_INPUT = 1
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


def with_duration_output(model: bytes, source: str = "ceil") -> tuple[bytes, str] | None:
    """The model with its duration tensor added as an output, and that tensor's name; None if there is no single
    candidate or the model already outputs it (then it needs no patch or cannot be patched).

    source: "ceil" - the output of the single `Ceil` node (VITS / Piper); "cumsum" - the first input of the
    single `CumSum` node (durations summed into a frame alignment, e.g. hibari).
    """
    if source not in ("ceil", "cumsum"):
        raise ValueError(f"source must be 'ceil' or 'cumsum', got {source!r}")
    op, position = ("Ceil", "output") if source == "ceil" else ("CumSum", "input")
    try:
        graphs = [value for field, value in _messages(memoryview(model)) if field == _MODEL_GRAPH]
        candidates: list[str] = []
        graph_outputs: set[str] = set()
        for graph in graphs:
            for field, value in _messages(graph):
                if field == _GRAPH_NODE:
                    op_type, inputs, outputs = _node(value)
                    if op_type == op:
                        candidates.extend(outputs if position == "output" else inputs[:1])
                elif field == _GRAPH_OUTPUT:
                    graph_outputs.update(bytes(v).decode() for f, v in _messages(value) if f == _VALUE_INFO_NAME)
    except (IndexError, UnicodeDecodeError, ValueError):
        return None  # not a protobuf we understand: synthesise without durations
    if len(candidates) != 1 or candidates[0] in graph_outputs:
        return None
    name = candidates[0]
    value_info = _length_delimited(_VALUE_INFO_NAME, name.encode())
    return model + _length_delimited(_MODEL_GRAPH, _length_delimited(_GRAPH_OUTPUT, value_info)), name


def _node(node: memoryview) -> tuple[str, list[str], list[str]]:
    op_type, inputs, outputs = "", [], []
    for field, value in _messages(node):
        if field == _NODE_OP_TYPE:
            op_type = bytes(value).decode()
        elif field == _NODE_INPUT:
            inputs.append(bytes(value).decode())
        elif field == _NODE_OUTPUT:
            outputs.append(bytes(value).decode())
    return op_type, inputs, outputs


def _messages(buffer: memoryview) -> Iterator[tuple[int, memoryview]]:
    """(field number, bytes) of each length-delimited top-level field (string, bytes or message) of one message."""
    for field, _, value in _fields(buffer):
        if isinstance(value, memoryview):  # only length-delimited fields carry bytes; varints are ints
            yield field, value


def _fields(buffer: memoryview) -> Iterator[tuple[int, int, memoryview | int]]:
    """(field number, wire type, value) of each top-level field of one serialised message."""
    pos = 0
    while pos < len(buffer):
        tag, pos = _read_varint(buffer, pos)
        field, wire = tag >> 3, tag & 7
        if wire == _VARINT:
            value, pos = _read_varint(buffer, pos)
            yield field, wire, value
        elif wire == _LEN:
            size, pos = _read_varint(buffer, pos)
            if pos + size > len(buffer):
                raise ValueError("truncated protobuf field")
            yield field, wire, buffer[pos : pos + size]
            pos += size
        elif wire == _FIXED64:
            pos += 8
        elif wire == _FIXED32:
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _read_varint(buffer: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buffer[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint((field << 3) | _LEN) + _varint(len(payload)) + payload
