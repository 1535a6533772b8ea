"""The ``faltung`` command line: train, evaluate, predict, summary, datasets, explore.

``main.py`` builds the argument parser and turns user errors into one-line messages; each
subcommand lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``.
``runs.py`` knows the layout of a run directory (``faltung.cli.runs.resolve``), ``data.py`` how
images are loaded and preprocessed for a model.
"""
