"""torch.utils.benchmark's Compare: Measurements as tables, one per label, with a row per
(threads, env, sub_label or statement) and a column per description, printed as PyTorch
prints them (optionally trimmed to the digits each measurement supports, colored against the
best of each column or row, and with the spread of noisy measurements)."""

from __future__ import annotations

import collections
import enum
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Measurement

__all__ = ["Colorize", "Compare"]

# PyTorch's terminal colors: best, within 10% of it, over twice and over five times it.
_BEST = "\033[92m"
_GOOD = "\033[34m"
_BAD = "\033[2m\033[91m"
_VERY_BAD = "\033[31m"
_BOLD = "\033[1m"
_END = "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _f32(value: float) -> float:
    from . import _f32 as round_f32
    return round_f32(value)


def _leading_digits(value: float) -> int:
    # PyTorch takes the log of a float32 tensor: 9.9999999 counts as 10.
    return math.ceil(_f32(math.log10(_f32(value))))


def _trim_sigfig(value: float, figures: int) -> float:
    """`value` rounded to `figures` significant figures, in float32 as PyTorch computes it."""
    scale = 10 ** (math.ceil(_f32(math.log10(abs(_f32(value))))) - figures)
    return _f32(round(_f32(value / scale)) * _f32(scale))


def _time_unit(seconds: float) -> tuple[str, float]:
    from . import _time_unit as unit_of
    return unit_of(seconds)


_ENGLISH = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}


class _Column:
    """The numbers of one description: one format (width, decimals) for the whole column."""

    def __init__(self, grouped: list[tuple[Measurement | None, ...]], scale: float,
                 trim: bool, highlight_warnings: bool):
        self.grouped = grouped
        flat = [m for group in grouped for m in group if m is not None]
        self._trim = trim
        self._highlight = highlight_warnings and any(m.has_warnings for m in flat)
        digits = [_leading_digits(m.median / scale) for m in flat]
        decimals = min(max(m.significant_figures - d, 0)
                       for d, m in zip(digits, flat)) if trim else 1
        length = max(digits) + decimals + (1 if decimals else 0)
        self._template = f"{{:>{length}.{decimals}f}}{{:>{7 if self._highlight else 0}}}"

    def num_to_str(self, value: float | None, figures: int, spread: float | None) -> str:
        if value is None:
            return " " * len(self.num_to_str(1, figures, None))
        if self._trim:
            value = _trim_sigfig(value, figures)
        return self._template.format(
            value, f" (! {spread * 100:.0f}%)" if self._highlight and spread is not None else "")


class _Row:
    def __init__(self, results: list[Measurement | None], group: int, render_env: bool,
                 env_len: int, scale: float, colorize: Colorize, num_threads: int | None):
        self.results = results
        self.group = group
        self._render_env = render_env
        self._env_len = env_len
        self._scale = scale
        self._colorize = colorize
        self._num_threads = num_threads
        self.columns: tuple[_Column, ...] = ()

    def column_strings(self) -> list[str]:
        first = next(m for m in self.results if m is not None)
        env = f"({_env(first)})" if self._render_env else ""
        strings = ["  " + env.ljust(self._env_len + 4) + first.as_row_name]
        for m, column in zip(self.results, self.columns):
            if m is None:
                strings.append(column.num_to_str(None, 1, None))
            else:
                strings.append(column.num_to_str(
                    m.median / self._scale, m.significant_figures,
                    m.iqr / m.median if m.has_warnings else None))
        return strings

    def separator(self, width: int) -> list[str]:
        if self._num_threads is None:
            return []
        return [f"{self._num_threads} threads: ".ljust(width, "-")]

    def finalize(self, strings: list[str], widths: list[int]) -> list[str]:
        best: list[float | None] = [-1.0 for _ in strings]
        if self._colorize == Colorize.ROWWISE:
            row_best = min(m.median for m in self.results if m is not None)
            best = [row_best for _ in strings]
        elif self._colorize == Colorize.COLUMNWISE:
            best = []
            for column in self.columns:
                medians = [m.median for m in column.grouped[self.group] if m is not None]
                best.append(min(medians) if medians else None)
        cells = [strings[0].ljust(widths[0])]
        for text, width, m, best_value in zip(strings[1:], widths[1:], self.results, best):
            text = text.center(width)
            if self._colorize != Colorize.NONE and m is not None and best_value is not None:
                text = _color(text, m.median, best_value)
            cells.append(text)
        return cells


