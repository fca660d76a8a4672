"""The viewer's synced state, declared once: the traits every host, schema and message derive from.

``ViewState`` holds the traits the browser and the kernel keep in sync (``sync=True``);
those a conference shares with its followers are also tagged ``view=True``. From these
declarations come the JSON Schema (:func:`view_schema`), the conference's view fields
(``server.conference.messages``) and the browser's ``view_state.js`` (defaults and a
JSDoc typedef, generated at run time by :func:`view_state_module`). Adding a field here
adds it everywhere; only the code that acts on it is left to write.

This module imports traitlets only, so the server can read the contract without
importing Jupyter's widget machinery.
"""

from __future__ import annotations

import json

import traitlets as t

PLANES = ("axial", "coronal", "sagittal")
MAX_ANNOTATIONS = 200
MAX_GROUPS = 50
MAX_GROUP_NAME = 64


class ViewState(t.HasTraits):
    """What a viewer shows: series, frame, window, zoom, pan, plane, annotations."""

    series = t.Int(0, help="Index of the displayed series in the viewer's series list.").tag(
        sync=True, view=True, schema={"minimum": 0})
    frame = t.Int(0, help="Displayed frame, 0-based, in the series' display order.").tag(
        sync=True, view=True, schema={"minimum": 0})
    # Any, not List: Python also takes a preset name ("lung"); the wire form is always the pair.
    window = t.Any([40.0, 400.0], allow_none=False,
                   help='[center, width] in modality units; set with a preset name ("lung") or a pair.').tag(
        sync=True, view=True, schema={"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2})
    zoom = t.Float(1.0, help="1 fits the image to the view.").tag(sync=True, view=True, schema={"exclusiveMinimum": 0})
    pan = t.List(t.Float(), default_value=[0.0, 0.0], minlen=2, maxlen=2, help="Image offset in image pixels.").tag(
        sync=True, view=True)
    plane = t.Enum(PLANES, "axial", help="The acquired plane (axial) or a coronal/sagittal reformat.").tag(
        sync=True, view=True)
    plane_index = t.Int(None, allow_none=True, help="Slice shown in a reformatted plane (None on the acquired one).").tag(
        sync=True, view=True, schema={"minimum": 0})
    invert = t.Bool(False, help="Grey levels inverted (on top of MONOCHROME1's own inversion).").tag(sync=True, view=True)
    show_overlay = t.Bool(True, help="Corner text, orientation markers and scale bar shown.").tag(sync=True)
    annotations = t.List(t.Dict(), help="Arrows, ellipses, text and measurements pinned to frame and image pixels.").tag(
        sync=True, view=True, schema={"maxItems": MAX_ANNOTATIONS, "items": {"type": "object", "required": ["kind"]}})
    show_annotations = t.Bool(True, help="Annotations drawn.").tag(sync=True)
    hidden_groups = t.List(t.Unicode(), help="Annotation groups currently hidden (reveal later with show_group).").tag(
        sync=True, view=True, schema={"maxItems": MAX_GROUPS, "items": {"type": "string", "minLength": 1, "maxLength": MAX_GROUP_NAME}})


def _schema_of(trait: t.TraitType) -> dict:
    """JSON Schema of one trait from its type, with the ``schema`` tag's refinements on top."""
    if isinstance(trait, t.Bool):
        schema: dict = {"type": "boolean"}
    elif isinstance(trait, t.Int):
        schema = {"type": "integer"}
    elif isinstance(trait, t.Float):
        schema = {"type": "number"}
    elif isinstance(trait, t.Enum):
        schema = {"enum": list(trait.values)}
    elif isinstance(trait, t.Unicode):
        schema = {"type": "string"}
    elif isinstance(trait, t.List):
        schema = {"type": "array"}
        if trait._trait is not None:
            schema["items"] = _schema_of(trait._trait)
        if trait._minlen:
            schema["minItems"] = trait._minlen
        if trait._maxlen < 2**63:
            schema["maxItems"] = trait._maxlen
    elif isinstance(trait, t.Dict):
        schema = {"type": "object"}
    else:
        schema = {}
    extra = trait.metadata.get("schema", {})
    schema = {**schema, **extra, **({"items": {**schema.get("items", {}), **extra["items"]}} if "items" in extra else {})}
    if trait.allow_none and "type" in schema and type(trait) is not t.Any:  # Any always allows None; its tag says
        schema["type"] = [schema["type"], "null"]
    if trait.help:
        schema["description"] = trait.help
    return schema


def view_schema() -> dict:
    """JSON Schema of the viewer's synced state; ``x-view`` lists what a conference shares."""
    traits = ViewState.class_traits(sync=True)
    properties = {}
    for name, trait in traits.items():
        schema = _schema_of(trait)
        schema["default"] = trait.default()
        properties[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "readingroom viewer state",
        "type": "object",
        "properties": properties,
        "x-view": [name for name, trait in traits.items() if trait.metadata.get("view")],
    }


_JS_TYPES = {"boolean": "boolean", "integer": "number", "number": "number", "string": "string", "object": "Object", "null": "null"}


def _js_type(schema: dict) -> str:
    if "enum" in schema:
        return "|".join(json.dumps(v) for v in schema["enum"])
    kinds = schema.get("type", "any")
    if isinstance(kinds, list):
        return "|".join(_js_type({**schema, "type": k}) for k in kinds)
    if kinds == "array":
        return f"Array<{_js_type(schema.get('items', {}))}>"
    return _JS_TYPES.get(kinds, "any")


def view_state_module() -> str:
    """``view_state.js``: the schema, its defaults and a JSDoc typedef, for every browser host."""
    schema = view_schema()
    props = schema["properties"]
    typedef = "\n".join(f" * @property {{{_js_type(s)}}} {name} {s.get('description', '')}".rstrip()
                        for name, s in props.items())
    defaults = {name: s["default"] for name, s in props.items()}
    return (
        "// Generated from readingroom.widgets.view_state (the Python traits) each time it is served:\n"
        "// declare a field there, not here.\n\n"
        f"/**\n * The viewer's synced state.\n * @typedef {{Object}} ViewState\n{typedef}\n */\n\n"
        f"export const VIEW_SCHEMA = {json.dumps(schema)};\n\n"
        "/** @type {ViewState} Every declared field at its default. */\n"
        f"export const VIEW_DEFAULTS = {json.dumps(defaults)};\n\n"
        "/** The fields a conference shares with its followers. */\n"
        f"export const VIEW_FIELDS = {json.dumps(schema['x-view'])};\n"
    )


__all__ = ["PLANES", "ViewState", "view_schema", "view_state_module"]
