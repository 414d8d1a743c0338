"""The error parsers where they read the project on disk (a go.mod names the module whose package folders a
bare file name maps into); the rest are unit tests in tests/unit/fix/test_parsers.py."""

from __future__ import annotations

from pathlib import Path

from app.fix.parsers import parse_errors


def test_go_bare_file_name_maps_to_its_package_folder(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/shop\n\ngo 1.19\n")
    (tmp_path / "cart").mkdir()
    (tmp_path / "cart/cart_test.go").write_text("package cart\n")
    output = "--- FAIL: TestTotal (0.00s)\n    cart_test.go:9: total = 3, want 4\nFAIL\nFAIL\texample.com/shop/cart\t0.002s\n"
    (error,) = parse_errors(output, tmp_path)
    assert (error.file, error.line) == ("cart/cart_test.go", 9)
