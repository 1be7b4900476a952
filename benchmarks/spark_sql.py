"""The toolkit's `queries/` files as Spark SQL, for the benchmark's Spark comparison.

The translation moved into the package (`forensics.transpile`, tested in
tests/test_transpile.py), where the warehouse path uses it too; this name stays for the
benchmark's imports.
"""

from __future__ import annotations

from forensics.transpile import LAYOUTS, Macro, Translator

__all__ = ["LAYOUTS", "Macro", "Translator"]
