"""``python -m smbcrm`` and the installer's entry script: the ``smbcrm`` command."""

from smbcrm.cli import main

raise SystemExit(main())
