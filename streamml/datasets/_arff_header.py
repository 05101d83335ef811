"""The header of an ARFF file: tokens, attributes, and which attributes are the labels.

This module holds everything the streaming reader (`streamml.datasets.ARFF`) does once per file:
reading the `@relation` and `@attribute` declarations up to `@data`, and deciding which attributes
are labels (explicit names, a MULAN `.xml` beside the file, or a MEKA `-C N` option in the relation
name). The per-row work lives in `arff.py`.

"""

from __future__ import annotations

import dataclasses
import pathlib
import re
import typing
import xml.etree.ElementTree as ET

__all__ = ["ARFFError", "Attribute", "Header", "read_header", "resolve_labels"]

NUMERIC = "numeric"
NOMINAL = "nominal"
STRING = "string"
DATE = "date"

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "%": "%", "n": "\n", "t": "\t", "r": "\r"}
_QUOTES = "'\""
_MEKA_C = re.compile(r"(?<!\S)-C\s*(-?\d+)(?!\S)")

# Two-valued nominal spellings a label may use, as (false, true). All the values declared for a
# label attribute must come from one of these pairs, so that the mapping to bool is unambiguous.
_BOOL_PAIRS = (("0", "1"), ("false", "true"), ("f", "t"), ("no", "yes"), ("n", "y"))


class ARFFError(ValueError):
    """A malformed ARFF file (or its MULAN `.xml`), located by file and 1-based line number.

    Parameters
    ----------
    path
        The file that is wrong.
    line
        The 1-based line number of the offending line, or None when the problem is not on one line.
    reason
        What is wrong.

    """

    def __init__(self, path: str | pathlib.Path, line: int | None, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.line, self.reason)


def _strict_float(text: str) -> float:
    """`float` without Python's extras (digit separators); raises ValueError."""
    if "_" in text:
        raise ValueError(text)
    return float(text)


def scan_quoted(text: str, pos: int) -> tuple[str, int]:
    """Read the quoted string that starts at `text[pos]`; return it unescaped and the end position.

    Raises ValueError if the closing quote is missing.

    """
    quote = text[pos]
    out = []
    i = pos + 1
    start = i
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[start:i])
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            start = i
            continue
        if c == quote:
            out.append(text[start:i])
            return "".join(out), i + 1
        i += 1
    raise ValueError(f"unterminated quote {quote} starting at column {pos + 1}")


def strip_comment(text: str) -> str:
    """Cut a `%` comment that is outside quotes; raise ValueError on an unterminated quote.

    A quote opens a quoted token only at the start of a token (after a blank, `,` or `{`), so that
    an unquoted name such as `it\\'s` keeps its quote.

    """
    if "%" not in text:
        return text
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in _QUOTES and (i == 0 or text[i - 1].isspace() or text[i - 1] in ",{"):
            _, i = scan_quoted(text, i)
            continue
        if c == "%":
            return text[:i]
        i += 1
    return text


def _read_name(text: str, pos: int) -> tuple[str, int]:
    """Read a name (quoted, or up to whitespace or `{`) starting at `pos` (no leading blanks)."""
    if text[pos] in _QUOTES:
        return scan_quoted(text, pos)
    end = pos
    n = len(text)
    while end < n and not text[end].isspace() and text[end] != "{":
        end += 1
    return text[pos:end], end


def split_nominal(body: str) -> list[str]:
    """The values of a nominal declaration `{a, 'b c', ...}` (without the braces)."""
    values = []
    i = 0
    n = len(body)
    while True:
        while i < n and body[i].isspace():
            i += 1
        if i < n and body[i] in _QUOTES:
            value, i = scan_quoted(body, i)
            while i < n and body[i].isspace():
                i += 1
        else:
            end = i
            while end < n and body[end] != ",":
                end += 1
            value = body[i:end].strip()
            if not value:
                raise ValueError("empty value in the nominal list")
            i = end
        values.append(value)
        if i >= n:
            return values
        if body[i] != ",":
            raise ValueError(f"expected ',' after nominal value {value!r}, found {body[i]!r}")
        i += 1


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One `@attribute` declaration.

    Parameters
    ----------
    name
        The attribute's name, unquoted and unescaped.
    kind
        One of "numeric" (numeric, real, integer), "nominal", "string", "date".
    values
        The declared values of a nominal attribute, in order; empty otherwise.
    line
        The 1-based line of the declaration.

    """

    name: str
    kind: str
    values: tuple[str, ...] = ()
    line: int = 0

    @property
    def numeric_values(self) -> tuple[float, ...] | None:
        """The nominal values as floats when they all read as numbers (like `{0,1}`), else None."""
        if self.kind != NOMINAL:
            return None
        try:
            return tuple(_strict_float(v) for v in self.values)
        except ValueError:
            return None

    def bool_map(self) -> dict[str, bool] | None:
        """How a label's raw values map to bool, or None if this attribute cannot be a label."""
        if self.kind == NUMERIC:
            return {"0": False, "1": True}
        if self.kind != NOMINAL:
            return None
        lowered = {v.strip().lower() for v in self.values}
        for false, true in _BOOL_PAIRS:
            if lowered <= {false, true}:
                return {v: v.strip().lower() == true for v in self.values}
        return None

    def sparse_default(self) -> float | str | None:
        """The value of this attribute when a sparse row leaves it out (Weka's internal 0).

        Numeric: 0 (None here, meaning "left out of x"). Nominal: the first declared value, which
        is None too when that value is the number 0 (as in `{0,1}`). String and date: None.

        """
        if self.kind != NOMINAL:
            return None
        numbers = self.numeric_values
        if numbers is not None:
            return None if numbers[0] == 0.0 else numbers[0]
        return self.values[0]


