"""docs/reliability.md quotes the messages a user gets for each bad input: this keeps the
quotes true. Every quoted message, less its placeholders (FILE, N, ...) and example values
('abc', 30000x30000, train.iters), must be text the code holds: each piece of it a string
literal (or the literal parts of an f-string) of ganforge, or of the libraries whose words
reach the user unchanged (argparse's usage errors, PyYAML's reasons). A message reworded
in the code, or a row written by hand that the code never prints, fails here.

The check is by pieces, so it cannot see every word swap (a phrase that also occurs
elsewhere passes); the planted cases below are the kinds it does catch."""
from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"

HOLE = re.compile(r"%\(\w+\)[sdr]|%[sdr]")  # printf-style holes (argparse's messages)
#: placeholders and example values inside a quoted message: not text the code holds
VALUE = re.compile(r"\.\.\.|\b(?:FILE0?|DIR|RUN|URL|REASON|COMMAND|N|F)\b|'[^']*'|\([^()]*\)"
                   r"|\S*[\d/=]\S*|\b\w+\.\w+(?:\.\w+)*\b|--\w[\w-]*")


def literals(files: list[Path]) -> list[str]:
    """Every string literal of ``files``; an f-string gives its literal parts, a printf
    template the parts between its holes."""
    out: list[str] = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out += HOLE.split(node.value)
            elif isinstance(node, ast.JoinedStr):
                out += [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return out


def fragments(message: str) -> list[str]:
    """The runs of two or more words of a quoted message between its placeholders and values."""
    parts = (f.strip(" ;:,") for f in VALUE.split(message))
    return [p for p in parts if len(p.split()) >= 2]


def held(fragment: str, lits: list[str]) -> bool:
    """``fragment`` read left to right as pieces that literals hold (a message is often put
    together from several): each piece three words or more, or one long word, or the
    whole fragment, or two words at its end; at most one short word (an example kind or section name) not held."""
    words = fragment.split(" ")
    i, n_held, skipped = 0, 0, False
    while i < len(words):
        for j in range(len(words), i, -1):
            piece = " ".join(words[i:j])
            big = (j - i >= 3 or (j - i == 1 and len(piece) >= 7) or j - i == len(words)
                   or (j == len(words) and j - i == 2 and len(piece) >= 7))
            if big and any(piece in s for s in lits):
                i, n_held = j, n_held + (j - i)
                break
        else:
            if skipped or len(words[i]) > 8:
                return False
            skipped, i = True, i + 1
    return n_held >= min(2, len(words) - 1)


def quoted_messages() -> list[str]:
    """The backquoted texts of the table's message column."""
    out = []
    for line in DOC.read_text().splitlines():
        if not line.startswith("| ") or line.startswith("| input"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            out += re.findall(r"`([^`]+)`", cells[1])
    return out


@pytest.fixture(scope="module")
def code_literals() -> list[str]:
    files = sorted((ROOT / "src" / "ganforge").rglob("*.py"))
    files += [Path(argparse.__file__)] + sorted(Path(yaml.__file__).parent.glob("*.py"))
    return literals(files)


def test_every_message_quoted_in_reliability_md_is_in_the_code(code_literals):
    msgs = quoted_messages()
    assert len(msgs) >= 60  # the table is read (a changed layout would check nothing)
    missing = [(f, m) for m in msgs for f in fragments(m) if not held(f, code_literals)]
    assert not missing, "docs/reliability.md quotes text the code does not print:\n" + "\n".join(
        f"  {f!r}  (in: {m})" for f, m in missing)


@pytest.mark.parametrize("planted", [
    "FILE: disk full while writing; the previous checkpoint is kept",  # reworded
    "--threads: default: torch's choice of threads",  # a message the code no longer has
    "FILE: not a table of numbers, bad row",
])
def test_a_message_the_code_does_not_print_is_caught(code_literals, planted):
    assert not all(held(f, code_literals) for f in fragments(planted))


def test_real_messages_pass_with_their_values(code_literals):
    for m in ("FILE: disk full while writing; the previous file is kept",
              "train.iters must be an integer, got 'abc'"):
        assert all(held(f, code_literals) for f in fragments(m)) and fragments(m)
