"""The ``workbench`` command: gui | init | scan | check | train | resume | lr-find | predict |
evaluate | explain | export | report | tune.

User errors print one line on stderr and exit with code 2; nothing a user can cause shows a
traceback. Heavy imports (torch, Qt) happen inside the commands so ``--help`` is instant.

The package: :mod:`.parser` (the options), :mod:`.common` (exit codes, :class:`UserError`,
shared checks), :mod:`.signals` (Ctrl-C and SIGTERM), :mod:`.training` and
:mod:`.run_folder` (train, resume), :mod:`.commands` (gui, init, scan), :mod:`.health`
(check, report), :mod:`.bundles`
(predict, evaluate, export), :mod:`.explain` (explain), :mod:`.search` (lr-find, tune).
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from typing import Sequence

from workbench.cli import training
from workbench.cli.bundles import cmd_evaluate, cmd_export, cmd_predict
from workbench.cli.commands import cmd_gui, cmd_init, cmd_scan
from workbench.cli.explain import cmd_explain
from workbench.cli.health import cmd_check, cmd_report
from workbench.cli.common import (EXIT_BROKEN_PIPE, EXIT_DIVERGED, EXIT_INTERNAL_ERROR,
                                  EXIT_OUT_OF_MEMORY, EXIT_USER_ERROR, UserError,
                                  torchrun_ranks)
from workbench.cli.parser import COMMANDS, build_parser
from workbench.cli.search import cmd_lr_find, cmd_tune
from workbench.cli.signals import _Terminated
from workbench.cli.training import cmd_resume, cmd_train

__all__ = ["COMMANDS", "EXIT_DIVERGED", "EXIT_INTERNAL_ERROR", "EXIT_OUT_OF_MEMORY",
           "EXIT_USER_ERROR", "UserError", "build_parser", "main", "training"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code.

    Called as the process's entry point (``argv`` None), it ignores Ctrl-C once the command
    has returned: the interpreter's shutdown would otherwise print a KeyboardInterrupt
    traceback for a Ctrl-C that arrives on the way out.
    """
    entry = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    from workbench.core.filenames import print_names_as_bytes

    print_names_as_bytes(sys.stdout, sys.stderr)  # a file name that is not UTF-8
    # `workbench` alone, or `workbench --data DIR`, starts the GUI.
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "gui")
    elif argv[0] not in COMMANDS and not argv[0].startswith("-"):
        print(unknown_command(argv[0]), file=sys.stderr)
        return EXIT_USER_ERROR
    parser = build_parser()
    # A command's unknown argument is that command's error, with its help (argparse would
    # say it as the top parser's: "workbench: error", "see workbench --help").
    args, extra = parser.parse_known_args(argv)
    if extra:
        (parser.commands.get(args.command) or parser).unrecognized(extra)
    from workbench.core.errors import WorkbenchError

    # Under torchrun every process runs the command and meets the same errors: rank 0 says
    # them (and the first process of each other machine, whose files or devices may be
    # its own trouble, with its rank), but not those the ranks agreed on
    # (``said_by_rank_0``: a dataset that differs, or one a rank could not read, which rank
    # 0 names); a bug is said by every process that meets one, with its rank.
    rank, local_rank = torchrun_ranks()
    stdout = sys.stdout
    if entry:  # a failed write to stdout says it is stdout's (not a bug of ours)
        sys.stdout = _Stdout(stdout)
    try:
        code = _COMMANDS[args.command](args)
        if entry:  # what is left to write fails here, not unseen at the interpreter's exit
            sys.stdout.flush()
        return code
    except (WorkbenchError, UserError) as e:
        if rank == 0 or (local_rank == 0 and not getattr(e, "said_by_rank_0", False)):
            where = f" (rank {rank})" if rank else ""
            print(f"workbench {args.command}{where}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as e:
        if rank == 0:
            print(f"workbench {args.command}: interrupted", file=sys.stderr)
        return 143 if isinstance(e, _Terminated) else 130
    except BrokenPipeError:  # the reader of stdout went away (`... | head`): end quietly
        if entry:  # or the interpreter's flush of stdout on exit raises it again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except StdoutError as e:
        if entry:  # the interpreter's flush of stdout on exit would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        full = e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        print(f"workbench {args.command}: error: cannot write the output (standard output): "
              f"{e.strerror or e}; the output is incomplete"
              + (": free some space or write it elsewhere" if full else ""), file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as e:  # noqa: BLE001  (a bug of ours: one line, details on request)
        return _bug(args.command, rank, e)
    finally:
        sys.stdout = stdout
        if entry and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


class StdoutError(OSError):
    """Writing to stdout failed (``> /dev/full``, a disk that filled up): the user's
    trouble, said in one line with exit code 2."""


class _Stdout:
    """``sys.stdout`` for the length of a command, whose failed writes raise
    :class:`StdoutError` (a broken pipe stays a :class:`BrokenPipeError`: ended quietly);
    everything else is the stream's own."""

    def __init__(self, stream):
        self._stream = stream

    def _guarded(self, call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise StdoutError(e.errno, e.strerror) from e

    def write(self, text):
        return self._guarded(self._stream.write, text)

    def writelines(self, lines):
        return self._guarded(self._stream.writelines, lines)

    def flush(self):
        return self._guarded(self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _bug(command: str, rank: int, e: Exception) -> int:
    """Say that ``e`` is a bug of ours in one line (details with WORKBENCH_DEBUG=1)."""
    if os.environ.get("WORKBENCH_DEBUG"):
        raise e
    where = f" (rank {rank})" if rank else ""
    print(f"workbench {command}{where}: error: unexpected {type(e).__name__}: {e}. This is a "
          f"bug in Workbench (set WORKBENCH_DEBUG=1 to see where); files written so far are "
          f"kept", file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def unknown_command(name: str) -> str:
    """The one line for ``workbench NAME`` where NAME is no command (not the gui's usage)."""
    import difflib

    close = difflib.get_close_matches(name, COMMANDS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (f"workbench: error: unknown command '{name}'{hint}: choose one of "
            f"{', '.join(COMMANDS)} (see workbench --help)")


_COMMANDS = {"gui": cmd_gui, "init": cmd_init, "scan": cmd_scan, "check": cmd_check,
             "train": cmd_train,
             "resume": cmd_resume,
             "lr-find": cmd_lr_find, "predict": cmd_predict, "evaluate": cmd_evaluate,
             "explain": cmd_explain, "export": cmd_export, "report": cmd_report, "tune": cmd_tune}
