"""``python -m limelight`` runs the CLI."""

from .cli import main

raise SystemExit(main())
