"""tidegate: contracts, quarantine and a hash-chained audit trail for data pipelines.

Data moves one way: ``sources -> normalize -> validate -> route -> store``.
The flows in :mod:`tidegate.flows` only wire the stages together.
"""

__version__ = "0.1.0"
