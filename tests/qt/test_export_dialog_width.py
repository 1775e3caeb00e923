"""Export dialog: a deep bundle path never widens the dialog (a 1366x768 laptop at 125% has
1093 logical pixels across); its path lines end in the file's name, the whole path in the
tooltip."""

from __future__ import annotations

from workbench.qt.export_dialog import ExportDialog
from workbench.qt.screen_fit import contents_scroll


def _least_width(dialog: ExportDialog) -> int:
    """The width the dialog's contents need (those of its scroll area where it scrolls)."""
    area = contents_scroll(dialog)
    return (area.widget() if area is not None else dialog).minimumSizeHint().width()


def test_a_300_character_bundle_path_keeps_the_dialog_narrow(qtbot):
    bundle = "/" + "/".join(f"folder_{i:03d}" for i in range(30)) + "/bundle.pt"
    assert len(bundle) > 300
    dialog = ExportDialog(bundle)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert _least_width(dialog) < 900
    for label in (dialog.bundle_label, dialog.sidecar_label, dialog.description_label):
        assert label.toolTip() == label.text() and bundle[:-len("bundle.pt")] in label.text()
        shown = label.shown_text()
        assert "…" in shown and len(shown) < len(label.text())
    assert dialog.bundle_label.shown_text().endswith("bundle.pt")  # the middle goes
    assert dialog.bundle_label.text() == bundle
