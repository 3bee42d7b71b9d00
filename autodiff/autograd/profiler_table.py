"""`EventList.table()`: PyTorch's profiler table, column for column.

Columns: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, then Self CUDA,
Self CUDA %, CUDA total, CUDA time avg when device time was recorded, CPU Mem and Self CPU Mem
(and CUDA Mem, Self CUDA Mem) with `profile_memory`, # of Calls, Input Shapes when shapes were
recorded, Total FLOPs (KFLOPs, MFLOPs... scaled to the smallest count) with `with_flops`,
Source Location with `with_stack`. The name column is as wide as the longest name plus 4 (at most
`max_name_column_width`, longer names cut with "..."), the others 12, two spaces between; the
footer is "Self CPU time total: ...". Percentages are shares of the summed self times of the
listed events.
"""

from __future__ import annotations

import math
from typing import Any

_US_IN_SECOND = 1000.0 * 1000.0
_US_IN_MS = 1000.0


def format_time(time_us: float) -> str:
    if time_us >= _US_IN_SECOND:
        return f"{time_us / _US_IN_SECOND:.3f}s"
    if time_us >= _US_IN_MS:
        return f"{time_us / _US_IN_MS:.3f}ms"
    return f"{time_us:.3f}us"


def format_time_share(time_us: float, total_time_us: float) -> str:
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def format_memory(nbytes: int) -> str:
    kb = 1024
    mb = 1024 * kb
    gb = 1024 * mb
    if abs(nbytes) >= gb:
        return f"{nbytes * 1.0 / gb:.2f} GB"
    if abs(nbytes) >= mb:
        return f"{nbytes * 1.0 / mb:.2f} MB"
    if abs(nbytes) >= kb:
        return f"{nbytes * 1.0 / kb:.2f} KB"
    return str(nbytes) + " B"


_COLUMN_WIDTH = 12
_SPACING = 2


def _override_time_unit(time_us: float, default: str, time_unit: str | None) -> str:
    if time_unit == "s":
        return f"{time_us / 1e6:.3f}s"
    if time_unit == "ms":
        return f"{time_us / 1e3:.3f}ms"
    if time_unit == "us":
        return f"{time_us:.3f}us"
    return default


_FLOPS_UNITS = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]


def _flops_unit(flops: int) -> tuple[float, str]:
    """The unit of the FLOPs column: the largest power of 1000 not above the smallest count."""
    log_flops = max(0.0, min(math.log10(flops) / 3, float(len(_FLOPS_UNITS) - 1)))
    return 10.0 ** (math.floor(log_flops) * -3.0), _FLOPS_UNITS[int(log_flops)]


def _trim_path(path: str, width: int) -> str:
    if len(path) > width:
        path = path[len(path) - width:]
        if len(path) > 3:
            path = "..." + path[3:]
    return path


class _Layout:
    """Row format and separator built column by column."""

    def __init__(self) -> None:
        self.row_format = ""
        self.separator = ""
        self.length = -_SPACING

    def add(self, width: int, align: str = ">") -> None:
        self.row_format += "{: " + align + str(width) + "}" + " " * _SPACING
        self.separator += "-" * width + " " * _SPACING
        self.length += width + _SPACING


