"""The streaming ARFF reader, on small files the tests write."""

from __future__ import annotations

import gc
import pickle
import random
import re
import textwrap
import tracemalloc

import pytest
from river.datasets import base

from streamml.datasets import ARFF, ARFFError


def write(folder, text, name="data.arff", xml=None):
    """Write an ARFF file (and optionally its MULAN xml) into `folder`; return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    if xml is not None:
        labels = "\n".join(f'<label name="{label}"></label>' for label in xml)
        path.with_suffix(".xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<labels xmlns="http://mulan.sourceforge.net/labels">\n{labels}\n</labels>\n'
        )
    return path


def line_of(path, fragment):
    """The 1-based line number of the line of `path` that is `fragment` (blanks stripped)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() == fragment:
            return number
    raise AssertionError(f"{fragment!r} not in {path}")


def assert_row_error(path, fragment, *words, **kwargs):
    """Iterating `path` fails on the line holding `fragment`, with `words` in the message."""
    dataset = ARFF(path, **kwargs)
    with pytest.raises(ARFFError) as info:
        list(dataset)
    message = str(info.value)
    line = line_of(path, fragment)
    assert str(path) in message
    assert f"line {line}:" in message
    assert info.value.line == line
    for word in words:
        assert word in message, message
    assert isinstance(info.value, ValueError)


MEKA_FIRST = """
    % a MEKA file: the first two attributes are the labels
    @relation 'music: -C 2'

    @attribute happy {0,1}
    @attribute sad {0,1}
    @attribute tempo numeric
    @attribute loud numeric

    @data
    1,0,120.5,0.3
    0,1,60,-0.25
"""


# -- where the labels come from ------------------------------------------------------------------


def test_meka_first_n_labels(tmp_path):
    dataset = ARFF(write(tmp_path, MEKA_FIRST))
    assert dataset.labels == ["happy", "sad"]
    assert dataset.features == ["tempo", "loud"]
    assert dataset.label_source == "meka"
    assert list(dataset) == [
        ({"tempo": 120.5, "loud": 0.3}, {"happy": True, "sad": False}),
        ({"tempo": 60.0, "loud": -0.25}, {"happy": False, "sad": True}),
    ]


@pytest.mark.parametrize(
    "relation",
    ["'scores: -C -2'", '"scores: -C -2"', "scores: -C -2", "'x -I 0 -C -2 -split 3'"],
)
def test_meka_last_n_labels_whatever_the_quoting(tmp_path, relation):
    path = write(
        tmp_path,
        f"""
        @relation {relation}
        @attribute a numeric
        @attribute b numeric
        @attribute l1 {{0,1}}
        @attribute l2 {{0,1}}
        @data
        1,2,0,1
        """,
    )
    dataset = ARFF(path)
    assert dataset.labels == ["l1", "l2"]
    assert dataset.features == ["a", "b"]
    assert list(dataset) == [({"a": 1.0, "b": 2.0}, {"l1": False, "l2": True})]


def test_mulan_xml_beside_the_file_gives_labels_in_file_order(tmp_path):
    path = write(
        tmp_path,
        """
        @relation mulan
        @attribute f1 numeric
        @attribute lab_b {0,1}
        @attribute f2 numeric
        @attribute lab_a {0,1}
        @data
        0.5,1,2,0
        """,
        name="scene.arff",
        xml=["lab_a", "lab_b"],
    )
    dataset = ARFF(path)
    assert dataset.label_source == "xml"
    assert dataset.labels == ["lab_b", "lab_a"]
    assert dataset.features == ["f1", "f2"]
    assert list(dataset) == [({"f1": 0.5, "f2": 2.0}, {"lab_b": True, "lab_a": False})]


def test_mulan_xml_with_a_label_hierarchy(tmp_path):
    path = write(
        tmp_path,
        """
        @relation h
        @attribute f numeric
        @attribute top {0,1}
        @attribute child {0,1}
        @data
        1,1,1
        """,
    )
    path.with_suffix(".xml").write_text(
        '<labels xmlns="http://mulan.sourceforge.net/labels">'
        '<label name="top"><label name="child"></label></label></labels>'
    )
    assert ARFF(path).labels == ["top", "child"]


def test_precedence_labels_argument_then_xml_then_meka(tmp_path):
    text = """
        @relation 'both: -C 1'
        @attribute a {0,1}
        @attribute b {0,1}
        @attribute c {0,1}
        @data
        1,0,1
    """
    path = write(tmp_path, text, xml=["c"])
    assert ARFF(path).labels == ["c"]  # the xml wins over -C 1
    assert ARFF(path).label_source == "xml"
    assert ARFF(path, labels=["b", "a"]).labels == ["a", "b"]  # labels= wins over the xml
    assert ARFF(path, labels=["b", "a"]).label_source == "labels="
    path.with_suffix(".xml").unlink()
    assert ARFF(path).labels == ["a"]  # then MEKA's -C 1
    assert ARFF(path, labels=-2).labels == ["b", "c"]  # an int means -C N


def test_no_way_to_find_the_labels_is_a_clear_error(tmp_path):
    path = write(tmp_path, "@relation plain\n@attribute a numeric\n@attribute b {0,1}\n@data\n")
    with pytest.raises(ARFFError, match=r"labels=.*\.xml.*-C N"):
        ARFF(path)


