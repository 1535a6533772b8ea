"""The ``faltung`` command line: train, evaluate, predict, summary, datasets, explore.

``main.py`` builds the argument parser and turns user errors into one-line messages; each
subcommand lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``
(``train``, ``evaluate``, ``predict``, ``summary``, ``datasets``; ``explore`` is
``faltung.explorer.command``). Shared parts: ``runs.py`` (the run directory and
``faltung.cli.runs.resolve``), ``data.py`` (datasets and preprocessing), ``modeling.py`` (building
models, reading their outputs), ``epochs.py`` (training callbacks), ``arguments.py`` (argument types).
"""
