"""The modules of the mutation tests, the fast tests run against their mutants, their targets."""

from __future__ import annotations

import dataclasses

__all__ = ["TARGETS", "Target"]


@dataclasses.dataclass(frozen=True)
class Target:
    """A module to mutate, the tests run against its mutants, and the kill rate it must reach.

    Parameters
    ----------
    name
        Short name (``--modules``).
    path
        The module, relative to the repository.
    tests
        Test files (or directories) run against its mutants (the fast ones: pytest's ``addopts``
        deselect the slow tests); the module's own doctests always run too.
    group
        The group of the report, with its target rate.
    target
        The share of the non-equivalent mutants the tests must kill.
    skip
        Regular expressions of source lines not to mutate (said in the report).
    pytest_args
        More pytest arguments (said in the report).

    """

    name: str
    path: str
    tests: tuple[str, ...]
    group: str
    target: float
    skip: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()


def _service(*names: str) -> tuple[str, ...]:
    return tuple(f"tests/service/test_{name}.py" for name in names)


def _learners(*names: str) -> tuple[str, ...]:
    return tuple(f"tests/learners/test_{name}.py" for name in names)


_TREE = "partition and tree"
#: MLHAT's tests but the four longest (a drift, a tree of many leaves, river's checks, sparse
#: against dense input: 7 s of the 9 s of test_mlhat.py, per mutant).
_QUICK_TREE = (
    "-k",
    "not drift_fires and not max_leaves_bounds and not river_estimator_checks "
    "and not sparse_and_dense",
)
#: The kill -9 tests run the server in processes of their own, a minute each: left out.
_NO_KILL9 = ("-k", "not kill9")
#: ... and test_api.py's two tests that learn a whole stream and compare with the library's
#: model (3 s each, per mutant; the other API tests make the same requests on fewer events).
_QUICK_API = (
    "-k",
    "not kill9 and not learns_like_the_library_model and not labels_known_in_advance",
)
# The service's modules run with their direct tests and the quick service tests: mutmut runs,
# per mutant, every selected test that calls the mutated function, so a test of a few seconds
# costs minutes over a module's few hundred mutants on two shared cores.
TARGETS = [
    Target(
        "store",
        "service/store.py",
        _service("store", "storage", "committer", "retries"),
        "service",
        0.85,
        pytest_args=_NO_KILL9,
    ),
    Target(
        "pending",
        "service/pending.py",
        _service("store", "storage", "retries"),
        "service",
        0.85,
    ),
    Target(
        "database",
        "service/database.py",
        _service("database", "store", "storage", "committer"),
        "service",
        0.85,
        pytest_args=_NO_KILL9,
    ),
    Target(
        "committer",
        "service/committer.py",
        _service("committer", "retries", "input_checks"),
        "service",
        0.85,
    ),
    Target(
        "handlers",
        "service/handlers.py",
        _service("requests", "bad_input", "retries", "input_checks", "auth", "committer", "api"),
        "service",
        0.85,
        pytest_args=_QUICK_API,
    ),
    Target(
        "snapshots",
        "service/snapshots.py",
        _service("snapshots", "durability"),
        "service",
        0.85,
        pytest_args=_NO_KILL9,
    ),
    Target(
        "quality",
        "service/quality.py",
        _service("quality", "metrics", "doctests"),
        "service",
        0.85,
    ),
    Target(
        "metrics",
        "streamml/evaluate/metrics.py",
        ("tests/evaluate",),
        "metrics and CLI",
        0.85,
    ),
    Target(
        "prequential",
        "streamml/evaluate/prequential.py",
        ("tests/evaluate/test_prequential.py", "tests/evaluate/test_prequential_report.py"),
        "metrics and CLI",
        0.85,
    ),
    Target(
        "cli",
        "streamml/cli.py",
        ("tests/cli",),
        "metrics and CLI",
        0.85,
        # the prose of --help (help= and description= texts, on lines of their own)
        skip=(r"^\s+(help|description)=", r'^\s+"[^"]* [^"]*"\)?,?$', r"^\s+model_help = "),
    ),
    Target(
        "arff_rows",
        "streamml/datasets/_arff_rows.py",
        ("tests/datasets/test_arff.py",),
        "metrics and CLI",
        0.85,
    ),
    Target(
        "arff_header",
        "streamml/datasets/_arff_header.py",
        ("tests/datasets/test_arff.py",),
        "metrics and CLI",
        0.85,
    ),
    Target(
        "counts",
        "streamml/partition/counts.py",
        ("tests/partition",),
        "partition and tree",
        0.70,
    ),
    Target(
        "checks",
        "streamml/partition/checks.py",
        ("tests/partition",),
        "partition and tree",
        0.70,
    ),
    Target(
        "odac",
        "streamml/partition/odac.py",
        ("tests/partition",),
        "partition and tree",
        0.70,
    ),
    Target(
        "refine",
        "streamml/partition/refine.py",
        (
            "tests/partition/test_refine.py",
            "tests/partition/test_refine_counts.py",
            "tests/partition/test_groups.py",
            "tests/partition/test_odac_options.py",
        ),
        _TREE,
        0.70,
    ),
    Target("mixing", "streamml/learners/mixing.py", _learners("mixture"), _TREE, 0.70),
    Target("watch", "streamml/learners/watch.py", _learners("sharing"), _TREE, 0.70),
    Target(
        "gaussian",
        "streamml/learners/gaussian.py",
        _learners("gaussian", "mlhat", "sharing"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "leaves",
        "streamml/learners/leaves.py",
        _learners("leaves", "mlhat", "mixture"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "logistic",
        "streamml/learners/logistic.py",
        _learners("leaves", "logistic_reference", "mlhat", "mixture"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "sparse_rows",
        "streamml/learners/sparse_rows.py",
        _learners("sparse_rows", "leaves"),
        _TREE,
        0.70,
    ),
    Target(
        "nodes",
        "streamml/learners/nodes.py",
        _learners("nodes", "split_tests", "mlhat", "sharing", "mixture", "leaves"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "standardise",
        "streamml/learners/standardise.py",
        _learners("standardise", "leaves", "nodes", "mlhat"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "features",
        "streamml/learners/features.py",
        _learners("features", "nodes", "mlhat", "naive_bayes"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "encoded",
        "streamml/learners/encoded.py",
        _learners("encoded", "naive_bayes", "mlhat", "features"),
        _TREE,
        0.70,
        pytest_args=_QUICK_TREE,
    ),
    Target(
        "bounds",
        "streamml/bounds.py",
        ("tests/learners", "tests/partition"),
        _TREE,
        0.70,
    ),
    Target(
        "naive_bayes", "streamml/learners/naive_bayes.py", _learners("naive_bayes"), _TREE, 0.70
    ),
    Target(
        "alternates",
        "streamml/ihomer/alternates.py",
        ("tests/ihomer/test_adapt.py", "tests/learners/test_mixture.py"),
        _TREE,
        0.70,
    ),
    Target(
        "labelsets",
        "streamml/compose/labelsets.py",
        (
            "tests/compose/test_labelsets.py",
            "tests/compose/test_threshold.py",
            "tests/ihomer/test_seen_sets.py",
        ),
        _TREE,
        0.70,
    ),
    Target(
        "decision",
        "streamml/ihomer/decision.py",
        (
            "tests/ihomer/test_decision.py",
            "tests/ihomer/test_threshold.py",
            "tests/ihomer/test_seen_sets.py",
            "tests/ihomer/test_second_opinion.py",
        ),
        _TREE,
        0.70,
    ),
    Target(
        "last_set",
        "streamml/compose/last_set.py",
        ("tests/compose/test_last_set.py", "tests/ihomer/test_second_opinion.py"),
        _TREE,
        0.70,
    ),
    Target(
        "second_opinion",
        "streamml/ihomer/second_opinion.py",
        ("tests/ihomer/test_second_opinion.py", "tests/ihomer/test_last_set.py"),
        _TREE,
        0.70,
    ),
    Target(
        "balance",
        "streamml/compose/balance.py",
        ("tests/compose/test_balance.py", "tests/ihomer/test_balanced.py"),
        _TREE,
        0.70,
    ),
    Target(
        "balanced",
        "streamml/ihomer/balanced.py",
        ("tests/ihomer/test_balanced.py", "tests/ihomer/test_second_opinion.py"),
        _TREE,
        0.70,
    ),
    Target(
        "race",
        "streamml/compose/race.py",
        ("tests/compose/test_race.py", "tests/ihomer/test_threshold.py"),
        _TREE,
        0.70,
    ),
    Target(
        "threshold",
        "streamml/compose/threshold.py",
        ("tests/compose/test_threshold.py", "tests/ihomer/test_threshold.py"),
        _TREE,
        0.70,
    ),
    Target(
        "split",
        "streamml/partition/split.py",
        ("tests/partition/test_split_reference.py",),
        _TREE,
        0.70,
    ),
    Target(
        "selection",
        "streamml/ihomer/selection.py",
        ("tests/ihomer/test_selection.py",),
        _TREE,
        0.70,
    ),
    Target(
        "rise",
        "streamml/ihomer/rise.py",
        ("tests/ihomer/test_label_rise.py", "tests/ihomer/test_label_rise_reference.py"),
        _TREE,
        0.70,
    ),
    Target(
        "cluster",
        "streamml/ihomer/cluster.py",
        ("tests/ihomer/test_cluster.py",),
        _TREE,
        0.70,
    ),
    Target(
        "parameters",
        "streamml/ihomer/parameters.py",
        ("tests/ihomer/test_parameters.py",),
        _TREE,
        0.70,
    ),
    Target(
        "protocols",
        "streamml/ihomer/protocols.py",
        ("tests/ihomer/test_protocols.py",),
        _TREE,
        0.70,
    ),
    Target(
        "state",
        "streamml/ihomer/state.py",
        ("tests/ihomer/test_state.py",),
        _TREE,
        0.70,
    ),
    Target(
        "model",
        "streamml/ihomer/model.py",
        (
            "tests/ihomer/test_ihomer.py",
            "tests/ihomer/test_adapt.py",
            "tests/ihomer/test_seen_sets.py",
            "tests/ihomer/test_threshold.py",
            "tests/ihomer/test_label_rise.py",
            "tests/ihomer/test_old_pickles.py",
            "tests/ihomer/test_model_state.py",
        ),
        _TREE,
        0.70,
        skip=(r"^\s+yield \{",),  # the parameters of river's estimator checks
        # IHOMER's tests but the five longest (1.8-5 s each, per mutant, over ~1,000 mutants)
        pytest_args=(
            "-k",
            "not regrouping and not retire_without_changing "
            "and not large_cluster_is_acted and not local_change_gives_only",
        ),
    ),
    Target(
        "mlhat",
        "streamml/learners/mlhat.py",
        _learners("mlhat", "mlhat_state", "sharing", "tree_paths"),
        _TREE,
        0.70,
        # the parameters of river's estimator checks (their test is one of _QUICK_TREE's four),
        # and the numeric defaults of the constructor (tuned on streams: benchmarks/mlhat_speed.py)
        skip=(r"^\s+yield \{", r'^\s+"\w+": (\d+|None),$', r"^\s+\w+: [\w |.]+ = [\d.e-]+,$"),
        pytest_args=_QUICK_TREE,
    ),
]