def test_bad_labels_argument(tmp_path):
    path = write(tmp_path, MEKA_FIRST)
    with pytest.raises(ValueError, match="'nope'"):
        ARFF(path, labels=["happy", "nope"])
    with pytest.raises(ValueError, match="more than once"):
        ARFF(path, labels=["happy", "happy"])
    with pytest.raises(ValueError, match="no feature"):
        ARFF(path, labels=["happy", "sad", "tempo", "loud"])
    with pytest.raises(TypeError):
        ARFF(path, labels="happy")
    with pytest.raises(ValueError, match="empty"):
        ARFF(path, labels=[])
    with pytest.raises(ValueError):
        ARFF(path, labels=0)
    with pytest.raises(ValueError, match="missing_labels"):
        ARFF(path, missing_labels="maybe")


def test_xml_naming_an_unknown_attribute_or_broken(tmp_path):
    path = write(tmp_path, MEKA_FIRST, xml=["happy", "angry"])
    with pytest.raises(ARFFError, match=r"\.xml.*'angry'"):
        ARFF(path)
    path.with_suffix(".xml").write_text("<labels><label name='happy'></labels>")
    with pytest.raises(ARFFError, match=r"\.xml, line 1"):
        ARFF(path)


def test_meka_count_larger_than_the_file(tmp_path):
    path = write(tmp_path, "@relation 'x: -C 5'\n@attribute a {0,1}\n@attribute b numeric\n@data\n")
    with pytest.raises(ARFFError, match="line 1: .*-C 5"):
        ARFF(path)


def test_label_attributes_must_be_binary(tmp_path):
    text = "@relation r\n@attribute f numeric\n@attribute colour {red,green}\n@data\n"
    path = write(tmp_path, text)
    with pytest.raises(ARFFError, match=r"line 3: label attribute 'colour'"):
        ARFF(path, labels=["colour"])
    path = write(tmp_path, "@relation r\n@attribute f numeric\n@attribute s string\n@data\n")
    with pytest.raises(ARFFError, match="line 3: label attribute 's' is string"):
        ARFF(path, labels=["s"])


@pytest.mark.parametrize(
    ("declared", "true", "false"),
    [
        ("{0,1}", "1", "0"),
        ("{1,0}", "1", "0"),
        ("{'0','1'}", "'1'", "'0'"),
        ("{n,y}", "y", "n"),
        ("{no,yes}", "yes", "no"),
        ("{FALSE,TRUE}", "TRUE", "FALSE"),
        ("numeric", "1", "0.0"),
    ],
)
def test_binary_label_spellings(tmp_path, declared, true, false):
    path = write(
        tmp_path,
        f"""
        @relation 'r: -C -1'
        @attribute f numeric
        @attribute l {declared}
        @data
        1,{true}
        2,{false}
        """,
    )
    assert [y for _, y in ARFF(path)] == [{"l": True}, {"l": False}]


# -- values ---------------------------------------------------------------------------------------


TYPES = """
    @RELATION 'types: -C -1'
    @Attribute size NUMERIC
    @attribute count integer
    @attribute ratio Real
    @attribute grade {1, 2, 3}
    @attribute flag {0,1}
    @attribute colour {red, green, 'dark blue'}
    @attribute note string
    @attribute day date "yyyy-MM-dd"
    @attribute label {0,1}
    @DATA
    1.5,3,-2e-3,2,0,red,'a, b',"2020-01-31",1
    0,0,.5,3,1,'dark blue',plain,2021-12-01,0
"""


def test_value_types(tmp_path):
    rows = list(ARFF(write(tmp_path, TYPES)))
    assert rows[0][0] == {
        "size": 1.5,
        "count": 3.0,
        "ratio": -0.002,
        "grade": 2.0,
        "flag": 0.0,
        "colour": "red",
        "note": "a, b",
        "day": "2020-01-31",
    }
    assert rows[1][0]["colour"] == "dark blue"
    assert rows[1][0]["note"] == "plain"
    assert rows[1][0]["size"] == 0.0  # dense rows keep their zeros
    for x, y in rows:
        for name in ("size", "count", "ratio", "grade", "flag"):
            assert type(x[name]) is float
        assert type(y["label"]) is bool
    assert [y for _, y in rows] == [{"label": True}, {"label": False}]


def test_nominal_with_mixed_values_stays_string(tmp_path):
    path = write(
        tmp_path,
        """
        @relation 'r: -C -1'
        @attribute level {1,2,high}
        @attribute l {0,1}
        @data
        2,1
        high,0
        """,
    )
    assert [x for x, _ in ARFF(path)] == [{"level": "2"}, {"level": "high"}]


