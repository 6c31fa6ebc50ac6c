from speech.tts.onnx_durations import _fields, _length_delimited, with_duration_output


def _node(op_type: str, output: str) -> bytes:
    return _length_delimited(2, output.encode()) + _length_delimited(4, op_type.encode())


def _model(*nodes: bytes, outputs: tuple[str, ...] = ("output",)) -> bytes:
    graph = b"".join(_length_delimited(1, n) for n in nodes)
    graph += b"".join(_length_delimited(12, _length_delimited(1, o.encode())) for o in outputs)
    return b"\x08\x07" + _length_delimited(7, graph)  # ir_version = 7, graph


def _graph_outputs(model: bytes) -> list[str]:
    names = []
    for field, _, graph in _fields(memoryview(model)):
        if field == 7:
            names += [bytes(_fields_value(v)).decode() for f, _, v in _fields(graph) if f == 12]
    return names


def _fields_value(value_info) -> memoryview:
    return next(v for f, _, v in _fields(value_info) if f == 1)


def test_the_ceil_tensor_becomes_an_output():
    model = _model(_node("Exp", "/Exp_output_0"), _node("Ceil", "/Ceil_output_0"))
    patched, name = with_duration_output(model)
    assert name == "/Ceil_output_0"
    assert patched.startswith(model)  # appended, so the original bytes are untouched
    assert _graph_outputs(patched) == ["output", "/Ceil_output_0"]


def test_models_it_cannot_patch_are_left_alone():
    assert with_duration_output(_model(_node("Exp", "x"))) is None  # no Ceil
    assert with_duration_output(_model(_node("Ceil", "a"), _node("Ceil", "b"))) is None  # ambiguous
    assert with_duration_output(_model(_node("Ceil", "w"), outputs=("output", "w"))) is None  # already patched
    assert with_duration_output(b"\xff\xff\xff") is None  # not a protobuf


def _node_with_input(op_type: str, inputs: tuple[str, ...], output: str) -> bytes:
    return b"".join(_length_delimited(1, i.encode()) for i in inputs) + _node(op_type, output)


def test_the_cumsum_input_becomes_an_output_for_round_based_voices():
    model = _model(
        _node_with_input("Round", ("x",), "/Round_output_0"),
        _node_with_input("Cast", ("/Round_output_0",), "/Cast_32_output_0"),
        _node_with_input("CumSum", ("/Cast_32_output_0", "axis"), "/CumSum_output_0"),
    )
    patched, name = with_duration_output(model, source="cumsum")
    assert name == "/Cast_32_output_0"
    assert _graph_outputs(patched) == ["output", "/Cast_32_output_0"]
    assert with_duration_output(model) is None  # no Ceil in this graph
