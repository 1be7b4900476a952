"""Exposure forensics: who read which exposed warehouse tables, from the warehouse's own logs.

The package follows the data flow of an investigation:
case -> ingest -> normalize -> scope/resolve -> reconstruct -> findings -> evidence.
"""

__version__ = "0.1.0"