def test_sparse_rows(tmp_path):
    path = write(
        tmp_path,
        """
        @relation 'sparse: -C 2'
        @attribute l1 {0,1}
        @attribute l2 {0,1}
        @attribute a numeric
        @attribute b numeric
        @attribute c {0,1}
        @attribute d numeric
        @data
        {0 1, 2 0.5, 5 -3}
        {1 1,4 1}
        {}
        { 3 7 , 2 0 }
        1,1,2,3,0,4
        """,
    )
    dataset = ARFF(path)
    assert dataset.sparse
    assert list(dataset) == [
        ({"a": 0.5, "d": -3.0}, {"l1": True, "l2": False}),
        ({"c": 1.0}, {"l1": False, "l2": True}),
        ({}, {"l1": False, "l2": False}),
        ({"b": 7.0, "a": 0.0}, {"l1": False, "l2": False}),  # an explicit 0 is kept
        ({"a": 2.0, "b": 3.0, "c": 0.0, "d": 4.0}, {"l1": True, "l2": True}),  # dense row
    ]


def test_sparse_left_out_nominal_takes_its_first_value(tmp_path):
    # Weka's convention: a value left out of a sparse row is internal value 0, the first declared
    # nominal value. For {0,1} that is 0 (left out of x); for {low,high} it is 'low'.
    path = write(
        tmp_path,
        """
        @relation 'r: -C -2'
        @attribute level {low,high}
        @attribute n numeric
        @attribute yes_first {1,0}
        @attribute l {0,1}
        @data
        {1 4}
        {0 high, 2 0, 3 1}
        """,
    )
    assert list(ARFF(path)) == [
        ({"n": 4.0, "level": "low"}, {"yes_first": True, "l": False}),
        ({"level": "high"}, {"yes_first": False, "l": True}),
    ]


def test_missing_values_are_left_out(tmp_path):
    path = write(
        tmp_path,
        """
        @relation 'r: -C -1'
        @attribute a numeric
        @attribute b {x,y}
        @attribute s string
        @attribute l {0,1}
        @data
        ?,x,'?',1
        1,?,?,0
        {0 ?, 1 y, 3 1}
        """,
    )
    assert list(ARFF(path)) == [
        ({"b": "x", "s": "?"}, {"l": True}),  # a quoted '?' is the string "?"
        ({"a": 1.0}, {"l": False}),
        ({"b": "y"}, {"l": True}),
    ]


def test_missing_label_raises_or_reads_false(tmp_path):
    text = """
        @relation 'r: -C -1'
        @attribute a numeric
        @attribute l {0,1}
        @data
        1,1
        2,?
        {0 3, 1 ?}
    """
    path = write(tmp_path, text)
    assert_row_error(path, "2,?", "label 'l' is missing")
    rows = list(ARFF(path, missing_labels="false"))
    assert [y for _, y in rows] == [{"l": True}, {"l": False}, {"l": False}]


def test_comments_blank_lines_and_case(tmp_path):
    path = write(
        tmp_path,
        """
        % leading comment

        @Relation 'r: -C -1'   % comment after the relation
          % indented comment
        @ATTRIBUTE a NUMERIC % comment after a declaration

        @attribute 'b%c' {'p%q', r}
        @attribute l {0,1}

        @Data   % comment after @data
        % comment in the data

        1,'p%q',1 % comment after a row
        {0 2, 1 r} % comment after a sparse row

           2,r,0
        """,
    )
    dataset = ARFF(path)
    assert dataset.features == ["a", "b%c"]
    assert dataset.relation == "r: -C -1"
    assert list(dataset) == [
        ({"a": 1.0, "b%c": "p%q"}, {"l": True}),
        ({"a": 2.0, "b%c": "r"}, {"l": False}),
        ({"a": 2.0, "b%c": "r"}, {"l": False}),
    ]
    assert dataset.n_samples == 3


def test_quoted_names_and_values(tmp_path):
    path = write(
        tmp_path,
        r"""
        @relation "it's: -C -1"
        @attribute 'it\'s mine' numeric
        @attribute "say \"hi\"" {'a,b', "c'd", 'e\\f'}
        @attribute plain\'quote numeric
        @attribute 'the label' {0,1}
        @data
        1,'a,b',3,1
        2,"c'd",4,0
        3, 'e\\f' ,5,0
        {1 "c\'d", 3 1}
        """,
        xml=None,
    )
    dataset = ARFF(path)
    assert dataset.relation == "it's: -C -1"
    assert dataset.features == ["it's mine", 'say "hi"', "plain\\'quote"]
    assert dataset.labels == ["the label"]
    assert [x['say "hi"'] for x, _ in dataset] == ["a,b", "c'd", "e\\f", "c'd"]
    assert [y["the label"] for _, y in dataset] == [True, False, False, True]


def test_unquoted_name_with_backslash_quote_matches_the_xml(tmp_path):
    # MULAN's delicious declares `@attribute TAG_m\'usica {0,1}` and lists `TAG_m\'usica`.
    path = write(
        tmp_path,
        "@relation d\n@attribute f numeric\n@attribute TAG_m\\'usica {0,1}\n@data\n1,1\n",
        xml=["TAG_m\\'usica"],
    )
    assert ARFF(path).labels == ["TAG_m\\'usica"]


def test_spaces_around_values_and_underscores(tmp_path):
    path = write(
        tmp_path,
        """
        @relation 'r: -C -1'
        @attribute a numeric
        @attribute when {happy_hour, night}
        @attribute l {0,1}
        @data
         1 ,  happy_hour ,1
        2,night,0
        """,
    )
    assert list(ARFF(path)) == [
        ({"a": 1.0, "when": "happy_hour"}, {"l": True}),
        ({"a": 2.0, "when": "night"}, {"l": False}),
    ]


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "bom.arff"
    path.write_bytes(
        b"\xef\xbb\xbf@relation 'r: -C -1'\n@attribute a numeric\n@attribute l {0,1}\n"
    )
    with path.open("a") as file:
        file.write("@data\n1,1\n")
    assert list(ARFF(path)) == [({"a": 1.0}, {"l": True})]


