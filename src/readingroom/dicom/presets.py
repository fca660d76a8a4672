"""Window presets per modality.

CT values match OHIF's defaults where the two overlap (brain 80/40, lung
1500/-600, liver 150/90, bone 2500/480, soft tissue/abdomen 400/40), so a
radiologist moving between viewers sees the same picture; subdural, stroke and
mediastinum use the widely taught values. Other modalities have no absolute
scale, so their sensible default is the image's own header window or an
automatic one (see :func:`readingroom.dicom.processing.auto_window`).
"""

from __future__ import annotations

from dataclasses import dataclass

from readingroom.errors import InputError


@dataclass(frozen=True)
class Preset:
    name: str
    center: float
    width: float
    label: str


CT_PRESETS = (
    Preset("brain", 40, 80, "Brain"),
    Preset("subdural", 75, 215, "Subdural"),
    Preset("stroke", 40, 40, "Stroke"),
    Preset("lung", -600, 1500, "Lung"),
    Preset("mediastinum", 50, 350, "Mediastinum"),
    Preset("abdomen", 40, 400, "Abdomen / soft tissue"),
    Preset("liver", 90, 150, "Liver"),
    Preset("bone", 480, 2500, "Bone"),
)

_BY_MODALITY = {"CT": CT_PRESETS}
_ALIASES = {"soft-tissue": "abdomen", "soft_tissue": "abdomen", "softtissue": "abdomen", "chest": "mediastinum"}


def presets_for(modality: str | None) -> tuple[Preset, ...]:
    """The named presets that make sense for ``modality`` (empty when none do)."""
    return _BY_MODALITY.get((modality or "").upper(), ())


def find_preset(name: str, modality: str | None = None) -> Preset:
    """Look a preset up by name (case-insensitive); any modality's when none is given."""
    wanted = _ALIASES.get(name.strip().lower(), name.strip().lower())
    candidates = presets_for(modality) if modality and presets_for(modality) else CT_PRESETS
    for preset in candidates:
        if preset.name == wanted:
            return preset
    known = ", ".join(p.name for p in candidates)
    raise InputError(f"unknown window preset {name!r}; choose one of: {known}")
