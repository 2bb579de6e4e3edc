"""Test and maintenance tools that ship with custsync but are not part of the product.

``python -m custsync_cli.devtools.soak`` runs the kill -9 soak, ``python -m
custsync_cli.devtools.docs_gen`` regenerates docs/reference.md, and ``invariants`` is the
store-consistency checker the reliability tests and the soak share.
"""