def test_fast_and_careful_paths_agree(tmp_path):
    # The same random rows, written plainly (fast path) and with quotes and spaces around every
    # value (careful path), read the same.
    rng = random.Random(7)
    header = "@relation 'r: -C -2'\n" + "".join(f"@attribute f{i} numeric\n" for i in range(6))
    header += "@attribute g {1,2,3}\n@attribute h {a,b}\n@attribute l1 {0,1}\n@attribute l2 {0,1}\n"
    names = [f"f{i}" for i in range(6)] + ["g", "h", "l1", "l2"]

    def expected(pairs, sparse=False):
        x = {names[i]: (v if names[i] == "h" else float(v)) for i, v in pairs if i < 8 and v != "?"}
        if sparse:  # a nominal left out of a sparse row takes its first declared value
            x = x | {"g": x.get("g", 1.0), "h": x.get("h", "a")}
        y = {"l1": False, "l2": False} | {names[i]: v == "1" for i, v in pairs if i >= 8}
        return x, y

    plain, quoted, sparse_plain, sparse_quoted, dense_rows, sparse_rows = [], [], [], [], [], []
    for _ in range(200):
        values = [repr(rng.uniform(-1e3, 1e3)) if rng.random() < 0.9 else "?" for _ in range(6)]
        values += [rng.choice("123"), rng.choice("ab"), rng.choice("01"), rng.choice("01")]
        plain.append(",".join(values))
        quoted.append(",".join(f" '{v}' " if v != "?" else " ? " for v in values))
        entries = [
            (i, v) for i, v in enumerate(values) if v not in ("0", "?") and rng.random() < 0.5
        ]
        sparse_plain.append("{" + ",".join(f"{i} {v}" for i, v in entries) + "}")
        sparse_quoted.append("{" + ", ".join(f'{i}  "{v}"' for i, v in entries) + " }")
        dense_rows.append(expected(list(enumerate(values))))
        sparse_rows.append(expected(entries, sparse=True))
    readings = []
    for name, rows in [("p", plain), ("q", quoted), ("sp", sparse_plain), ("sq", sparse_quoted)]:
        path = tmp_path / f"{name}.arff"
        path.write_text(header + "@data\n" + "\n".join(rows) + "\n")
        readings.append(list(ARFF(path)))
    assert readings[0] == readings[1] == dense_rows
    assert readings[2] == readings[3] == sparse_rows
    assert any("f0" not in x for x, _ in readings[0])  # some missing values were there


# -- dataset behaviour ----------------------------------------------------------------------------


def test_attributes_and_river_dataset(tmp_path):
    path = write(tmp_path, MEKA_FIRST)
    dataset = ARFF(str(path))
    assert isinstance(dataset, base.Dataset)
    assert dataset.task == base.MO_BINARY_CLF
    assert dataset.path == path
    assert dataset.relation == "music: -C 2"
    assert dataset.n_features == 2
    assert dataset.n_outputs == 2
    assert dataset.n_samples == 2
    assert not dataset.sparse
    assert [a.kind for a in dataset.attributes] == ["nominal", "nominal", "numeric", "numeric"]
    assert "Multi-output binary classification" in repr(dataset)
    assert list(dataset.take(1)) == [({"tempo": 120.5, "loud": 0.3}, {"happy": True, "sad": False})]


def test_reiteration_reopens_the_file(tmp_path):
    path = write(tmp_path, MEKA_FIRST)
    dataset = ARFF(path)
    first = list(dataset)
    assert list(dataset) == first
    one, two = iter(dataset), iter(dataset)  # independent passes
    assert next(one) == first[0]
    assert next(one) == first[1]
    assert next(two) == first[0]
    with path.open("a") as file:
        file.write("1,1,1,1\n")
    assert len(list(dataset)) == 3  # read anew each time
    assert dataset.n_samples == 3


def test_pickle_roundtrip(tmp_path):
    dataset = ARFF(write(tmp_path, MEKA_FIRST))
    assert list(pickle.loads(pickle.dumps(dataset))) == list(dataset)


def test_constant_memory(tmp_path):
    def make(n_rows, name):
        path = tmp_path / name
        with path.open("w") as file:
            file.write("@relation 'big: -C 3'\n")
            file.write("".join(f"@attribute l{i} {{0,1}}\n" for i in range(3)))
            file.write("".join(f"@attribute f{i} numeric\n" for i in range(20)))
            file.write("@data\n")
            for r in range(n_rows):
                if r % 2:
                    file.write(f"{{0 1,{3 + r % 19} {r * 0.5},22 -1.25}}\n")
                else:
                    file.write("1,0,1," + ",".join(str(r + i) for i in range(20)) + "\n")
        return path

    def peak(path):
        dataset = ARFF(path)
        gc.collect()
        tracemalloc.start()
        n = sum(1 for _ in dataset)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return n, top

    n_small, small = peak(make(5_000, "small.arff"))
    n_big, big = peak(make(50_000, "big.arff"))
    assert (n_small, n_big) == (5_000, 50_000)
    assert big < 256 * 1024  # a few rows and the read buffer, whatever the length
    assert big < 1.5 * small + 16 * 1024


