"""The pure part of hedgecore stays pure: no Telegram, exchanges, network, disk or clock."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "hedgecore"
# Its doors to the outside world: the command line (argument parsing only), the desk (which
# opens the market and awaits it) and the market/ subpackage (not globbed).
IMPURE = {"cli.py", "__main__.py", "desk.py"}
FORBIDDEN_MODULES = {
    "telegram",
    "ccxt",
    "aiohttp",
    "httpx",
    "requests",
    "socket",
    "sqlite3",
    "asyncio",
    "os",
    "pathlib",
    "time",
    "random",
    "matplotlib",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
}


def pure_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*.py") if p.name not in IMPURE)


def test_there_are_pure_modules_to_check() -> None:
    names = {p.name for p in pure_modules()}
    assert {"models.py", "inverse.py", "planning.py", "risk.py"} <= names


@pytest.mark.parametrize("module", pure_modules(), ids=lambda p: p.name)
def test_pure_module_has_no_io_and_no_clock(module: Path) -> None:
    tree = ast.parse(module.read_text(), filename=str(module))
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            roots = set()
        assert not roots & FORBIDDEN_MODULES, (
            f"{module.name}:{line} imports {roots & FORBIDDEN_MODULES}"
        )
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                assert (func.value.id, func.attr) not in FORBIDDEN_CALLS, (
                    f"{module.name}:{line} reads the clock"
                )
            if isinstance(func, ast.Name):
                assert func.id not in {"open", "print", "input"}, (
                    f"{module.name}:{line} calls {func.id}()"
                )


def test_the_checker_catches_a_clock_read(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from datetime import datetime\nnow = datetime.now()\n")
    with pytest.raises(AssertionError, match="reads the clock"):
        test_pure_module_has_no_io_and_no_clock(sneaky)


def test_only_the_market_package_imports_ccxt() -> None:
    root = PACKAGE.parent
    outside = [
        p
        for p in [*PACKAGE.rglob("*.py"), *(root / "bot").rglob("*.py")]
        if "market" not in p.relative_to(root).parts
    ]
    assert outside
    for module in outside:
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(name.split(".")[0] == "ccxt" for name in names), f"{module} imports ccxt"
