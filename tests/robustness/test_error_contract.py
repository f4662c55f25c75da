"""One error contract for every command: refused -> exit 2 and one line; internal error -> exit 3,
one line with a hint to rerun with --debug (which prints the traceback)."""

from __future__ import annotations

import argparse
import errno

import pytest

from engine.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_REFUSED, main, validate_cmd


def _raising(exc: BaseException):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        raise exc

    return run


def _run(monkeypatch: pytest.MonkeyPatch, exc: BaseException, *extra: str) -> tuple[int, str]:
    monkeypatch.setattr(validate_cmd, "run", _raising(exc))
    code = main(["validate", "o.csv", "--wards", "w.csv", *extra])
    return code, ""


def test_internal_error_is_one_line_exit_3_with_debug_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _run(monkeypatch, KeyError("chart_mean"))
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL == 3
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error" in err and "--debug" in err


def test_debug_anywhere_prints_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _run(monkeypatch, ZeroDivisionError("boom"), "--debug")
    err = capsys.readouterr().err
    assert code == 3
    assert "Traceback" in err and "ZeroDivisionError" in err


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (IsADirectoryError(errno.EISDIR, "Is a directory", "out/run.json"), "out/run.json: Is a directory"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "f/x.csv"), "not a folder"),
        (PermissionError(errno.EACCES, "Permission denied", "/root/x"), "check the permissions"),
        (OSError(errno.ENOSPC, "No space left on device", "big.parquet"), "the disk is full"),
    ],
)
def test_os_errors_the_user_can_fix_are_refusals(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: OSError, words: str
) -> None:
    code, _ = _run(monkeypatch, exc)
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED
    assert words in err and err.count("\n") == 1


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run(monkeypatch, KeyboardInterrupt())
    assert code == EXIT_INTERRUPTED == 130
    assert "interrupted" in capsys.readouterr().err


def test_real_refusal_names_the_file_and_what_to_do(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    obs = tmp_path / "o.csv"
    obs.write_bytes("ward_id,period\n".encode("utf-16"))
    (tmp_path / "w.csv").write_text("ward_id,ward_name,provider,ward_type\nW1,A,P,picu\n")
    assert main(["validate", str(obs), "--wards", str(tmp_path / "w.csv")]) == 2
    err = capsys.readouterr().err
    assert str(obs) in err and "save it as 'CSV UTF-8'" in err and err.count("\n") == 1
