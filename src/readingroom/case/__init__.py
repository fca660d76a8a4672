"""Teaching cases: the notebook format, its metadata schema, authoring and checks.

A case is ``cases/<slug>/``: ``case.ipynb`` (metadata under the ``readingroom``
key, cells tagged with their roles), ``images/`` (de-identified DICOM only) and
``deid.json`` (the de-identification report, free of identifiers).
"""

from readingroom.case.authoring import Filled, NewCase, build_case, new_case, slugify
from readingroom.case.check import CaseCheck, check_case
from readingroom.case.metadata import METADATA_KEY, case_schema, metadata_problems, round_age
from readingroom.case.roles import REVEAL, ROLES, stages

__all__ = [
    "CaseCheck", "Filled", "METADATA_KEY", "NewCase", "REVEAL", "ROLES", "build_case", "case_schema", "check_case",
    "metadata_problems", "new_case", "round_age", "slugify", "stages",
]
