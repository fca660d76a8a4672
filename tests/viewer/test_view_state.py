"""The viewer's state is declared once (ViewState's traits); schema, conference fields and browser module follow."""

from __future__ import annotations

import json
import re

import pytest

from readingroom.server.conference.messages import VIEW_FIELDS, Rejected, parse
from readingroom.widgets.assets import module_sources, served_sources
from readingroom.widgets.view_state import ViewState, view_schema, view_state_module
from readingroom.widgets.viewer import Viewer

SHARED = {"series": 1, "frame": 3, "window": [40.0, 80.0], "zoom": 2.0, "pan": [1.0, -2.0], "invert": True,
          "plane": "coronal", "plane_index": 100, "annotations": [{"kind": "arrow", "points": [[1, 2], [3, 4]]}],
          "hidden_groups": ["finding"]}


def test_the_widget_syncs_exactly_the_declared_fields():
    synced = {name for name in Viewer.class_traits(sync=True) if not name.startswith("_")} - {"layout", "tabbable", "tooltip"}
    assert synced == set(view_schema()["properties"])


def test_the_schema_has_every_declared_field_with_its_type_and_default():
    props = view_schema()["properties"]
    assert set(props) == set(ViewState.class_traits(sync=True))
    assert props["plane"] == {**props["plane"], "enum": ["axial", "coronal", "sagittal"], "default": "axial"}
    assert props["plane_index"]["type"] == ["integer", "null"] and props["plane_index"]["default"] is None
    assert props["window"]["minItems"] == props["window"]["maxItems"] == 2
    assert props["invert"] == {**props["invert"], "type": "boolean", "default": False}


def test_the_conference_shares_every_field_declared_as_shared():
    schema = view_schema()
    assert set(VIEW_FIELDS) == set(schema["x-view"]) | {"case", "stage"}
    assert not {"show_overlay", "show_annotations"} & set(VIEW_FIELDS)  # each follower's own choice
    view = {"case": "c", "stage": 0, **SHARED}
    assert parse(json.dumps({"type": "view", "view": view}), "presenter")["view"] == view


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("invert", "yes", "invert: expected true or false"),
    ("plane", "oblique", "plane: expected one of axial, coronal, sagittal"),
    ("plane_index", -1, "plane_index: expected a whole number"),
    ("window", [40], "window: expected two numbers"),
    ("zoom", 0, "zoom: expected a number > 0"),
    ("hidden_groups", ["g"] * 51, "hidden_groups: expected a list of at most 50"),
    ("show_overlay", False, "unexpected view fields"),
])
def test_a_view_breaking_the_declaration_is_rejected_naming_the_field(field, value, reason):
    view = {"case": "c", "series": 0, "frame": 0, field: value}
    with pytest.raises(Rejected, match=re.escape(reason)):
        parse(json.dumps({"type": "view", "view": view}), "presenter")


def test_the_browser_module_is_generated_from_the_declaration():
    text = view_state_module()
    defaults = json.loads(re.search(r"export const VIEW_DEFAULTS = (.*);", text).group(1))
    assert defaults == {name: s["default"] for name, s in view_schema()["properties"].items()}
    shared = json.loads(re.search(r"export const VIEW_FIELDS = (.*);", text).group(1))
    assert shared == view_schema()["x-view"]
    assert " * @property {boolean} invert " in text and ' * @property {"axial"|"coronal"|"sagittal"} plane ' in text
    assert served_sources()["view_state.js"] == text and module_sources()["view_state.js"] == text


def test_every_module_a_served_module_imports_is_served_and_sent_over_the_comm():
    """The viewer is split into parts: the module route and the kernel's comm fallback must carry all of them."""
    served, widget_side = served_sources(), module_sources()
    imports = {name: set(re.findall(r'from\s+"\./([\w.-]+\.js)"', text)) for name, text in served.items()}
    assert {"viewer_window.js", "viewer_panzoom.js", "viewer_measure.js", "viewer_reformat.js", "viewer_cine.js",
            "viewer_annotations.js", "viewer_overlay.js", "stack_loader.js", "dom.js"} <= imports["viewer.js"]
    for name, needed in imports.items():
        assert needed <= set(served), name
        if name in widget_side:
            assert needed <= set(widget_side), name


def test_the_wheel_packages_the_whole_widgets_folder():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["widgets"] == "readingroom/widgets/static"
