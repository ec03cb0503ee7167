"""Answers a generation loop with ONNX Runtime: the model's first output for
one context at a time.

    python next.py MODEL

Reads lines of whole numbers (a context of character indices) from standard
input; for each, runs MODEL in ONNX Runtime on a batch of one such context
(int64, shaped as the model's first input) and writes one line of the first
output's numbers, flattened, as exact decimal reprs of their float32 or
float64 values. An empty line or the end of input stops it.
"""

import sys

import numpy as np
import onnxruntime as ort


def main():
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        sys.argv[1], options, providers=["CPUExecutionProvider"]
    )
    first = session.get_inputs()[0]
    output = session.get_outputs()[0].name
    # The per-sample shape: the model's input without its batch axis.
    shape = [1] + [int(d) for d in first.shape[1:]]
    for line in sys.stdin:
        line = line.strip()
        if not line:
            break
        context = np.array([int(v) for v in line.split()], dtype=np.int64)
        (y,) = session.run([output], {first.name: context.reshape(shape)})
        print(" ".join(repr(float(v)) for v in y.reshape(-1)), flush=True)


if __name__ == "__main__":
    main()
