"""``python -m dualnet.cli``: the same as the ``dualnet`` command."""

from . import console_main

console_main()
