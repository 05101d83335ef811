"""The data rows of an ARFF file: dense and sparse rows turned into `(x, y)`.

Each row first tries a fast path (plain `str.split` and `float`), which hands any row it cannot
read with certainty to a careful path; the careful path honours quotes, escapes and comments, and
raises an `ARFFError` naming the line and the problem.

"""

from __future__ import annotations

import operator
import re
import typing

from ._arff_header import NOMINAL, NUMERIC, ARFFError, Attribute, _strict_float, scan_quoted

__all__ = ["RowReader"]

# Rows holding one of these characters take the careful path: quotes, comments, and `_` (which
# Python's float() accepts as a digit separator but ARFF does not).
_NEEDS_CARE = re.compile(r"['\"%_]").search
_MISSING = object()


class _Slow(Exception):
    """Raised inside a fast path to hand the row to the careful path."""


def _picker(indices: list[int]) -> typing.Callable[[list[str]], typing.Sequence[str]]:
    """A function picking `indices` (ascending) out of a list, by slice when they are contiguous."""
    if indices == list(range(indices[0], indices[-1] + 1)):  # (a file has features and labels)
        return operator.itemgetter(slice(indices[0], indices[-1] + 1))
    return operator.itemgetter(*indices)  # two or more: a tuple


def _fast_table(table: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The entries of `table` that an unquoted, blank-stripped value can name without ambiguity."""
    return {k: v for k, v in table.items() if k and k != "?" and k == k.strip()}


def _split_dense(text: str) -> list[tuple[str, bool]]:
    """The values of a dense row as (value, quoted), honouring quotes and a `%` comment."""
    out: list[tuple[str, bool]] = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in "'\"":
            value, i = scan_quoted(text, i)
            quoted = True
            while i < n and text[i].isspace():
                i += 1
        else:
            end = i
            while end < n and text[end] not in ",%":
                end += 1
            value = text[i:end].strip()
            quoted = False
            if not value:
                raise ValueError(f"value {len(out) + 1} is empty")
            i = end
        out.append((value, quoted))
        if i >= n or text[i] == "%":
            return out
        if text[i] != ",":
            raise ValueError(f"expected ',' after value {len(out)}, found {text[i]!r}")
        i += 1


def _split_sparse(text: str) -> list[tuple[str, str, bool]]:
    """The entries of a sparse row `{i v, ...}` as (index, value, quoted)."""
    out: list[tuple[str, str, bool]] = []
    n = len(text)
    i = 1
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] == "}":
        i += 1
    else:
        while True:
            while i < n and text[i].isspace():
                i += 1
            end = i
            while end < n and not text[end].isspace() and text[end] not in ",}%":
                end += 1
            index = text[i:end]
            if not index:
                raise ValueError(f"sparse entry {len(out) + 1} has no index")
            i = end
            while i < n and text[i].isspace():
                i += 1
            if i < n and text[i] in "'\"":
                value, i = scan_quoted(text, i)
                quoted = True
            else:
                end = i
                while end < n and text[end] not in ",}%":
                    end += 1
                value = text[i:end].strip()
                quoted = False
                if not value:
                    raise ValueError(f"sparse entry {len(out) + 1} (index {index}) has no value")
                i = end
            out.append((index, value, quoted))
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] == "%":
                raise ValueError("sparse row without its closing '}'")
            if text[i] == "}":
                i += 1
                break
            if text[i] != ",":
                raise ValueError(
                    f"expected ',' or '}}' after sparse entry {len(out)}, found {text[i]!r}"
                )
            i += 1
    rest = text[i:].strip()
    if rest and rest[0] != "%":
        raise ValueError(
            f"unexpected text after the closing '}}': {rest[:30]!r} (instance weights are not "
            "supported)"
        )
    return out


class RowReader:
    """Turns the data lines of one file into (x, y); built once per file from its header."""

    def __init__(self, path, attributes: list[Attribute], label_idx: list[int], missing_labels):
        self.path = path
        self.attributes = attributes
        self.n = len(attributes)
        self.missing_labels = missing_labels
        label_set = set(label_idx)
        self.feature_idx = [i for i in range(self.n) if i not in label_set]
        self.label_idx = label_idx
        self.names = [a.name for a in attributes]
        self.is_label = [i in label_set for i in range(self.n)]
        self.fnames = [self.names[i] for i in self.feature_idx]
        self.lnames = [self.names[i] for i in self.label_idx]

        # Careful-path tables: raw value -> converted value, per nominal attribute / label.
        self.tables: list[dict[str, typing.Any] | None] = []
        # Fast-path converters, per attribute (None: no fast path for this attribute).
        self.convs: list[typing.Callable[[str], typing.Any] | None] = []
        for i, a in enumerate(attributes):
            if self.is_label[i]:
                table = a.bool_map()
                self.tables.append(table if a.kind == NOMINAL else None)
                self.convs.append(_fast_table(table).__getitem__)
            elif a.kind == NOMINAL:
                numbers = a.numeric_values
                table = dict(zip(a.values, numbers if numbers is not None else a.values))
                self.tables.append(table)
                self.convs.append(_fast_table(table).__getitem__)
            elif a.kind == NUMERIC:
                self.tables.append(None)
                self.convs.append(float)
            else:  # string, date: careful path only
                self.tables.append(None)
                self.convs.append(None)

        self.fast_dense = all(c is not None for c in self.convs)
        self.all_float = all(self.convs[i] is float for i in self.feature_idx)
        self.fconvs = [self.convs[i] for i in self.feature_idx]
        self.lconvs = [self.convs[i] for i in self.label_idx]
        maps = [_fast_table(attributes[i].bool_map()) for i in label_idx]
        self.shared_lconv = maps[0].__getitem__ if all(m == maps[0] for m in maps) else None
        self.fpick = _picker(self.feature_idx)
        self.lpick = _picker(self.label_idx)

        # What a sparse row means by leaving an attribute out: Weka's internal value 0.
        self.sparse_x_idx = [
            (i, self.names[i], attributes[i].sparse_default())
            for i in self.feature_idx
            if attributes[i].sparse_default() is not None
        ]
        self.sparse_x = {name: default for _, name, default in self.sparse_x_idx}
        # Fast sparse tables, keyed by the canonical text of an index.
        self.sparse_float = {
            str(i): self.names[i] for i in self.feature_idx if self.convs[i] is float
        }
        self.sparse_other = {
            str(i): (self.names[i], self.convs[i], self.is_label[i])
            for i in range(self.n)
            if self.convs[i] is not float or self.is_label[i]
        }
        self.sparse_y: dict[str, bool] = {}
        for i in label_idx:
            a = attributes[i]
            self.sparse_y[a.name] = a.bool_map()[a.values[0]] if a.kind == NOMINAL else False

    # -- errors ------------------------------------------------------------------------------

    def error(self, line: int, reason: str) -> ARFFError:
        return ARFFError(self.path, line, reason)

    def _convert(self, i: int, raw: str, quoted: bool, line: int, where: str):
        """The value of attribute `i` for the raw text `raw` (careful path)."""
        a = self.attributes[i]
        if raw == "?" and not quoted:
            if self.is_label[i]:
                if self.missing_labels == "raise":
                    raise self.error(
                        line,
                        f"{where}: label {a.name!r} is missing ('?'); pass "
                        "missing_labels='false' to read missing labels as False",
                    )
                return False
            return _MISSING
        if self.is_label[i]:
            if a.kind == NUMERIC:
                try:
                    number = _strict_float(raw)
                except ValueError:
                    number = None
                if number not in (0.0, 1.0):
                    raise self.error(line, f"{where}: label {a.name!r} must be 0 or 1, got {raw!r}")
                return number == 1.0
            table = self.tables[i]
        elif a.kind == NUMERIC:
            try:
                return _strict_float(raw)
            except ValueError:
                raise self.error(
                    line, f"{where}: numeric attribute {a.name!r} got {raw!r}, not a number"
                ) from None
        elif a.kind == NOMINAL:
            table = self.tables[i]
        else:  # string, date
            return raw
        try:
            return table[raw]
        except KeyError:
            declared = ",".join(a.values[:10]) + (",..." if len(a.values) > 10 else "")
            kind = "label" if self.is_label[i] else "nominal attribute"
            raise self.error(
                line, f"{where}: {kind} {a.name!r} got {raw!r}, not one of {{{declared}}}"
            ) from None

    # -- dense rows ----------------------------------------------------------------------------

    def dense(self, text: str, line: int) -> tuple[dict, dict]:
        if self.fast_dense and not _NEEDS_CARE(text):
            try:
                return self._dense_fast(text)
            except (_Slow, ValueError, KeyError, TypeError):
                pass
        return self._dense_careful(text, line)

    def _dense_fast(self, text: str) -> tuple[dict, dict]:
        values = text.split(",")
        if len(values) != self.n:
            raise _Slow
        if self.all_float:
            x = dict(zip(self.fnames, map(float, self.fpick(values))))
        else:
            x = {
                name: conv(v) for name, conv, v in zip(self.fnames, self.fconvs, self.fpick(values))
            }
        if self.shared_lconv is not None:
            y = dict(zip(self.lnames, map(self.shared_lconv, self.lpick(values))))
        else:
            y = {
                name: conv(v) for name, conv, v in zip(self.lnames, self.lconvs, self.lpick(values))
            }
        return x, y

    def _dense_careful(self, text: str, line: int) -> tuple[dict, dict]:
        try:
            values = _split_dense(text)
        except ValueError as error:
            raise self.error(line, str(error)) from None
        if len(values) != self.n:
            raise self.error(line, f"expected {self.n} values, found {len(values)}")
        x: dict[str, float | str] = {}
        y: dict[str, bool] = {}
        for i, (raw, quoted) in enumerate(values):
            value = self._convert(i, raw, quoted, line, f"value {i + 1}")
            if self.is_label[i]:
                y[self.names[i]] = value
            elif value is not _MISSING:
                x[self.names[i]] = value
        return x, y

    # -- sparse rows ---------------------------------------------------------------------------

    def sparse(self, text: str, line: int) -> tuple[dict, dict]:
        if not _NEEDS_CARE(text):
            try:
                return self._sparse_fast(text)
            except (_Slow, ValueError, KeyError, TypeError, IndexError):
                pass
        return self._sparse_careful(text, line)

    def _sparse_fast(self, text: str) -> tuple[dict, dict]:
        # Entries are looked up by their index text: a non-canonical index ("01", "-1", "1_0")
        # misses the tables and the row goes to the careful path, which reports or accepts it.
        if text[-1] != "}":
            raise _Slow
        items = text[1:-1].split(",")
        float_name = self.sparse_float.get
        x: dict[str, typing.Any] = {}
        others = []
        for item in items:
            index, value = item.split()
            name = float_name(index)
            if name is not None:
                x[name] = float(value)
            else:
                others.append((index, value))
        y = dict(self.sparse_y)
        n_labels = 0
        if others:
            if len({index for index, _ in others}) != len(others):
                raise _Slow  # an index given twice
            other = self.sparse_other
            for index, value in others:
                name, conv, is_label = other[index]
                if is_label:
                    y[name] = conv(value)
                    n_labels += 1
                else:
                    x[name] = conv(value)
        if len(x) + n_labels != len(items):
            raise _Slow  # an index given twice
        if self.sparse_x:
            for name, default in self.sparse_x.items():
                x.setdefault(name, default)
        return x, y

    def _sparse_careful(self, text: str, line: int) -> tuple[dict, dict]:
        try:
            entries = _split_sparse(text)
        except ValueError as error:
            raise self.error(line, str(error)) from None
        x: dict[str, typing.Any] = {}
        y = dict(self.sparse_y)
        seen: set[int] = set()
        for k, (index, raw, quoted) in enumerate(entries, start=1):
            try:
                i = int(index)
                if "_" in index or not 0 <= i < self.n:
                    raise ValueError
            except ValueError:
                raise self.error(
                    line,
                    f"sparse entry {k}: bad index {index!r} (need an integer 0..{self.n - 1})",
                ) from None
            if i in seen:
                raise self.error(line, f"sparse entry {k}: index {i} given twice")
            seen.add(i)
            value = self._convert(i, raw, quoted, line, f"sparse entry {k} (index {i})")
            if self.is_label[i]:
                y[self.names[i]] = value
            elif value is not _MISSING:
                x[self.names[i]] = value
        for i, name, default in self.sparse_x_idx:
            if i not in seen:
                x[name] = default
        return x, y