def build_table(events: Any, sort_by: str | None = None, header: str | None = None,
                row_limit: int = 100, max_src_column_width: int = 75,
                max_name_column_width: int = 55, max_shapes_column_width: int = 80,
                with_flops: bool = False, profile_memory: bool = False,
                top_level_events_only: bool = False, time_unit: str | None = None) -> str:
    if len(events) == 0:
        return ""
    has_device_time = any(event.self_device_time_total > 0 for event in events)
    has_device_mem = any(event.self_device_memory_usage > 0 for event in events)
    use_device = events[0].use_device
    if not use_device and has_device_time:
        raise RuntimeError("use_device is None, but there is device performance data.")
    if sort_by is not None:
        attribute = sort_by.replace("cuda", "device").replace("xpu", "device")
        if not hasattr(events[0], attribute):
            raise AttributeError(f"'{type(events[0]).__name__}' object has no attribute "
                                 f"'{attribute}'")
        events = sorted(events, key=lambda event: getattr(event, attribute), reverse=True)
    has_input_shapes = any(event.input_shapes for event in events)
    stacks = [event.stack for event in events if event.stack]

    name_width = max(len(event.key) for event in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    shapes_width = max(len(str(event.input_shapes)) for event in events) + 4
    if max_shapes_column_width is not None:
        shapes_width = min(shapes_width, max_shapes_column_width)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    device_name = use_device.upper() if use_device is not None else "None"
    if has_device_time:
        headers += [f"Self {device_name}", f"Self {device_name} %", f"{device_name} total",
                    f"{device_name} time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
        if use_device and has_device_mem:
            headers += [f"{device_name} Mem", f"Self {device_name} Mem"]
    headers.append("# of Calls")
    layout = _Layout()
    layout.add(name_width)
    for _ in headers[1:]:
        layout.add(_COLUMN_WIDTH)
    if has_input_shapes:
        headers.append("Input Shapes")
        layout.add(shapes_width)
    # PyTorch prints the FLOPs after the input shapes but heads that column after the source
    # location; here the header names the column it heads.
    flops_scale, flops_header = 1.0, ""
    if with_flops:
        raw_flops = [event.flops for event in events if event.flops > 0]
        if raw_flops:
            flops_scale, flops_header = _flops_unit(min(raw_flops))
            headers.append(f"Total {flops_header}")
            layout.add(_COLUMN_WIDTH)
        else:
            with_flops = False  # nothing was counted: no column
    src_width = 0
    if stacks:
        src_width = max(max(len(entry) for entry in stack) for stack in stacks) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)
        headers.append("Source Location")
        layout.add(src_width, "<")

    lines: list[str] = []
    total_self = sum(event.self_cpu_time_total for event in events)
    # The device time is kept on the CPU events (PyTorch's legacy profiling), so each event's
    # own share adds up.
    total_self_device = sum(event.self_device_time_total for event in events
                            if event.is_legacy and not event.is_user_annotation)
    if header is not None:
        lines += ["=" * layout.length, header]
    if top_level_events_only:
        lines += ["=" * layout.length, "This report only display top-level ops statistics"]
    lines += [layout.separator, layout.row_format.format(*headers), layout.separator]
    shown = 0
    for event in events:
        if shown == row_limit:
            break
        if top_level_events_only and event.cpu_parent is not None:
            continue
        shown += 1
        name = event.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [
            name,
            format_time_share(event.self_cpu_time_total, total_self),
            _override_time_unit(event.self_cpu_time_total, event.self_cpu_time_total_str,
                                time_unit),
            format_time_share(event.cpu_time_total, total_self),
            _override_time_unit(event.cpu_time_total, event.cpu_time_total_str, time_unit),
            _override_time_unit(event.cpu_time, event.cpu_time_str, time_unit),
        ]
        if has_device_time:
            row += [
                _override_time_unit(event.self_device_time_total,
                                    event.self_device_time_total_str, time_unit),
                format_time_share(event.self_device_time_total, total_self_device),
                _override_time_unit(event.device_time_total, event.device_time_total_str,
                                    time_unit),
                _override_time_unit(event.device_time, event.device_time_str, time_unit),
            ]
        if profile_memory:
            row += [format_memory(event.cpu_memory_usage),
                    format_memory(event.self_cpu_memory_usage)]
            if use_device and has_device_mem:
                row += [format_memory(event.device_memory_usage),
                        format_memory(event.self_device_memory_usage)]
        row.append(event.count)
        if has_input_shapes:
            row.append(str(event.input_shapes)[:shapes_width])
        if with_flops:
            row.append("--" if event.flops <= 0 else f"{event.flops * flops_scale:8.3f}")
        if stacks:
            row.append(_trim_path(event.stack[0], src_width) if event.stack else "")
        lines.append(layout.row_format.format(*row))
        if stacks:
            blanks = [""] * (len(headers) - 1)
            for entry in (event.stack or [])[1:]:
                lines.append(layout.row_format.format(*blanks, _trim_path(entry, src_width)))
            lines.append(layout.row_format.format(*blanks, ""))
    lines.append(layout.separator)
    lines.append("Self CPU time total: "
                 + _override_time_unit(total_self, format_time(total_self), time_unit))
    if has_device_time:
        lines.append(f"Self {device_name} time total: "
                     + _override_time_unit(total_self_device, format_time(total_self_device),
                                           time_unit))
    return "".join(line + "\n" for line in lines)
