"""``python -m faltung.cli ...`` runs the ``faltung`` command line."""
from .main import main

raise SystemExit(main())