# -- errors ---------------------------------------------------------------------------------------


ROWS = """
    @relation 'r: -C -1'
    @attribute a numeric
    @attribute b {x,y}
    @attribute l {0,1}
    @data
    1,x,1
"""


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("1,x", ["expected 3 values, found 2"]),
        ("1,x,1,4", ["expected 3 values, found 4"]),
        ("abc,x,1", ["numeric attribute 'a'", "'abc'"]),
        ("1_0,x,1", ["numeric attribute 'a'", "'1_0'"]),
        ("1,z,1", ["nominal attribute 'b'", "'z'", "{x,y}"]),
        ("1,x,2", ["label 'l'", "'2'"]),
        ("1,'x,1", ["unterminated quote"]),
        ("1,,1", ["value 2 is empty"]),
        ("1,'x' y,1", ["expected ','"]),
        ("{0 1, 5 1}", ["bad index '5'"]),
        ("{0 1, -1 1}", ["bad index '-1'"]),
        ("{a 1}", ["bad index 'a'"]),
        ("{0 1, 0 2}", ["index 0 given twice"]),
        ("{0 1, 1}", ["no value"]),
        ("{0 1, 1 x", ["closing '}'"]),
        ("{0 1}, {2}", ["weights"]),
        ("{0 1 2}", ["numeric attribute 'a'", "'1 2'"]),
        ("{1 z}", ["nominal attribute 'b'", "'z'"]),
        ("{2 '1}", ["unterminated quote"]),
        ("{0 1, 3 1}", ["sparse entry 2: bad index '3' (need an integer 0..2)"]),
        ("{0_1 x}", ["sparse entry 1: bad index '0_1'"]),
        ("1,x,", ["value 3 is empty"]),
        ("{", ["sparse entry 1 has no index"]),
        ("{0 1,", ["sparse entry 2 has no index"]),
        ("{0 1, , 2 1}", ["sparse entry 2 has no index"]),
        ("{0 1, 1 }", ["sparse entry 2 (index 1) has no value"]),
        ("{0", ["sparse entry 1 (index 0) has no value"]),
        ("{0 1 % no brace", ["sparse row without its closing '}'"]),
        ("{0 '1' x}", ["expected ',' or '}' after sparse entry 1, found 'x'"]),
        (
            "{0 1}x",
            ["unexpected text after the closing '}': 'x' (instance weights are not supported)"],
        ),
        ("{}x", ["unexpected text after the closing '}': 'x'"]),
        (
            "{0 1} abcdefghijklmnopqrstuvwxyz0123456789",
            ["'}': 'abcdefghijklmnopqrstuvwxyz0123' (instance weights"],
        ),
        ("{1X 'y'}", ["sparse entry 1: bad index '1X'"]),
        ("{0 1_0}", ["sparse entry 1 (index 0)", "numeric attribute 'a'", "'1_0'"]),
        ("{0 '?'}", ["sparse entry 1 (index 0)", "numeric attribute 'a'", "'?'"]),
        ("{2 2}", ["sparse entry 1 (index 2): label 'l'", "'2'"]),
    ],
)
def test_malformed_row_names_file_line_and_problem(tmp_path, row, words):
    path = write(tmp_path, ROWS + f"    2,y,0\n\n    % comment\n    {row}\n    3,x,1\n")
    assert_row_error(path, row, *words)


def test_rows_before_the_error_are_yielded(tmp_path):
    path = write(tmp_path, ROWS + "    2,y,0\n    oops,x,1\n")
    iterator = iter(ARFF(path))
    assert next(iterator) == ({"a": 1.0, "b": "x"}, {"l": True})
    assert next(iterator) == ({"a": 2.0, "b": "y"}, {"l": False})
    with pytest.raises(ARFFError, match=f"line {line_of(path, 'oops,x,1')}: value 1"):
        next(iterator)


