"""``faltung``: train, evaluate and look inside CNNs from the command line.

  faltung train lenet5 --dataset mnist --epochs 1      train, write a run directory (runs/...)
  faltung evaluate runs/NAME                           test accuracy, classification report, confusion matrix
  faltung predict runs/NAME digit.png --top-k 3        classify image files
  faltung summary runs/NAME                            the model's layers and parameters
  faltung datasets                                     which datasets are available locally
  faltung explore runs/NAME                            the interactive explorer (faltung.explorer)

User errors (a bad argument, a missing file) end with one line on stderr and exit status 2;
Ctrl-C ends with status 130.
"""
import argparse
import importlib
import os
import sys

SUBCOMMANDS = {
    "train": ("train", "train a model and write a run directory"),
    "evaluate": ("evaluate", "test loss/accuracy, classification report and confusion matrix"),
    "predict": ("predict", "top-k classes of image files"),
    "summary": ("summary", "layers, output shapes and parameters of a model"),
    "datasets": ("datasets", "which datasets are available locally, and where"),
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: ``faltung train: error: ... (see faltung train --help)``."""

    def error(self, message):
        raise SystemExit(_fail(f"{self.prog}: error: {message} (see {self.prog} --help)"))


def _fail(line, status=2):
    print(" ".join(str(line).split()), file=sys.stderr)
    return status


def _plain(doc):
    """A module docstring as help text: without reStructuredText's double backquotes."""
    return doc.strip().replace("``", "")


def _explore_module():
    try:
        return importlib.import_module("faltung.explorer.command")
    except Exception:  # missing or broken: the other commands must still work
        return None


def build_parser():
    parser = Parser(prog="faltung", description=_plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="faltung COMMAND --help shows the options of a command.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"faltung {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(f".{module_name}", __package__)
        command = sub.add_parser(name, help=help_text, description=_plain(module.__doc__ or help_text),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    explore = _explore_module()
    if explore is not None:
        command = sub.add_parser("explore", help="open the interactive explorer in a browser",
                                 description=_plain(explore.__doc__ or ""),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        explore.add_arguments(command)
        command.set_defaults(handler=explore.run)
    else:
        command = sub.add_parser("explore", help="the interactive explorer (not installed here)",
                                 description="faltung.explorer.command is missing in this installation.")
        command.add_argument("rest", nargs=argparse.REMAINDER)
        command.set_defaults(handler=lambda args: _fail(
            "faltung explore: error: the explorer is not available (faltung.explorer.command is missing)"))
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line, without the source line (``faltung: warning: ...``)."""
    print(f"faltung: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    import warnings

    from .runs import UsageError
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    prog = f"faltung {args.command}"
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return _fail(f"{prog}: interrupted", 130)
    except BrokenPipeError:  # `faltung evaluate ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UsageError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError) as error:
        return _fail(f"{prog}: error: {error}")
    except OSError as error:
        return _fail(f"{prog}: error: {error}", 1)


if __name__ == "__main__":
    sys.exit(main())
