"""Under torchrun every process runs the same command: rank 0 alone says what happens (a
Ctrl-C reaches every process; every process meets the same error, which each other
machine's first process says too, with its rank, unless the ranks agreed on it), except a
bug, which each process that meets one reports with its rank. (The 2-process runs in
test_distributed.py check the resume and divergence lines end to end.)"""

from __future__ import annotations

import signal

import pytest

from helpers import run_cli
from workbench.cli.common import main_process, torchrun_ranks
from workbench.cli.signals import _ctrl_c_stops


def _ranks(monkeypatch, rank: int, local_rank: int) -> None:
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("LOCAL_RANK", str(local_rank))


def test_the_ranks_are_read_from_torchruns_variables(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert torchrun_ranks() == (0, 0) and main_process()
    _ranks(monkeypatch, 3, 1)
    assert torchrun_ranks() == (3, 1) and not main_process()
    monkeypatch.setenv("RANK", "two")  # the run itself refuses it, in one line
    assert torchrun_ranks()[0] == 0


@pytest.mark.parametrize("rank, says", [(0, True), (1, False)])
def test_a_ctrl_c_is_announced_by_rank_0_only(monkeypatch, capsys, rank, says):
    _ranks(monkeypatch, rank, rank)
    with _ctrl_c_stops() as stop:
        signal.raise_signal(signal.SIGINT)
    assert stop.is_set()  # every rank stops, after the same batch
    err = capsys.readouterr().err
    assert ("stopping after this batch" in err) is says


@pytest.mark.parametrize("rank, local_rank, says", [
    (0, 0, True), (1, 1, False),
    (2, 0, True),  # the first process of another machine: its disk may lack the run
])
def test_an_error_is_said_once_a_machine(monkeypatch, capsys, tmp_path, rank, local_rank,
                                         says):
    _ranks(monkeypatch, rank, local_rank)
    code, out, err = run_cli(capsys, "resume", tmp_path / "nonexist")
    assert code == 2 and out == ""
    assert ("does not exist" in err) is says
    where = f" (rank {rank})" if rank else ""
    assert not says or err.startswith(f"workbench resume{where}: error: ")


def test_an_error_the_ranks_agreed_on_is_said_by_rank_0_alone(monkeypatch, capsys, tmp_path):
    import workbench.cli as cli
    from workbench.core.errors import WorkbenchError

    def agreed(args):
        e = WorkbenchError("the processes of this torchrun job read different datasets")
        e.said_by_rank_0 = True
        raise e

    monkeypatch.setitem(cli._COMMANDS, "resume", agreed)
    for rank, says in ((0, True), (2, False)):  # rank 2: another machine's first
        _ranks(monkeypatch, rank, 0)
        code, _, err = run_cli(capsys, "resume", tmp_path)
        assert code == 2 and ("different datasets" in err) is says


def test_a_bug_is_said_by_every_rank_with_its_rank(monkeypatch, capsys, tmp_path):
    import workbench.cli as cli

    def broken(args):
        raise KeyError("momentum")

    monkeypatch.setitem(cli._COMMANDS, "resume", broken)
    _ranks(monkeypatch, 1, 1)
    code, _, err = run_cli(capsys, "resume", tmp_path)
    assert code == 1 and "workbench resume (rank 1): error: unexpected KeyError" in err