@pytest.mark.parametrize(
    ("bad_line", "words"),
    [
        ("@attribute c complex", ["unknown type 'complex'"]),
        ("@attribute c", ["has no type"]),
        ("@attribute a numeric", ["declared twice", "first on line 2"]),
        ("@attribute c {p,q", ["does not end with '}'"]),
        ("@attribute c {p,,q}", ["empty value"]),
        ("@attribute c {p,p}", ["declared twice"]),
        ("@attribute 'c numeric", ["unterminated quote"]),
        ("@attribute c numeric extra", ["unexpected text"]),
        ("@attribute r relational", ["relational"]),
        ("@attrib c numeric", ["unknown keyword '@attrib'"]),
        ("c numeric", ["expected @attribute or @data"]),
        ("@relation again", ["a second @relation"]),
        ("@attribute 'c numeric % a comment", ["unterminated quote"]),
        ("@attribute", ["@attribute without a name"]),
        ("@attribute '' numeric", ["@attribute with an empty name"]),
    ],
)
def test_malformed_header_names_file_line_and_problem(tmp_path, bad_line, words):
    path = write(
        tmp_path,
        f"@relation 'r: -C -1'\n@attribute a numeric\n{bad_line}\n@attribute l {{0,1}}\n@data\n",
    )
    with pytest.raises(ARFFError) as info:
        ARFF(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 3: ")
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("@attribute a numeric\n@data\n", r"line 1: expected @relation first"),
        ("a,b,c\n1,2,3\n", r"line 1: expected @relation, found 'a,b,c'"),
        ("% only a comment\n", r"no @relation"),
        ("@relation r\n@attribute a numeric\n", r"no @data"),
        ("@relation r\n@data\n", r"line 2: no @attribute before @data"),
        ("@relation r\n@attribute a numeric\n@data 1,2\n", r"line 3: unexpected text after @data"),
        ("@relation 'r\n@attribute a numeric\n@data\n", r"line 1: unterminated quote"),
        (
            "@relation 'r' junk\n@attribute a numeric\n@data\n",
            r"line 1: unexpected text after the relation name: ' junk'$",
        ),
        ("% only a comment\n", r": not an ARFF file: no @relation$"),
        ("x" * 50 + "\n", r"line 1: expected @relation, found '" + "x" * 40 + "'$"),
    ],
)
def test_broken_header(tmp_path, text, pattern):
    path = write(tmp_path, text)
    with pytest.raises(ARFFError, match=re.escape(str(path)) + r".*" + pattern):
        ARFF(path)


