"""Regenerate the captured tool outputs in this folder by really running each tool on a tiny broken program.

    .venv/bin/python tests/unit/fix/data/capture.py [--tsc PATH]

Each program is written under /tmp/fixcap/<name> (a fixed place, so the paths inside the captures are stable;
the parser tests pass that folder as the project root). Needs python, cargo, go and tsc (``npm install
typescript`` in a temporary folder, then ``--tsc that/node_modules/.bin/tsc``) and jest (``npm install jest@29``,
then ``--jest that/node_modules/.bin/jest``); a missing tool is skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = Path("/tmp/fixcap")
ENV = {**os.environ, "NO_COLOR": "1", "PY_COLORS": "0", "COLUMNS": "120", "CARGO_TERM_COLOR": "never"}


def write(root: Path, files: dict[str, str]) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def run(root: Path, command: list[str], out: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, env={**ENV, **(env or {})})
    (HERE / out).write_text(result.stdout + result.stderr)
    print(f"{out}: exit {result.returncode}, {len((result.stdout + result.stderr).splitlines())} lines")


PY_OPS = """\
def mean(values):
    return sum(values) / len(values)


def parse_ratio(text):
    left, right = text.split(":")
    return int(left) / int(right)
"""

PY_MAIN = """\
from calc.ops import mean, parse_ratio


def report(rows):
    return [mean(row) for row in rows]


def load():
    try:
        return parse_ratio("3:x")
    except ValueError as exc:
        raise RuntimeError("bad ratio in config") from exc


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["chained"]:
        load()
    print(report([[1, 2], []]))
"""

PY_TESTS = """\
from calc.ops import mean, parse_ratio


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_mean_empty():
    assert mean([]) == 0


def test_ratio():
    assert parse_ratio("1:4") == 0.25
    assert parse_ratio("1:3") == 0.5


class TestRatio:
    def test_zero(self):
        assert parse_ratio("1:0") == 0
"""

PY_UNITTEST = """\
import unittest

from calc.ops import mean, parse_ratio