@dataclasses.dataclass
class Header:
    """What the header of an ARFF file declares."""

    relation: str
    attributes: list[Attribute]
    data_line: int  # 1-based line number of the `@data` line
    relation_line: int = 1


def _parse_attribute(text: str, line: int) -> Attribute:
    """Parse what follows `@attribute` (comment already removed)."""
    text = text.strip()
    if not text:
        raise ValueError("@attribute without a name")
    name, pos = _read_name(text, 0)
    if not name:
        raise ValueError("@attribute with an empty name")
    rest = text[pos:].strip()
    if not rest:
        raise ValueError(f"@attribute {name!r} has no type")
    if rest.startswith("{"):
        if not rest.endswith("}"):
            raise ValueError(f"@attribute {name!r}: nominal list does not end with '}}'")
        values = split_nominal(rest[1:-1])
        seen = set()
        for value in values:
            if value in seen:
                raise ValueError(f"@attribute {name!r}: nominal value {value!r} declared twice")
            seen.add(value)
        return Attribute(name, NOMINAL, tuple(values), line)
    keyword = rest.split(None, 1)[0].lower()
    if keyword in ("numeric", "real", "integer"):
        if rest.split(None, 1)[1:]:
            raise ValueError(f"@attribute {name!r}: unexpected text after {keyword!r}: {rest!r}")
        return Attribute(name, NUMERIC, (), line)
    if keyword == "string":
        if rest.split(None, 1)[1:]:
            raise ValueError(f"@attribute {name!r}: unexpected text after 'string': {rest!r}")
        return Attribute(name, STRING, (), line)
    if keyword == "date":
        return Attribute(name, DATE, (), line)
    if keyword == "relational":
        raise ValueError(f"@attribute {name!r}: relational attributes are not supported")
    raise ValueError(f"@attribute {name!r}: unknown type {rest!r}")


def read_header(lines: typing.Iterable[str], path: str | pathlib.Path) -> Header:
    """Read the header from an iterator over the file's lines, consuming it up to `@data`."""
    relation: str | None = None
    relation_line = 0
    attributes: list[Attribute] = []
    names: dict[str, int] = {}
    lineno = 0
    for lineno, raw in enumerate(lines, start=1):
        if lineno == 1:
            raw = raw.lstrip("\ufeff")
        try:
            text = strip_comment(raw).strip()
        except ValueError as error:
            raise ARFFError(path, lineno, str(error)) from None
        if not text:
            continue
        if text[0] != "@":
            expected = "@relation" if relation is None else "@attribute or @data"
            raise ARFFError(path, lineno, f"expected {expected}, found {text[:40]!r}")
        parts = text.split(None, 1)
        keyword = parts[0].lower()
        rest = parts[1] if len(parts) > 1 else ""
        if keyword == "@relation":
            if relation is not None:
                raise ARFFError(path, lineno, "a second @relation")
            relation_line = lineno
            rest = rest.strip()
            if rest and rest[0] in _QUOTES:
                try:
                    relation, end = scan_quoted(rest, 0)
                except ValueError as error:
                    raise ARFFError(path, lineno, str(error)) from None
                if rest[end:].strip():
                    raise ARFFError(
                        path, lineno, f"unexpected text after the relation name: {rest[end:]!r}"
                    )
            else:
                relation = rest
        elif relation is None:
            raise ARFFError(path, lineno, f"expected @relation first, found {parts[0]!r}")
        elif keyword == "@attribute":
            try:
                attribute = _parse_attribute(rest, lineno)
            except ValueError as error:
                raise ARFFError(path, lineno, str(error)) from None
            if attribute.name in names:
                raise ARFFError(
                    path,
                    lineno,
                    f"attribute {attribute.name!r} is declared twice "
                    f"(first on line {attributes[names[attribute.name]].line})",
                )
            names[attribute.name] = len(attributes)
            attributes.append(attribute)
        elif keyword == "@data":
            if rest.strip():
                raise ARFFError(path, lineno, f"unexpected text after @data: {rest.strip()!r}")
            if not attributes:
                raise ARFFError(path, lineno, "no @attribute before @data")
            return Header(relation, attributes, lineno, relation_line)
        else:
            raise ARFFError(path, lineno, f"unknown keyword {parts[0]!r}")
    if relation is None:
        raise ARFFError(path, None, "not an ARFF file: no @relation")
    raise ARFFError(path, None, f"no @data line (the file ends at line {lineno})")