def test_not_utf8_is_an_arff_error(tmp_path):
    path = tmp_path / "latin.arff"
    path.write_bytes(
        b"@relation 'r: -C -1'\n@attribute caf\xe9 numeric\n@attribute l {0,1}\n@data\n1,1\n"
    )
    with pytest.raises(ARFFError, match="utf-8"):
        ARFF(path)
    assert ARFF(path, encoding="latin-1").features == ["café"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ARFF(tmp_path / "nope.arff")


NUMERIC_LABELS = """
    @relation 'r: -C 2'
    @attribute l1 numeric
    @attribute l2 numeric
    @attribute a numeric
    @data
"""


@pytest.mark.parametrize("row", ["1,0,2.5", "'1', 0 ,2.5", "{0 1, 2 2.5}", "{0 '1', 2 2.5}"])
def test_numeric_labels_read_as_booleans_on_every_path(tmp_path, row):
    path = write(tmp_path, NUMERIC_LABELS + f"    {row}\n    0,1,1\n")
    assert list(ARFF(path)) == [
        ({"a": 2.5}, {"l1": True, "l2": False}),
        ({"a": 1.0}, {"l1": False, "l2": True}),
    ]


@pytest.mark.parametrize("row", ["2,0,2.5", "'2',0,2.5", "{0 2}", "{0 '0.5'}"])
def test_a_numeric_label_other_than_0_or_1_is_an_error(tmp_path, row):
    path = write(tmp_path, NUMERIC_LABELS + f"    {row}\n")
    assert_row_error(path, row, "label 'l1' must be 0 or 1")


def test_a_missing_label_error_says_how_to_read_it_as_false(tmp_path):
    path = write(tmp_path, ROWS + "    2,y,?\n")
    assert_row_error(
        path,
        "2,y,?",
        "label 'l' is missing",
        "pass missing_labels='false' to read missing labels as False",
    )


@pytest.mark.parametrize(
    ("n_values", "shown"),
    [(10, "{v0,v1,v2,v3,v4,v5,v6,v7,v8,v9}"), (11, "{v0,v1,v2,v3,v4,v5,v6,v7,v8,v9,...}")],
)
def test_an_unknown_nominal_value_lists_ten_declared_values(tmp_path, n_values, shown):
    values = ",".join(f"v{i}" for i in range(n_values))
    path = write(
        tmp_path,
        f"""
        @relation 'r: -C -1'
        @attribute b {{{values}}}
        @attribute l {{0,1}}
        @data
        zz,1
        """,
    )
    assert_row_error(path, "zz,1", f"not one of {shown}")
    if n_values == 11:
        assert "v10" not in str(pytest.raises(ARFFError, list, ARFF(path)).value)


FAST = [
    # all-numeric features, labels sharing one spelling, contiguous labels first
    (
        "@relation 'r: -C 2'\n@attribute l1 {0,1}\n@attribute l2 {0,1}\n"
        "@attribute a numeric\n@attribute b numeric\n",
        ["1,1,2.5,-1", "0,0,0,3e2"],
        ["{0 1, 1 1, 2 2.5, 3 -1}", "{2 0, 3 3e2}"],
        [
            ({"a": 2.5, "b": -1.0}, {"l1": True, "l2": True}),
            ({"a": 0.0, "b": 300.0}, {"l1": False, "l2": False}),
        ],
    ),
    # a nominal feature, labels with different spellings, a label in the middle of the labels
    (
        "@relation 'r'\n@attribute c {red,blue}\n@attribute l1 {no,yes}\n@attribute l2 {0,1}\n",
        ["red,yes,0", "blue,no,1"],
        ["{1 yes}", "{0 blue, 2 1}"],  # a nominal left out takes its first value
        [({"c": "red"}, {"l1": True, "l2": False}), ({"c": "blue"}, {"l1": False, "l2": True})],
    ),
    # contiguous features before labels that are not numbers
    (
        "@relation 'r: -C -1'\n@attribute a numeric\n@attribute b numeric\n@attribute l {no,yes}\n",
        ["1,2,yes", "3,0,no"],
        ["{0 1, 1 2, 2 yes}", "{0 3, 1 0}"],
        [({"a": 1.0, "b": 2.0}, {"l": True}), ({"a": 3.0, "b": 0.0}, {"l": False})],
    ),
    # a numeric label between the features, a nominal of numbers
    (
        "@relation 'r'\n@attribute a numeric\n@attribute l numeric\n@attribute g {1,2,3}\n",
        ["4,1,3", "5,0,2"],
        ["{0 4, 1 1, 2 3}", "{0 5, 2 2}"],
        [({"a": 4.0, "g": 3.0}, {"l": True}), ({"a": 5.0, "g": 2.0}, {"l": False})],
    ),
]


@pytest.mark.parametrize(("header", "dense", "sparse", "expected"), FAST)
def test_plain_rows_are_read_by_the_fast_path(
    tmp_path, monkeypatch, header, dense, sparse, expected
):
    """Rows without quotes, comments or underscores never need the careful path; the dense and
    sparse rows here hold the same instances."""
    from streamml.datasets._arff_rows import RowReader

    labels = [name for name in ("l1", "l2", "l") if f"@attribute {name} " in header]
    for name, rows in (("dense", dense), ("sparse", sparse)):
        text = header + "@data\n" + "\n".join(rows) + "\n"
        path = write(tmp_path, text, f"{name}.arff", labels)
        assert list(ARFF(path)) == expected
        with monkeypatch.context() as patch:
            for method in ("_dense_careful", "_sparse_careful"):
                patch.setattr(RowReader, method, _no_careful_path)
            assert list(ARFF(path)) == expected


def _no_careful_path(self, text, line):
    raise AssertionError(f"line {line} took the careful path: {text!r}")


def test_the_careful_path_reads_values_of_any_letters_and_empty_sparse_rows(tmp_path):
    """Rows with comments or quotes, values with capital letters, no blank after a comma."""
    path = write(
        tmp_path,
        """
        @relation 'r: -C -1'
        @attribute a numeric
        @attribute size {XL,S}
        @attribute l {0,1}
        @data
        1,XL,1 % a comment
        2, 'S' ,0
        {0 '3',1 XL,2 1}
        { 0 '4',2 0}
        {} % all left out
        {}
        """,
    )
    assert list(ARFF(path)) == [
        ({"a": 1.0, "size": "XL"}, {"l": True}),
        ({"a": 2.0, "size": "S"}, {"l": False}),
        ({"a": 3.0, "size": "XL"}, {"l": True}),
        ({"a": 4.0, "size": "XL"}, {"l": False}),
        ({"size": "XL"}, {"l": False}),
        ({"size": "XL"}, {"l": False}),
    ]


def test_a_declared_question_mark_is_a_value_only_when_quoted(tmp_path):
    path = write(
        tmp_path,
        """
        @relation 'r: -C -1'
        @attribute q {'?',b}
        @attribute l {0,1}
        @data
        ?,1
        '?',0
        b,1
        """,
    )
    assert list(ARFF(path)) == [
        ({}, {"l": True}),
        ({"q": "?"}, {"l": False}),
        ({"q": "b"}, {"l": True}),
    ]


def test_a_label_count_as_large_as_the_attributes_is_an_error_on_the_relation_line(tmp_path):
    path = write(
        tmp_path,
        "% two attributes\n@relation 'r: -C 2'\n@attribute a {0,1}\n@attribute b {0,1}\n@data\n",
    )
    with pytest.raises(ARFFError, match=r"need 1 <= \|N\| < number of attributes") as info:
        ARFF(path)
    assert info.value.line == 2 and str(path) in str(info.value)


def test_label_names_errors_list_what_is_wrong(tmp_path):
    path = write(tmp_path, MEKA_FIRST)
    with pytest.raises(ValueError, match=r"labels named more than once: \['happy'\]$"):
        ARFF(path, labels=["happy", "sad", "happy"])
    unknown = [f"u{i}" for i in range(6)]
    with pytest.raises(
        ValueError,
        match=r"6 label\(s\) are not attributes of the file: 'u0', 'u1', 'u2', 'u3', 'u4' \.\.\.$",
    ):
        ARFF(path, labels=unknown)
    with pytest.raises(
        ValueError,
        match=r"5 label\(s\) are not attributes of the file: 'u0', 'u1', 'u2', 'u3', 'u4'$",
    ):
        ARFF(path, labels=unknown[:5])
    text = "@relation r\n@attribute f numeric\n@attribute colour {red,green}\n@data\n"
    with pytest.raises(
        ValueError, match=r"label attribute 'colour' is \{red,green\}; a label must be binary"
    ):
        ARFF(write(tmp_path, text, "c.arff"), labels=["colour"])


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("@attribute s string junk", "unexpected text after 'string'"),
        ("@attribute r relational", "relational attributes are not supported"),
    ],
)
def test_attribute_declarations_that_cannot_be_read(tmp_path, line, words):
    path = write(tmp_path, f"@relation 'r: -C 1'\n@attribute l {{0,1}}\n{line}\n@data\n")
    with pytest.raises(ARFFError, match=words) as info:
        ARFF(path)
    assert info.value.line == 3


