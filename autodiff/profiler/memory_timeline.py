"""`profile.export_memory_timeline`: the memory the recorded arrays held over time, by
category, in the formats PyTorch's `MemoryProfileTimeline` writes.

PyTorch's categories, in its order: PARAMETER, OPTIMIZER_STATE, INPUT, TEMPORARY, ACTIVATION,
GRADIENT, AUTOGRAD_DETAIL, and unknown. PyTorch infers them from the whole op graph; here they
come from where each array was made (`profiling._category`): forward outputs that recorded a
node are ACTIVATION, arrays made by backward AUTOGRAD_DETAIL, those made while accumulating a
`.grad` GRADIENT, the rest unknown. Arrays that existed before profiling are not seen (PyTorch
lists those it meets as PREEXISTING).
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from backends import Device

CATEGORIES = ["PARAMETER", "OPTIMIZER_STATE", "INPUT", "TEMPORARY", "ACTIVATION", "GRADIENT",
              "AUTOGRAD_DETAIL", None]
_COLORS = ["darkgreen", "goldenrod", "black", "mediumpurple", "red", "mediumblue",
           "royalblue", "grey"]
# PyTorch's Action numbers.
CREATE = 2
DESTROY = 4


class MemoryTimeline:
    """The memory records of one device, ready to write."""

    def __init__(self, events: Any, device: str) -> None:
        wanted = Device(device)
        self.records = [record for record in events.memory_records
                        if _on(record.device, wanted)]

    def coalesced(self) -> tuple[list[int], list[list[int]]]:
        """PyTorch's `[times, sizes]`: one entry per distinct microsecond; each size list is a
        leading 0 then the bytes held in each category, in CATEGORIES' order."""
        times: list[int] = []
        sizes: list[list[int]] = []
        for record in self.records:
            time_us = record.time_ns // 1000
            if not times:
                times.append(time_us)
                sizes.append([0] * (len(CATEGORIES) + 1))
            elif time_us != times[-1]:
                times.append(time_us)
                sizes.append(sizes[-1].copy())
            sizes[-1][CATEGORIES.index(record.category) + 1] += record.nbytes
        return times, sizes

    def raw(self) -> list[tuple[int, int, int, int]]:
        """PyTorch's raw events: (time in ns, action, bytes, category index)."""
        return [(record.time_ns, CREATE if record.nbytes > 0 else DESTROY, record.nbytes,
                 CATEGORIES.index(record.category)) for record in self.records]

    def export(self, path: str) -> None:
        text = json.dumps(list(self.coalesced()))
        if path.endswith(".gz"):
            with gzip.open(path, "wt") as file:
                file.write(text)
        else:
            with open(path, "w") as file:
                file.write(text)

    def export_raw(self, path: str) -> None:
        with gzip.open(path, "wt") as file:
            json.dump(self.raw(), file)

    def export_html(self, path: str, title: str | None = None) -> None:
        """A stacked plot of the categories over time (ms), embedded as a PNG (needs
        matplotlib, as PyTorch's does: without it, says so and writes nothing)."""
        try:
            import matplotlib
        except ImportError:
            print("export_memory_timeline_html failed because matplotlib was not found.")
            return
        import base64
        import io

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        times, sizes = self.coalesced()
        start = min(times) if times else 0
        stacked = []
        for row in sizes:
            running, column = 0, []
            for size in row:
                running += size
                column.append(running / 1024**3)
            stacked.append(column)
        figure = plt.figure(figsize=(20, 12), dpi=80)
        axes = figure.gca()
        milliseconds = [(time - start) / 1e3 for time in times]
        for index, color in enumerate(_COLORS):
            axes.fill_between(milliseconds, [row[index] for row in stacked],
                              [row[index + 1] for row in stacked], color=color, alpha=0.7)
        figure.legend(["Unknown" if name is None else name for name in CATEGORIES])
        axes.set_xlabel("Time (ms)")
        axes.set_ylabel("Memory (GB)")
        peak = max((sum(row) for row in sizes), default=0)
        axes.set_title("\n\n".join(([title] if title else [])
                                   + [f"Max memory allocated: {peak / 1024**3:.2f} GiB"]))
        image = io.BytesIO()
        figure.savefig(image, format="png")
        plt.close(figure)
        encoded = base64.b64encode(image.getvalue()).decode("utf-8")
        with open(path, "w") as file:
            file.write(f"<html>\n<head><meta charset=\"utf-8\" />"
                       f"<title>GPU Memory Timeline HTML</title></head>\n<body>\n"
                       f"  <img src='data:image/png;base64,{encoded}'>\n</body>\n</html>")


def _on(device: Any, wanted: Device) -> bool:
    if device is None:
        return wanted.type == "cpu"
    return bool(device.type == wanted.type
                and (wanted.index is None or (device.index or 0) == wanted.index))
