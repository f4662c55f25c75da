"""The hostile corpus: every case through the commands named, with no traceback, the documented
exit code, and (validate) every physical record accepted or rejected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from corpus import Case, cases

from engine.cli import main

CASES = cases()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


def _write(case: Case, folder: Path) -> dict[str, str]:
    paths = {}
    for role, content in case.files.items():
        suffix = {"config": ".toml", "store": ".db", "blocker": "", "mhsds": ""}.get(role, ".csv")
        if role == "observations" and callable(content) and "parquet" in case.name:
            suffix = ".parquet"
        p = folder / f"{role}{suffix}"
        if content is None:
            pass  # a path that does not exist
        elif callable(content):
            content(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_bytes(content.encode("utf-8"))
        paths[role] = str(p)
    return paths


def physical_records(content: str | bytes) -> int:
    """Non-blank data records, counted line by line (independently of wardwatch)."""
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.removeprefix("\ufeff")
    lines = text.split("\n") if "\n" in text else text.split("\r")
    lines = [ln.removesuffix("\r") for ln in lines]
    return sum(1 for ln in lines[1:] if ln.strip(","))


_FILE_LINE = re.compile(r"^\s+(.+): ([\d,]+) rows read, ([\d,]+) accepted, ([\d,]+) rejected$")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _write(case, tmp_path)
    for i, (template, expected) in enumerate(case.runs):
        argv = [a.format(**paths, out=str(tmp_path / f"out{i}"), tmp=str(tmp_path)) for a in template]
        code = main(argv)
        out, err = capsys.readouterr()
        assert "Traceback" not in err + out, (argv, err)
        assert code == expected, (argv, code, err[-2000:], out[-2000:])
        if code == 2:  # one line saying why (after any list of rejected rows), or argparse's usage
            last = err.strip().splitlines()[-1] if err.strip() else ""
            assert (last.startswith("wardwatch ") and ": error: " in last) or err.startswith("usage:"), err
        if argv[0] == "validate" and code in (0, 1) and case.accounting:
            counts = {m.group(1): m.groups()[1:] for ln in out.splitlines() if (m := _FILE_LINE.match(ln))}
            obs = paths["observations"]
            read, accepted, rejected = (int(v.replace(",", "")) for v in counts[obs])
            assert accepted + rejected == read
            content = case.files["observations"]
            assert isinstance(content, str | bytes)
            want = case.records if case.records is not None else physical_records(content)
            assert read == want, (read, want)
