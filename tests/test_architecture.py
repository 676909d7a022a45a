"""The map stays true: the seams ARCHITECTURE.md describes are the ones the code has (no models loaded)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "limelight"
STAGES = ("parse", "cast", "plan", "render", "mix", "report")


def _python_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in sorted(folder.rglob("*.py"))]


def test_no_private_performer_member_is_used_outside_perform():
    private = re.compile(r"\b(performer|Performer\(\))\._[a-z]\w*")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in _python_files(SRC, ROOT / "tests", ROOT / "bench")
                 if p.name != "perform.py" for i, line in enumerate(p.read_text().splitlines(), 1)
                 if private.search(line)]
    assert not offenders, offenders


def test_stage_order_is_the_same_in_the_code_the_map_and_the_readme():
    perform_doc = ast.get_docstring(ast.parse((SRC / "perform.py").read_text())) or ""
    numbered = re.findall(r"^\d\. (\w+)", perform_doc, flags=re.M)
    assert tuple(numbered) == STAGES
    table = [row.split("|")[2].strip() for row in (ROOT / "ARCHITECTURE.md").read_text().splitlines()
             if re.match(r"\| \d \|", row)]
    assert tuple(t.split()[0] for t in table) == STAGES
    readme = (ROOT / "README.md").read_text()
    assert "ARCHITECTURE.md" in readme
    positions = [readme.index(f"({stage}") for stage in STAGES[:5]]  # "(parse: …", "(cast: …", …
    assert positions == sorted(positions)


def test_the_engine_contract_imports_no_engine():
    """base.py is what every engine imports, so it must import none of them (that was a cycle)."""
    tree = ast.parse((SRC / "engine" / "base.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert not imported & {"kokoro", "piper", "torch_engine", "load", "fastdec"}, imported


def test_no_test_asserts_seconds():
    clock = re.compile(r"\b(process_time|perf_counter)\b")
    offenders = [p.name for p in _python_files(ROOT / "tests") if p.name != Path(__file__).name
                 and clock.search(p.read_text())]
    assert not offenders, f"speed checks belong in bench/: {offenders}"