def read_mulan_xml(path: pathlib.Path) -> list[str]:
    """The label names listed in a MULAN `.xml` file, in document order."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        raise ARFFError(path, line, f"not a valid MULAN label file: {error}") from None
    if root.tag.rsplit("}", 1)[-1] != "labels":
        raise ARFFError(path, None, f"the root element is <{root.tag}>, expected <labels>")
    names = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "label":
            continue
        name = element.get("name")
        if name is None:
            raise ARFFError(path, None, "a <label> element has no name attribute")
        names.append(name)
    if not names:
        raise ARFFError(path, None, "no <label> element")
    return names


def _meka_count(relation: str) -> int | None:
    match = _MEKA_C.search(relation)
    return int(match.group(1)) if match else None


def _indices_from_count(count: int, n: int, what: str) -> list[int]:
    if count == 0 or abs(count) >= n:
        raise ValueError(
            f"{what} asks for {count} label attributes, but the file has {n} attributes "
            "(need 1 <= |N| < number of attributes)"
        )
    return list(range(count)) if count > 0 else list(range(n + count, n))


def _indices_from_names(names: list[str], attributes: list[Attribute], what: str) -> list[int]:
    position = {a.name: i for i, a in enumerate(attributes)}
    missing = [name for name in names if name not in position]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(f"{what}: {len(missing)} label(s) are not attributes of the file: {shown}")
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"{what}: labels named more than once: {twice}")
    indices = sorted(position[name] for name in names)
    if len(indices) == len(attributes):
        raise ValueError(f"{what}: every attribute is a label, no feature is left")
    return indices


def resolve_labels(header: Header, path: pathlib.Path, labels: typing.Any) -> tuple[list[int], str]:
    """The 0-based label attribute positions (ascending) and where they came from.

    Precedence: explicit `labels` (names, or a MEKA-style count), then the MULAN `.xml` beside the
    file, then a MEKA `-C N` option in the relation name.

    """
    attributes = header.attributes
    n = len(attributes)
    if labels is not None:
        if isinstance(labels, bool) or not isinstance(labels, int | list | tuple):
            raise TypeError(
                "labels must be a list of attribute names or an int N (MEKA -C N), "
                f"not {type(labels).__name__}"
            )
        if isinstance(labels, int):
            indices = _indices_from_count(labels, n, f"labels={labels}")
        else:
            if not labels:
                raise ValueError("labels is empty")
            if not all(isinstance(name, str) for name in labels):
                raise TypeError("labels must contain attribute names (str)")
            indices = _indices_from_names(list(labels), attributes, "labels=")
        source = "labels="
    elif (xml := path.with_suffix(".xml")).is_file():
        try:
            indices = _indices_from_names(read_mulan_xml(xml), attributes, f"for {path.name}")
        except ARFFError:
            raise
        except ValueError as error:
            raise ARFFError(xml, None, str(error)) from None
        source = "xml"
    elif (count := _meka_count(header.relation)) is not None:
        try:
            indices = _indices_from_count(count, n, f"the relation's MEKA option -C {count}")
        except ValueError as error:
            raise ARFFError(path, header.relation_line, str(error)) from None
        source = "meka"
    else:
        raise ARFFError(
            path,
            None,
            "cannot tell which attributes are the labels: pass labels=[...], put a MULAN "
            f"{path.with_suffix('.xml').name} beside the file, or give the relation a MEKA "
            "option '-C N' (first N attributes) or '-C -N' (last N)",
        )
    for i in indices:
        if attributes[i].bool_map() is None:
            a = attributes[i]
            declared = "{" + ",".join(a.values) + "}" if a.kind == NOMINAL else a.kind
            raise ARFFError(
                path,
                a.line,
                f"label attribute {a.name!r} is {declared}; a label must be binary "
                "({0,1}, {false,true}, {no,yes}, {n,y}) or numeric with values 0/1",
            )
    return indices, source
