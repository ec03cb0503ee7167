"""Checks models that denpa exported against denpa's own forward pass.

Usage: check.py MANIFEST.json

The manifest lists cases: {"name", "network", "model", "data", "tolerance",
"float_twin"}. For each, the model must pass onnx.checker.check_model with
full_check=True, carry denpa's metadata, name its inputs and outputs as the
data file does with a symbolic first dimension "batch" where batched, and
compute in ONNX Runtime the outputs denpa computed: for every element,
|onnx - denpa| <= tolerance * max(|denpa|, 1) (relative, absolute below 1).

The data file is safetensors (read here with numpy alone): "input.NAME" for
each input and "output.NAME" for each output of denpa's forward pass, and
for a classifier ("accuracy": {"output", "correct"}) the "labels": ONNX
Runtime's predictions must get exactly as many of them right as denpa's.

ONNX Runtime's CPU provider has no double-precision Conv or AveragePool
kernel. A double model that uses them is checked but not run; its case must
name a float twin (the same network exported as f32) that is run.

Exits 1 if any case fails, listing every failure.
"""

import json
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
NO_DOUBLE_KERNEL = {"Conv", "AveragePool", "Gelu"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors


def first_dim(value_info):
    dims = value_info.type.tensor_type.shape.dim
    return dims[0] if dims else None


def check(case, names):
    model = onnx.load(case["model"])
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("denpa.network") != case["network"]:
        raise AssertionError(f"metadata names {meta.get('denpa.network')!r}")
    if "network " + case["network"] not in meta.get("denpa.source", ""):
        raise AssertionError("the metadata lacks the network's .nn source")
    if not meta.get("denpa.version"):
        raise AssertionError("the metadata lacks denpa's version")
    tensors = read_safetensors(case["data"])
    feeds = {k[6:]: v for k, v in tensors.items() if k.startswith("input.")}
    expected = {k[7:]: v for k, v in tensors.items() if k.startswith("output.")}
    inputs = {i.name: i for i in model.graph.input}
    outputs = {o.name: o for o in model.graph.output}
    if set(inputs) != set(feeds) or set(outputs) != set(expected):
        raise AssertionError(
            f"inputs {sorted(inputs)} and outputs {sorted(outputs)}, "
            f"denpa's are {sorted(feeds)} and {sorted(expected)}"
        )
    for name, info in inputs.items():
        if first_dim(info) is None or first_dim(info).dim_param != "batch":
            raise AssertionError(f"input {name} has no symbolic batch dimension")
    for name, info in inputs.items():
        # Indices: int64, with their range in the metadata, and within it.
        if info.type.tensor_type.elem_type == onnx.TensorProto.INT64:
            declared = meta.get(f"denpa.range.{name}", "")
            if not declared.startswith("0.."):
                raise AssertionError(f"input {name} of indices has no range in the metadata")
            end = int(declared[3:])
            if feeds[name].size and not (0 <= feeds[name].min() and feeds[name].max() < end):
                raise AssertionError(f"input {name} holds indices outside {declared}")
    ops = {n.op_type for n in model.graph.node}
    double = any(
        v.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
        for v in list(model.graph.input) + list(model.graph.output)
    )
    missing = sorted(ops & NO_DOUBLE_KERNEL) if double else []
    if missing:
        twin = case.get("float_twin")
        if twin not in names:
            raise AssertionError(f"double {missing} cannot run and no float twin is listed")
        return f"checked; ONNX Runtime has no double {', '.join(missing)}: run as {twin}"
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    order = [o.name for o in session.get_outputs()]
    worst = 0.0
    for name, got in zip(order, session.run(order, feeds)):
        want = expected[name]
        if got.shape != want.shape:
            raise AssertionError(f"{name}: shape {got.shape}, denpa's {want.shape}")
        if want.size:
            error = np.abs(got.astype(np.float64) - want) / np.maximum(np.abs(want), 1.0)
            worst = max(worst, float(np.max(error)))
    if not worst <= case["tolerance"]:
        raise AssertionError(f"error {worst:.3g} above {case['tolerance']:.0e}")
    report = f"ran: largest error {worst:.2g} (≤ {case['tolerance']:.0e})"
    accuracy = case.get("accuracy")
    if accuracy:
        outputs = dict(zip(order, session.run(order, feeds)))
        predicted = np.argmax(outputs[accuracy["output"]], axis=1)
        labels = tensors["labels"].astype(np.int64)
        correct = int(np.sum(predicted == labels))
        if correct != accuracy["correct"]:
            raise AssertionError(
                f"ONNX Runtime classifies {correct} of {len(labels)} right, "
                f"denpa {accuracy['correct']}"
            )
        report += f"; held-out accuracy {100 * correct / len(labels):.1f}% as in denpa"
    return report


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)["cases"]
    names = {c["name"] for c in cases}
    failures = []
    for case in cases:
        try:
            print(f"ok   {case['name']}: {check(case, names)}")
        except Exception as e:  # every failure is reported, then the run fails
            failures.append(case["name"])
            print(f"FAIL {case['name']}: {type(e).__name__}: {e}")
    print(f"{len(cases) - len(failures)} of {len(cases)} models passed")
    if failures:
        print("failed: " + ", ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