def _color(text: str, value: float, best: float) -> str:
    if value <= best * 1.01 or value <= best + 100e-9:
        return _BEST + _BOLD + text + _END * 2
    if value <= best * 1.1:
        return _GOOD + _BOLD + text + _END * 2
    if value >= best * 5:
        return _VERY_BAD + _BOLD + text + _END * 2
    if value >= best * 2:
        return _BAD + text + _END * 2
    return text


def _env(m: Measurement) -> str:
    # PyTorch fails on a table mixing measurements with and without an env; this names it.
    return "Unspecified env" if m.env is None else m.env


def _ordered_unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _render_table(results: list[Measurement], colorize: Colorize, trim: bool,
                  highlight_warnings: bool) -> str:
    """One label's table. Rows are sorted by threads, then env (the statements keep their
    order); a thread count's first row is preceded by a `N threads: ---` line."""
    unit, scale = _time_unit(min(m.median for m in results))

    def row_key(m: Measurement) -> tuple[int, str, str]:
        return m.num_threads, _env(m), m.as_row_name

    row_keys = _ordered_unique([row_key(m) for m in results])
    row_keys.sort(key=lambda key: key[:2])
    column_keys = _ordered_unique([m.description for m in results])
    row_at = {key: i for i, key in enumerate(row_keys)}
    column_at = {key: j for j, key in enumerate(column_keys)}
    table: list[list[Measurement | None]] = [[None] * len(column_keys) for _ in row_keys]
    for m in results:
        table[row_at[row_key(m)]][column_at[m.description]] = m

    envs = {_env(m) for m in results}
    render_env = len(envs) > 1
    env_len = max(len(env) for env in envs) if render_env else 0
    rows: list[_Row] = []
    groups: list[list[list[Measurement | None]]] = []
    prior_threads, prior_env = -1, ""
    for (threads, env, _), cells in zip(row_keys, table):
        new_group = threads != prior_threads
        if new_group:
            prior_threads, prior_env = threads, ""
            groups.append([])
        rows.append(_Row(cells, len(groups) - 1, render_env and env != prior_env, env_len, scale,
                         colorize, threads if new_group else None))
        groups[-1].append(cells)
        prior_env = env
    columns = tuple(_Column([tuple(row[j] for row in group) for group in groups], scale, trim,
                            highlight_warnings) for j in range(len(column_keys)))
    for r in rows:
        r.columns = columns

    strings: list[list[str]] = [["", *[str(key) for key in column_keys]]]
    strings.extend(r.column_strings() for r in rows)
    count = max(len(s) for s in strings)
    for s in strings:
        s.extend("" for _ in range(count - len(s)))
    widths = [max(len(cell) for cell in cells) for cells in zip(*strings)]
    lines = ["  |  ".join(cell.center(w) for cell, w in zip(strings[0], widths))]
    width = len(lines[0])
    for s, r in zip(strings[1:], rows):
        lines.extend(r.separator(width))
        lines.append("  |  ".join(r.finalize(s, widths)))
    noisy = highlight_warnings and any(m.has_warnings for m in results)
    label = results[0].label
    return (f"[{(' ' + (label or '') + ' ').center(width - 2, '-')}]\n" + "\n".join(lines)
            + f"\n\nTimes are in {_ENGLISH[unit]}s ({unit}).\n"
            + ("(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
               if noisy else ""))


class Compare:
    """Tables of Measurements, one per label: `print()` or `str()` renders them."""

    def __init__(self, results: list[Measurement]):
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self) -> str:
        return "\n".join(self._render())

    def extend_results(self, results: list[Measurement]) -> None:
        """Adds Measurements to the tables."""
        from . import Measurement
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Prints each number with the digits its spread supports (at most 4)."""
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        """Colors each number against the best of its column (or of its row)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        """Prints the spread (IQR / median) beside noisy measurements."""
        self._highlight_warnings = True

    def print(self) -> None:
        print(str(self))

    def _render(self) -> list[str]:
        from . import Measurement
        by_label: dict[Any, list[Measurement]] = collections.defaultdict(list)
        for m in Measurement.merge(self._results):
            by_label[m.label].append(m)
        return [_render_table(group, self._colorize, self._trim_significant_figures,
                              self._highlight_warnings) for group in by_label.values()]
