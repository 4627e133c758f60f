"""Server-side printers: the columns and cells of ``kubectl get`` for each kind (``pkg/printers``)."""

from kubeproof.server.printers.format import human_duration, translate_timestamp_since
from kubeproof.server.printers.kinds import PRINTERS, Column, Printer, printer_for

__all__ = ["PRINTERS", "Column", "Printer", "human_duration", "printer_for", "translate_timestamp_since"]