def test_a_date_format_may_hold_blanks(tmp_path):
    path = write(
        tmp_path,
        "@relation 'r: -C 1'\n@attribute l {0,1}\n@attribute d date 'yyyy-MM-dd HH:mm'\n"
        "@attribute a numeric\n@data\n1,'2020-01-02 10:00',3\n",
    )
    assert list(ARFF(path)) == [({"d": "2020-01-02 10:00", "a": 3.0}, {"l": True})]


def test_a_header_must_start_with_the_relation(tmp_path):
    path = write(tmp_path, "@attribute a numeric\n@relation r\n")
    with pytest.raises(ARFFError, match="expected @relation first, found '@attribute'") as info:
        ARFF(path)
    assert info.value.line == 1


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (
            "happy",
            TypeError,
            r"^labels must be a list of attribute names or an int N \(MEKA -C N\), not str$",
        ),
        (5, ValueError, r"^labels=5 asks for 5 label attributes, but the file has 4 attributes"),
        ([1, 2], TypeError, r"^labels must contain attribute names \(str\)$"),
        (["nope"], ValueError, r"^labels=: 1 label\(s\) are not attributes of the file: 'nope'$"),
    ],
)
def test_a_bad_labels_argument_says_what_is_wrong(tmp_path, labels, error, message):
    with pytest.raises(error, match=message):
        ARFF(write(tmp_path, MEKA_FIRST), labels=labels)


@pytest.mark.parametrize(
    ("xml", "line", "message"),
    [
        (
            "<other><label name='happy'/></other>",
            None,
            "the root element is <other>, expected <labels>",
        ),
        ("<labels><label/></labels>", None, "a <label> element has no name attribute"),
        ("<labels><labelx name='happy'/></labels>", None, "no <label> element"),
        (
            "<labels>\n<label name='a'>\n</labels>",
            3,
            "not a valid MULAN label file: mismatched tag",
        ),
        (
            "<labels><label name='angry'/></labels>",
            None,
            "for data.arff: 1 label(s) are not attributes of the file: 'angry'",
        ),
    ],
)
def test_a_bad_label_file_names_itself(tmp_path, xml, line, message):
    path = write(tmp_path, MEKA_FIRST)
    xml_path = path.with_suffix(".xml")
    xml_path.write_text(xml)
    with pytest.raises(ARFFError) as info:
        ARFF(path)
    assert info.value.path == str(xml_path) and info.value.line == line
    where = f"{xml_path}, line {line}: " if line else f"{xml_path}: "
    assert str(info.value).startswith(where + message), str(info.value)


def test_a_label_file_without_namespace_and_a_file_without_labels(tmp_path):
    path = write(tmp_path, MEKA_FIRST)
    path.with_suffix(".xml").write_text("<labels><label name='sad'/></labels>")
    assert next(iter(ARFF(path)))[1] == {"sad": False}
    text = "@relation r\n@attribute a numeric\n@attribute l {0,1}\n@data\n"
    bare = write(tmp_path, text, "bare.arff")
    with pytest.raises(ARFFError) as info:
        ARFF(bare)
    assert info.value.path == str(bare) and info.value.line is None
    assert "put a MULAN bare.xml beside the file" in str(info.value)
    assert "option '-C N' (first N attributes) or '-C -N' (last N)" in str(info.value)


def test_a_count_in_the_relation_that_does_not_fit_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "@relation 'x: -C 5'\n@attribute a {0,1}\n@attribute b numeric\n@data\n")
    with pytest.raises(ARFFError) as info:
        ARFF(path)
    assert (info.value.path, info.value.line) == (str(path), 1)
    assert "the relation's MEKA option -C 5 asks for 5 label attributes" in str(info.value)


def test_quoted_values_keep_unknown_escapes_and_read_escaped_quotes(tmp_path):
    path = write(
        tmp_path,
        """
        @relation 'r: -C -1'
        @attribute Xc {'a\\qb','it\\'s'}
        @attribute l {0,1}
        @data
        'a\\qb',1
        'it\\'s',0
        """,
    )
    assert list(ARFF(path)) == [({"Xc": "a\\qb"}, {"l": True}), ({"Xc": "it's"}, {"l": False})]


@pytest.mark.parametrize("row", ["1,x,'1\\'", "1,x,'1\\"])
def test_a_backslash_at_the_end_of_a_row_leaves_its_quote_open(tmp_path, row):
    path = write(tmp_path, ROWS + f"    {row}\n")
    assert_row_error(path, row, "unterminated quote")


def test_date_attributes_keep_their_kind_and_line(tmp_path):
    text = "@relation r\n@attribute a numeric\n@attribute d date\n@attribute l {0,1}\n@data\n"
    with pytest.raises(ValueError, match="label attribute 'd' is date;"):
        ARFF(write(tmp_path, text), labels=["d"])
    text = "@relation r\n@attribute d date\n@attribute d date\n@data\n"
    with pytest.raises(ARFFError, match="line 3: .*declared twice.*first on line 2"):
        ARFF(write(tmp_path, text, "twice.arff"), labels=["d"])