class MeanTest(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(mean([2, 4]), 3)

    def test_empty(self):
        self.assertEqual(mean([]), 0)

    def test_ratio(self):
        self.assertEqual(parse_ratio("1:2"), 0.25)


if __name__ == "__main__":
    unittest.main()
"""


def capture_python() -> None:
    root = write(
        BASE / "py",
        {
            "calc/__init__.py": "",
            "calc/ops.py": PY_OPS,
            "main.py": PY_MAIN,
            "tests/test_ops.py": PY_TESTS,
            "test_unit.py": PY_UNITTEST,
            "bad_syntax.py": "def broken(:\n    return 1\n",
        },
    )
    run(root, [sys.executable, "main.py"], "python_traceback.txt")
    run(root, [sys.executable, "main.py", "chained"], "python_chained.txt")
    run(root, [sys.executable, "bad_syntax.py"], "python_syntax_error.txt")
    run(root, [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"], "pytest_long.txt")
    run(
        root,
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", "--tb=short", "tests"],
        "pytest_short.txt",
    )
    (root / "tests/test_broken_import.py").write_text(
        "from calc.ops import median\n\n\ndef test_x():\n    pass\n"
    )
    run(
        root,
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        "pytest_collect_error.txt",
    )
    run(root, [sys.executable, "-m", "unittest", "test_unit"], "unittest.txt")


TS_FILES = {
    "tsconfig.json": '{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2020"}, "include": ["src"]}\n',
    "src/total.ts": (
        "export function total(items: number[]): number {\n"
        "  let sum: number = 0;\n"
        "  for (const item of items) sum += item;\n"
        '  const label: number = "sum";\n'
        "  return sum;\n"
        "}\n"
    ),
    "src/main.ts": (
        'import { total } from "./total";\n\n'
        "console.log(total([1, 2]).toFixed(2));\n"
        "console.log(totl([3]));\n"
    ),
}


def capture_tsc(tsc: str | None) -> None:
    if not tsc:
        print("tsc: skipped (pass --tsc)")
        return
    root = write(BASE / "ts", TS_FILES)
    run(root, [tsc, "-p", ".", "--pretty", "false"], "tsc_plain.txt")
    run(root, [tsc, "-p", ".", "--pretty", "true"], "tsc_pretty.txt")


RUST_TOML = '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
RUST_BROKEN = """\
fn mean(values: &[i32]) -> i32 {
    let total: i32 = values.iter().sum();
    let label: i32 = "mean";
    total / values.len()
}

fn main() {
    println!("{}", mean(&[1, 2]));
}
"""
RUST_PANIC = """\
fn mean(values: &[i32]) -> i32 {
    let total: i32 = values.iter().sum();
    total / values.len() as i32
}

fn main() {
    let rows: Vec<Vec<i32>> = vec![vec![1, 2], vec![]];
    for row in &rows {
        println!("{}", mean(row));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_two() {
        assert_eq!(mean(&[2, 4]), 3);
    }

    #[test]
    fn mean_rounds_down() {
        assert_eq!(mean(&[1, 2]), 2, "mean of 1 and 2");
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(mean(&[]), 0);
    }
}
"""


def capture_rust() -> None:
    if not shutil.which("cargo"):
        print("cargo: skipped")
        return
    root = write(BASE / "rs", {"Cargo.toml": RUST_TOML, "src/main.rs": RUST_BROKEN})
    run(root, ["cargo", "build", "--quiet"], "cargo_build_error.txt")
    (root / "src/main.rs").write_text(RUST_PANIC)
    run(root, ["cargo", "run", "--quiet"], "rust_panic.txt", env={"RUST_BACKTRACE": "0"})
    run(root, ["cargo", "run", "--quiet"], "rust_panic_backtrace.txt", env={"RUST_BACKTRACE": "1"})
    run(root, ["cargo", "test", "--quiet"], "cargo_test.txt")


GO_CALC = """\
package calc

func Mean(values []int) int {
	total := 0
	for _, v := range values {
		total += v
	}
	return total / len(values)
}

func Clamp(v, lo, hi int) int {
	if v < lo {
		return hi
	}
	if v > hi {
		return hi
	}
	return v
}
"""
GO_TEST = """\
package calc

import "testing"

func TestMean(t *testing.T) {
	if got := Mean([]int{2, 4}); got != 3 {
		t.Errorf("Mean = %d, want 3", got)
	}
}

func TestClamp(t *testing.T) {
	if got := Clamp(-5, 0, 10); got != 0 {
		t.Errorf("Clamp(-5, 0, 10) = %d, want 0", got)
	}
}

func TestMeanEmpty(t *testing.T) {
	if got := Mean(nil); got != 0 {
		t.Fatalf("Mean(nil) = %d, want 0", got)
	}
}
"""


def capture_go() -> None:
    if not shutil.which("go"):
        print("go: skipped")
        return
    root = write(
        BASE / "go",
        {"go.mod": "module example.com/calc\n\ngo 1.19\n", "calc.go": GO_CALC, "calc_test.go": GO_TEST},
    )
    env = {"GOFLAGS": "-count=1", "GOCACHE": str(BASE / "gocache")}
    run(root, ["go", "test", "./..."], "go_test_panic.txt", env=env)
    (root / "calc_test.go").write_text(GO_TEST.replace("func TestMeanEmpty", "func testMeanEmptyOff"))
    run(root, ["go", "test", "-v", "./..."], "go_test_fail.txt", env=env)
    (root / "calc.go").write_text(GO_CALC.replace("total += v", "total += w"))
    run(root, ["go", "test", "./..."], "go_build_error.txt", env=env)


JEST_SUM = """\
function sum(items) {
  return items.reduce((total, item) => total + item.price * item.qty, 0);
}

function label(item) {
  return item.name.toUpperCase();
}

module.exports = { sum, label };
"""

JEST_TEST = """\
const { sum, label } = require("../src/sum");

describe("sum", () => {
  test("adds prices", () => {
    expect(sum([{ price: 2, qty: 3 }])).toBe(6);
  });

  test("a missing qty counts as one", () => {
    expect(sum([{ price: 2 }])).toBe(2);
  });
});

test("label of an unnamed item", () => {
  expect(label({})).toBe("");
});
"""


def capture_jest(jest: str | None) -> None:
    if not jest:
        print("jest: skipped (pass --jest)")
        return
    package = '{"name": "shop", "private": true, "scripts": {"test": "jest"}}\n'
    root = write(
        BASE / "jest", {"package.json": package, "src/sum.js": JEST_SUM, "test/sum.test.js": JEST_TEST}
    )
    run(root, [jest, "--ci", "--colors=false"], "jest.txt")


def capture_generic() -> None:
    root = write(BASE / "lint", {"app/util.py": "import os\n\n\ndef f(x: int) -> str:\n    return y + x\n"})
    ruff = Path(sys.executable).with_name("ruff")
    run(root, [str(ruff), "check", "--no-cache", "--output-format", "concise", "app"], "ruff.txt")
    mypy = Path(sys.executable).with_name("mypy")
    run(root, [str(mypy), "--no-incremental", "app/util.py"], "mypy.txt")
    if shutil.which("gcc"):
        write(root, {"main.c": "int main(void) {\n    int x = y;\n    return x\n}\n"})
        run(root, ["gcc", "-fdiagnostics-color=never", "-c", "main.c", "-o", "/dev/null"], "gcc.txt")


LOG_APP = """\
import logging

logging.basicConfig(
    filename="app.log", format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
)
log = logging.getLogger("shop.orders")


def total(order):
    return sum(item["price"] * item["qty"] for item in order["items"])


def handle(order):
    log.info("order %s received", order["id"])
    try:
        return total(order)
    except KeyError:
        log.exception("order %s could not be priced", order["id"])


handle({"id": 1, "items": [{"price": 2, "qty": 3}]})
handle({"id": 2, "items": [{"price": 2}]})
log.error("payment gateway timeout after 30s (order 2)")
log.warning("retrying order 2")
"""

NODE_APP = """\
function parse(line) {
  return JSON.parse(line).value.toFixed(2);
}

function main() {
  console.log(parse('{"value": 1}'));
  console.log(parse('{"other": 1}'));
}

main();
"""


def capture_logs() -> None:
    root = write(BASE / "logs", {"shop/app.py": LOG_APP, "web/server.js": NODE_APP})
    subprocess.run([sys.executable, "app.py"], cwd=root / "shop", check=True)
    shutil.copy(root / "shop/app.log", HERE / "python_app.log")
    print("python_app.log")
    if shutil.which("node"):
        run(root, ["node", "web/server.js"], "node_error.txt")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tsc")
    parser.add_argument("--jest")
    args = parser.parse_args()
    BASE.mkdir(exist_ok=True)
    capture_python()
    capture_tsc(args.tsc)
    capture_jest(args.jest)
    capture_rust()
    capture_go()
    capture_generic()
    capture_logs()


if __name__ == "__main__":
    main()
