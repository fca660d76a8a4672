"""Studies straight from a PACS: DICOMweb and DIMSE clients and the Storage SCP behind `receive`.

Every instance is de-identified in memory the moment it arrives (through
:func:`readingroom.deid.deidentify_dataset`); only the de-identified copy is ever
written, logged by its pseudonymous names, or shown. Network libraries are imported
by the functions that use them, so importing this package stays light.
"""

from readingroom.inflow.intake import Intake
from readingroom.inflow.locations import DicomWebStudy, DimseStudy, parse_location

__all__ = ["DicomWebStudy", "DimseStudy", "Intake", "parse_location"]
