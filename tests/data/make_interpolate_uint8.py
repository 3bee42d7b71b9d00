"""Writes tests/data/torch/interpolate_uint8.json: PyTorch's uint8 resizes (its fixed-point image
path) of one fixed image, read by tests/nn/test_interpolate_uint8.py on machines without
PyTorch (CI has none). Run with PyTorch installed:

    python tests/data/make_interpolate_uint8.py
"""

from __future__ import annotations

import json
import pathlib

import torch

HERE = pathlib.Path(__file__).resolve().parent / "torch"

# (mode, antialias, align_corners, keyword arguments): down- and up-scaling, by size and by
# scale factor, every mode of the image path.
CASES = [
    ("bilinear", False, False, {"size": [3, 4]}),
    ("bilinear", False, True, {"size": [6, 11]}),
    ("bilinear", True, False, {"scale_factor": [0.45, 0.6]}),
    ("bilinear", True, True, {"size": [2, 13]}),
    ("bicubic", False, False, {"scale_factor": [1.7, 0.5]}),
    ("bicubic", False, True, {"size": [4, 3]}),
    ("bicubic", True, False, {"size": [3, 5]}),
    ("bicubic", True, True, {"size": [7, 2]}),
    ("lanczos", True, False, {"size": [2, 9]}),
]


def image() -> torch.Tensor:
    """A fixed (1, 3, 5, 7) image with edges, flat patches and both extremes."""
    values = (torch.arange(3 * 5 * 7) * 37 + 11) % 256
    values[::4] = 255
    values[1::9] = 0
    return values.reshape(1, 3, 5, 7).to(torch.uint8)


def main() -> None:
    x = image()
    cases = []
    for mode, antialias, align_corners, options in CASES:
        out = torch.nn.functional.interpolate(
            x, mode=mode, antialias=antialias, align_corners=align_corners,
            **{k: tuple(v) for k, v in options.items()})
        cases.append({"mode": mode, "antialias": antialias, "align_corners": align_corners,
                      "options": options, "shape": list(out.shape),
                      "values": out.flatten().tolist()})
    payload = {"torch": torch.__version__, "input": x.flatten().tolist(),
               "input_shape": list(x.shape), "cases": cases}
    (HERE / "interpolate_uint8.json").write_text(json.dumps(payload) + "\n")


if __name__ == "__main__":
    main()
