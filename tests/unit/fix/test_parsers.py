"""The error parsers on output really captured from each tool (tests/unit/fix/data, made by data/capture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.fix.parsers import (
    Frame,
    ParsedError,
    ProjectPaths,
    parse_errors,
    parse_log_entry,
    parse_log_text,
    split_entries,
)

DATA = Path(__file__).parent / "data"
CAPTURED = Path("/tmp/fixcap")  # where capture.py ran each program: the project root of each capture


def parse(name: str, project: str) -> list[ParsedError]:
    return parse_errors((DATA / name).read_text(), CAPTURED / project)


def test_python_traceback_points_at_the_innermost_project_frame() -> None:
    (error,) = parse("python_traceback.txt", "py")
    assert (error.file, error.line, error.kind, error.message) == (
        "calc/ops.py",
        2,
        "ZeroDivisionError",
        "division by zero",
    )
    assert [(f.file, f.line, f.function) for f in error.frames] == [
        ("main.py", 20, "<module>"),
        ("main.py", 5, "report"),
        ("main.py", 5, "<listcomp>"),
        ("calc/ops.py", 2, "mean"),
    ]
    assert error.tool == "python"
    assert error.raw.startswith("Traceback (most recent call last):")
    assert error.files() == ["calc/ops.py", "main.py"]


def test_chained_traceback_is_one_error_with_the_cause() -> None:
    (error,) = parse("python_chained.txt", "py")
    assert error.kind == "RuntimeError"
    assert (error.file, error.line) == ("main.py", 12)
    assert "bad ratio in config" in error.message and "ValueError" in error.message
    assert Frame("calc/ops.py", 7, "parse_ratio") in error.frames


def test_syntax_error_without_traceback_header_has_a_column() -> None:
    (error,) = parse("python_syntax_error.txt", "py")
    assert (error.file, error.line, error.column, error.kind) == ("bad_syntax.py", 1, 12, "SyntaxError")


@pytest.mark.parametrize("capture", ["pytest_long.txt", "pytest_short.txt"])
def test_pytest_failures_carry_test_ids_and_frames(capture: str) -> None:
    errors = parse(capture, "py")
    assert [e.test_id for e in errors] == [
        "tests/test_ops.py::test_mean_empty",
        "tests/test_ops.py::test_ratio",
        "tests/test_ops.py::TestRatio::test_zero",
    ]
    empty, ratio, zero = errors
    assert (empty.file, empty.line, empty.kind) == ("calc/ops.py", 2, "ZeroDivisionError")
    assert [(f.file, f.line, f.function) for f in empty.frames] == [
        ("tests/test_ops.py", 9, "test_mean_empty"),
        ("calc/ops.py", 2, "mean"),
    ]
    assert (ratio.file, ratio.line, ratio.kind) == ("tests/test_ops.py", 14, "AssertionError")
    assert "0.3333333333333333 == 0.5" in ratio.message
    assert (zero.file, zero.line) == ("calc/ops.py", 7)
    assert all(e.tool == "pytest" for e in errors)


def test_pytest_collection_error() -> None:
    (error,) = parse("pytest_collect_error.txt", "py")
    assert error.test_id == "tests/test_broken_import.py"
    assert (error.file, error.line, error.kind) == ("tests/test_broken_import.py", 1, "ImportError")
    assert "median" in error.message
    # importlib's frame lies outside the project: dropped
    assert all(not f.file.startswith("/") for f in error.frames)


def test_unittest_failures_and_errors() -> None:
    empty, ratio = parse("unittest.txt", "py")
    assert empty.test_id == "test_unit.MeanTest.test_empty"
    assert (empty.file, empty.line, empty.kind, empty.tool) == (
        "calc/ops.py",
        2,
        "ZeroDivisionError",
        "unittest",
    )
    assert ratio.test_id == "test_unit.MeanTest.test_ratio"
    assert (ratio.file, ratio.line, ratio.kind, ratio.message) == (
        "test_unit.py",
        14,
        "AssertionError",
        "0.5 != 0.25",
    )


@pytest.mark.parametrize("capture", ["tsc_plain.txt", "tsc_pretty.txt"])
def test_tsc_plain_and_pretty(capture: str) -> None:
    first, second = parse(capture, "ts")
    assert (first.file, first.line, first.column, first.kind) == ("src/main.ts", 4, 13, "TS2552")
    assert first.message == "Cannot find name 'totl'. Did you mean 'total'?"
    assert (second.file, second.line, second.column, second.kind) == ("src/total.ts", 4, 9, "TS2322")
    assert {first.tool, second.tool} == {"tsc"}


def test_rustc_errors_with_codes_and_labels() -> None:
    errors = parse("cargo_build_error.txt", "rs")
    assert [(e.file, e.line, e.column, e.kind) for e in errors] == [
        ("src/main.rs", 3, 22, "E0308"),
        ("src/main.rs", 4, 13, "E0308"),
        ("src/main.rs", 4, 11, "E0277"),
    ]
    assert errors[0].message == "mismatched types: expected `i32`, found `&str`"
    assert "could not compile" not in " ".join(e.message for e in errors)


def test_rust_panic_without_and_with_backtrace() -> None:
    (plain,) = parse("rust_panic.txt", "rs")
    assert (plain.file, plain.line, plain.column, plain.kind) == ("src/main.rs", 3, 5, "panic")
    assert plain.message == "attempt to divide by zero"
    (traced,) = parse("rust_panic_backtrace.txt", "rs")
    # in-project frames only, outermost first; the toolchain's frames are dropped
    assert [(f.line, f.function) for f in traced.frames] == [(9, "calc::main"), (3, "calc::mean")]


def test_cargo_test_failures_are_named_by_test() -> None:
    errors = parse("cargo_test.txt", "rs")
    assert [e.test_id for e in errors] == ["tests::empty_is_zero", "tests::mean_rounds_down"]
    assert errors[1].message.splitlines()[0] == "assertion `left == right` failed: mean of 1 and 2"
    assert "left: 1" in errors[1].message
    assert (errors[1].file, errors[1].line) == ("src/main.rs", 24)


def test_go_test_failure_and_panic() -> None:
    errors = {e.test_id: e for e in parse("go_test_panic.txt", "go")}
    assert set(errors) == {"TestClamp", "TestMeanEmpty"}
    clamp, panic = errors["TestClamp"], errors["TestMeanEmpty"]
    assert (clamp.file, clamp.line, clamp.message) == ("calc_test.go", 13, "Clamp(-5, 0, 10) = 10, want 0")
    assert (panic.kind, panic.file, panic.line) == ("panic", "calc.go", 8)
    assert panic.message == "runtime error: integer divide by zero"
    assert [f.file for f in panic.frames] == ["calc_test.go", "calc.go"]


def test_go_test_verbose_and_build_error() -> None:
    (clamp,) = parse("go_test_fail.txt", "go")
    assert (clamp.test_id, clamp.file, clamp.line) == ("TestClamp", "calc_test.go", 13)
    errors = parse("go_build_error.txt", "go")
    assert [(e.file, e.line, e.column, e.message) for e in errors] == [
        ("calc.go", 5, 9, "v declared but not used"),
        ("calc.go", 6, 12, "undefined: w"),
    ]


def test_generic_lines_from_ruff_mypy_and_gcc() -> None:
    ruff = parse("ruff.txt", "lint")
    assert [(e.file, e.line, e.column, e.kind) for e in ruff] == [
        ("app/util.py", 1, 8, "F401"),
        ("app/util.py", 5, 12, "F821"),
    ]
    (mypy,) = parse("mypy.txt", "lint")
    assert (mypy.file, mypy.line, mypy.column, mypy.kind) == ("app/util.py", 5, 0, "name-defined")
    assert mypy.message == 'Name "y" is not defined'
    gcc = parse("gcc.txt", "lint")
    assert [(e.line, e.column) for e in gcc] == [(2, 13), (3, 13)]  # the note is dropped


def test_node_stack_trace() -> None:
    (error,) = parse("node_error.txt", "logs")
    assert (error.kind, error.file, error.line, error.column) == ("TypeError", "web/server.js", 2, 32)
    assert [f.function for f in error.frames] == ["Object.<anonymous>", "main", "parse"]


def test_log_file_entries() -> None:
    text = (DATA / "python_app.log").read_text()
    entries = split_entries(text)
    assert len(entries) == 5  # two INFO, the ERROR with its traceback, one ERROR, one WARNING
    errors = parse_log_text(text, CAPTURED / "logs", source="shop/app.log")
    traceback, timeout = errors
    assert (traceback.kind, traceback.file, traceback.line) == ("KeyError", "shop/app.py", 10)
    assert "order 2 could not be priced" in traceback.message
    assert traceback.tool == "log" and "Traceback" in traceback.raw
    assert timeout.kind == "ERROR" and timeout.message.startswith("payment gateway timeout after 30s")
    assert parse_log_entry(entries[0], ProjectPaths(CAPTURED / "logs")) == []


def test_paths_outside_the_project_are_not_frames() -> None:
    paths = ProjectPaths(Path("/srv/app"))
    assert paths.relative("/srv/app/pkg/mod.py") == "pkg/mod.py"
    assert paths.relative("/srv/application/x.py") is None
    assert paths.relative("/usr/lib/python3.11/json/__init__.py") is None
    assert paths.relative("/srv/app/.venv/lib/python3.11/site-packages/x.py") is None
    assert paths.relative("../elsewhere.py") is None
    assert paths.relative("./src/main.rs") == "src/main.rs"


def test_json_round_trip() -> None:
    (error,) = parse("python_traceback.txt", "py")
    assert ParsedError.from_json(error.to_json()) == error


def test_jest_failures_are_named_by_file_and_title() -> None:
    expectation, thrown = parse("jest.txt", "jest")
    assert expectation.test_id == "test/sum.test.js::sum \u203a a missing qty counts as one"
    assert (expectation.kind, expectation.file, expectation.line, expectation.column) == (
        "AssertionError",
        "test/sum.test.js",
        9,
        33,
    )
    assert expectation.message.splitlines()[1:] == ["Expected: 2", "Received: NaN"]
    assert thrown.test_id == "test/sum.test.js::label of an unnamed item"
    assert (thrown.kind, thrown.file, thrown.line) == ("TypeError", "src/sum.js", 6)
    assert [f.file for f in thrown.frames] == ["test/sum.test.js", "src/sum.js"]
    assert {expectation.tool, thrown.tool} == {"jest"}


def test_a_test_run_gives_the_watcher_counts_and_failing_tests_from_the_same_parsers() -> None:
    from app.fix.parsers import parse_test_output

    # jest's "FAIL file" line is not go test's package line: the counts are jest's own.
    jest = parse_test_output((DATA / "jest.txt").read_text(), CAPTURED / "js")
    assert (jest.passed, jest.failed, jest.recognised) == (1, 2, True)
    assert [f.file for f in jest.failures] == ["test/sum.test.js", "test/sum.test.js"]
    # pytest's long and short tracebacks place a failure at the same line of the test.
    for name in ("pytest_short.txt", "pytest_long.txt"):
        results = parse_test_output((DATA / name).read_text(), CAPTURED / "py")
        assert (results.passed, results.failed) == (1, 3)
        assert [(f.test_id, f.file, f.line, f.message) for f in results.failures] == [
            (
                "tests/test_ops.py::test_mean_empty",
                "tests/test_ops.py",
                9,
                "ZeroDivisionError: division by zero",
            ),
            (
                "tests/test_ops.py::test_ratio",
                "tests/test_ops.py",
                14,
                "AssertionError: assert 0.3333333333333333 == 0.5",
            ),
            (
                "tests/test_ops.py::TestRatio::test_zero",
                "tests/test_ops.py",
                19,
                "ZeroDivisionError: division by zero",
            ),
        ]
    # A panicking go test is named with its own panic, not the next test's log line.
    go = parse_test_output((DATA / "go_test_panic.txt").read_text(), CAPTURED / "go")
    assert {f.test_id: f.message for f in go.failures}[
        "TestMeanEmpty"
    ] == "runtime error: integer divide by zero"


def test_a_log_error_line_naming_a_project_file_is_placed_there_when_the_root_is_a_folder() -> None:
    # parse_log_text takes the project root as a folder, like parse_errors: a plain ERROR line (no stack)
    # that names a file of the project points at it.
    text = "2024-05-01 12:00:00 ERROR shop.cart: total is negative at shop/cart.py:41\n"
    (error,) = parse_log_text(text, CAPTURED / "logs", source="shop/app.log")
    assert (error.kind, error.file, error.line) == ("ERROR", "shop/cart.py", 41)
    assert error.message == "total is negative at shop/cart.py:41 (in shop/app.log)"
