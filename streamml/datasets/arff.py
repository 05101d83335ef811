"""A streaming reader of multi-label ARFF files (MULAN and MEKA)."""

from __future__ import annotations

import itertools
import pathlib
import typing

from river.datasets import base

from ._arff_header import ARFFError, read_header, resolve_labels
from ._arff_rows import RowReader

__all__ = ["ARFF", "ARFFError"]

_MISSING_LABELS = ("raise", "false")


class ARFF(base.Dataset):
    """A multi-label ARFF file (MULAN or MEKA), streamed lazily line by line.

    Iterating yields `(x, y)` pairs, one per data row in file order: `x` maps feature names to
    floats (numeric attributes, and nominal attributes whose declared values are all numbers,
    such as `{0,1}` or `{1,2,3}`) or strings (other nominal, string and date attributes); `y` maps
    every label name to a bool. Only the current line is held in memory, and each `iter()` reopens
    the file, so the dataset can be iterated many times. The header is read when the object is
    created, so a malformed header fails right away.

    Which attributes are the labels, by precedence:

    1. `labels`, when given;
    2. the MULAN label file beside the data (same stem, `.xml`);
    3. a MEKA option `-C N` in the relation name: the first N attributes are the labels, or the
       last N with `-C -N`.

    With none of these, an `ARFFError` says so. Labels must be binary: nominal `{0,1}` (also
    `{false,true}`, `{no,yes}`, `{n,y}`, `{f,t}`, in any case or order) or numeric with values
    0 and 1.

    Conventions:

    - Missing values `?` are left out of `x`. A missing label raises an `ARFFError`, or is read as
      False with `missing_labels="false"`.
    - Sparse rows `{index value, ...}` give a sparse `x`: an attribute left out is 0, so it is left
      out of `x`, and a label left out is False. (Strictly, following Weka, a left-out nominal
      attribute takes its first declared value: that is 0 for `{0,1}`; for a nominal such as
      `{a,b}` it is `'a'`, which then appears in `x`.) Dense rows give every present value, zeros
      included. A file may mix both kinds of rows.
    - `%` starts a comment outside quotes; blank lines are skipped; keywords are case-insensitive;
      names and values may be quoted with `'` or `"`, with `\\` escapes (`\\'`, `\\"`, `\\\\`,
      `\\%`, `\\n`, `\\t`).
    - A malformed row (wrong number of values, a non-number in a numeric column, a bad sparse
      index, an undeclared nominal value, an unterminated quote, ...) raises an `ARFFError` (a
      `ValueError`) naming the file, the 1-based line number and the problem, when the iteration
      reaches it.

    Parameters
    ----------
    path
        The `.arff` file.
    labels
        The label attribute names (any order; they are kept in file order), or an int N with the
        meaning of MEKA's `-C N`. None (the default) finds them as described above.
    missing_labels
        What a missing label value `?` means: "raise" (the default) or "false".
    encoding
        The text encoding of the file.

    Attributes
    ----------
    labels
        The label names, in file order.
    features
        The feature names, in file order.
    n_features
    n_outputs
        The number of labels.
    n_samples
        The number of data rows. It is counted, without checking the rows, by a quick scan of the
        file the first time it is asked for, or set by a complete iteration.
    relation
        The relation name declared by the file.
    attributes
        Every `@attribute` declaration, in file order.
    label_source
        Where the labels came from: "labels=", "xml" or "meka".
    sparse
        Whether the first data row is sparse.

    Examples
    --------

    >>> import pathlib, tempfile
    >>> from streamml.datasets import ARFF

    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = folder / "toy.arff"
    >>> _ = path.write_text('''
    ... @relation 'toy: -C -2'
    ... @attribute size numeric
    ... @attribute colour {red, 'dark blue'}
    ... @attribute sport {0,1}
    ... @attribute music {0,1}
    ... @data
    ... 1.5,red,1,0
    ... ?,'dark blue',0,0   % a missing size
    ... {0 2, 3 1}
    ... ''')

    >>> dataset = ARFF(path)
    >>> dataset.features, dataset.labels, dataset.label_source
    (['size', 'colour'], ['sport', 'music'], 'meka')

    >>> for x, y in dataset:
    ...     print(x, y)
    {'size': 1.5, 'colour': 'red'} {'sport': True, 'music': False}
    {'colour': 'dark blue'} {'sport': False, 'music': False}
    {'size': 2.0, 'colour': 'red'} {'sport': False, 'music': True}

    >>> dataset.n_samples
    3

    """

    def __init__(
        self,
        path: str | pathlib.Path,
        labels: list[str] | int | None = None,
        missing_labels: str = "raise",
        encoding: str = "utf-8",
    ):
        if missing_labels not in _MISSING_LABELS:
            raise ValueError(f"missing_labels must be 'raise' or 'false', not {missing_labels!r}")
        self.path = pathlib.Path(path)
        self.missing_labels = missing_labels
        self.encoding = encoding
        self._n_samples: int | None = None
        first_row = None
        try:
            with open(self.path, encoding=encoding) as file:
                header = read_header(file, self.path)
                for line in file:
                    text = line.strip()
                    if text and text[0] != "%":
                        first_row = text
                        break
        except UnicodeDecodeError as error:
            raise ARFFError(self.path, None, f"not {encoding} text: {error}") from None
        label_idx, self.label_source = resolve_labels(header, self.path, labels)
        self.relation = header.relation
        self.attributes = header.attributes
        self._data_line = header.data_line
        self._rows = RowReader(self.path, header.attributes, label_idx, missing_labels)
        self.labels = list(self._rows.lnames)
        self.features = list(self._rows.fnames)
        super().__init__(
            task=base.MO_BINARY_CLF,
            n_features=len(self.features),
            n_outputs=len(self.labels),
            sparse=first_row is not None and first_row[0] == "{",
        )

    @property
    def n_samples(self) -> int:
        if self._n_samples is None:
            self._n_samples = self._count_rows()
        return self._n_samples

    @n_samples.setter
    def n_samples(self, value: int | None):
        self._n_samples = value

    def _count_rows(self) -> int:
        count = 0
        with open(self.path, "rb") as file:
            for line in itertools.islice(file, self._data_line, None):
                text = line.strip()
                if text and text[0] != 37:  # not a "%" comment
                    count += 1
        return count

    @property
    def _repr_content(self):
        content = super()._repr_content
        content["Path"] = str(self.path)
        content["Labels from"] = self.label_source
        return content

    def __iter__(self) -> typing.Iterator[tuple[dict[str, float | str], dict[str, bool]]]:
        rows = self._rows
        dense = rows.dense
        sparse = rows.sparse
        line = self._data_line
        count = 0
        with open(self.path, encoding=self.encoding) as file:
            try:
                marker = next(itertools.islice(file, self._data_line - 1, None), "")
                if not marker.strip().lower().startswith("@data"):
                    raise ARFFError(
                        self.path, line, "the file changed since it was opened: @data moved"
                    )
                for line, raw in enumerate(file, start=line + 1):
                    text = raw.strip()
                    if not text or text[0] == "%":
                        continue
                    if text[0] == "{":
                        yield sparse(text, line)
                    else:
                        yield dense(text, line)
                    count += 1
            except UnicodeDecodeError as error:
                raise ARFFError(
                    self.path, None, f"not {self.encoding} text (after line {line}): {error}"
                ) from None
        self._n_samples = count
