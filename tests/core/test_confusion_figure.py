"""The confusion matrix as a figure for many classes (the HTML report's, and the app's Save
PNG above 25 classes): every class named on both axes however many there are, names cut
only where they must be and then keeping what tells them apart, small counts visible
beside a large class; the report lists the most confused pairs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np

from workbench.core.evaluate.confusion_figure import (LOG_FLOOR, NAME_MAX_PX, confusion_svg,
                                                      shades)
from workbench.core.evaluate.labels import elide_names, estimate_width

NAMES = ["Northern_rough-winged_swallow_juvenile",
         "Black-throated_blue_warbler_female_first_winter_plumage", "日本語", "🐦 bird", "2",
         "10"] + [f"species_{i:03d}_{('warbler', 'sparrow_adult_male', 'finch')[i % 3]}"
                  for i in range(6, 90)]


def _uneven(k: int) -> np.ndarray:
    m = np.eye(k, dtype=np.int64)
    m[0, 0] = 60
    for i in range(1, k):
        m[i, (i * 7) % k] += 1
    return m


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed: the report inlines it, Qt renders it
    return ["".join(t.itertext()) for t in root.iter("text")]


def test_cut_names_keep_the_part_that_tells_them_apart():
    def width(text: str) -> float:
        return float(len(text))

    names = [f"species_{i:03d}_sparrow_adult_male" for i in range(30)]
    short = elide_names(names, 14, width)
    assert len(set(short)) == 30 and all(len(s) <= 14 for s in short)
    assert short[12] == "species_012_s…"  # the start, up to past the number that differs
    # A long shared start is skipped, from the word that differs.
    shared = [f"experiment_2024_run_{c}_final" for c in ("cat", "dog", "owl")]
    assert elide_names(shared, 12, width) == ["exp…cat_fin…", "exp…dog_fin…",
                                              "exp…owl_fin…"]
    assert elide_names(["cat", "dog"], 14, width) == ["cat", "dog"]  # fits: whole
    # With room beside the part that differs, as much of the start as fits.
    assert elide_names(shared, 20, width) == ["experiment…cat_final", "experiment…dog_final",
                                              "experiment…owl_final"]


def test_counts_far_apart_are_coloured_on_a_log_scale_and_even_ones_linearly():
    m = _uneven(90)
    colour, log = shades(m, normalized=False)
    assert log and colour[0, 0] == 1.0 and colour[1, 0] == 0.0
    assert colour[1, 1] == LOG_FLOOR  # one image: a clear tint, not 1/60 of the colour
    even = np.array([[10, 2], [3, 9]])
    colour, log = shades(even, normalized=False)
    assert not log and np.allclose(colour, even / 10)
    colour, log = shades(m, normalized=True)
    assert not log and np.allclose(colour.sum(axis=1), 1.0)


def test_the_figure_names_every_class_on_both_axes_and_keys_the_cut_ones():
    svg = confusion_svg(_uneven(90), NAMES)
    texts = _texts(svg)
    for i, name in enumerate(NAMES):
        shown = [t for t in texts if t.startswith(f"{i}: ")][:2]  # then the key
        assert len(shown) == 2, (i, shown)  # a row and a column, numbered alike
        assert shown[0] == shown[1]
        assert estimate_width(shown[0]) <= NAME_MAX_PX + 1e-6
        if shown[0] != f"{i}: {name}":  # cut short: in full in the key
            assert f"{i}: {name}" in texts
    assert "1: Black-throated_blue_warbler_female_first_winter_plumage" in texts
    assert "true class" in texts and "predicted class" in texts
    root = ET.fromstring(svg)
    assert int(root.get("width")) > 90 * 14 and int(root.get("height")) > 90 * 14
    # Every non-empty cell names its classes and count when pointed at.
    tips = ["".join(t.itertext()) for t in root.iter("title")]
    assert "true 10 → predicted species_035_finch: 1 (50.0%)" in tips


def test_a_few_classes_are_named_alone_with_their_counts_in_the_cells():
    texts = _texts(confusion_svg([[5, 1, 0], [0, 6, 1], [2, 0, 4]], ["cat", "dog", "owl"]))
    assert texts.count("cat") == 2 and texts.count("owl") == 2  # no numbers needed
    assert {"5", "6", "4", "1", "2"} <= set(texts)


def test_the_report_lists_the_most_confused_pairs_and_names_every_class(tmp_path,
                                                                        monkeypatch):
    from workbench.core.evaluate import evaluation
    from workbench.core.experiment import Experiment
    from workbench.core.runs.report import build_report

    m = _uneven(90)
    m[3, 0] = 5
    pairs = [(r, c) for (r, c), n in np.ndenumerate(m) for _ in range(int(n))]
    probs = np.full((len(pairs), 90), 0.001, dtype=np.float32)
    probs[np.arange(len(pairs)), [c for _, c in pairs]] = 0.9
    result = evaluation.EvaluationResult(
        classes=NAMES, paths=[str(tmp_path / f"{i}.png") for i in range(len(pairs))],
        y_true=np.array([r for r, _ in pairs]), probs=probs, losses=np.ones(len(pairs)),
        split="val")
    monkeypatch.setattr(evaluation, "evaluate", lambda *a, **k: result)
    run = tmp_path / "run"
    run.mkdir()
    Experiment(name="many").save(run / "experiment.json")
    (run / "run.json").write_text(json.dumps({"status": "finished", "name": "many"}))
    (run / "bundle.pt").write_bytes(b"")  # read by the (replaced) evaluation only
    html = build_report(run)
    assert "<h3>Most confused</h3>" in html
    table = html.split("<h3>Most confused</h3>")[1].split("</table>")[0]
    assert table.index("🐦 bird") < table.index("Northern_rough-winged_swallow_juvenile")
    assert "<td class=\"num\">5</td>" in table and "71.4%" in table  # 5 of its 7 images
    svg = html[html.index("<svg width"):]
    assert "45: species_045_warbler" in svg and "3: 🐦 bird" in svg
