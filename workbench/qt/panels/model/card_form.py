"""How a layer card (:mod:`.cards`) lays out its parameter form: in a few columns that fit a
narrow window, a free-text field (a Backbone's ``weights_file`` path) on a row of its own,
long choice boxes allowed to shrink, and Tab in reading order.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLineEdit

from workbench.qt.forms import ParamForm
from workbench.qt.keyboard import chain_after, focus_stops

#: Columns of "label: editor" pairs in a card's form, and the characters a choice box
#: keeps room for (its longest item, "timm/vit_tiny_patch16_224  (5.5M parameters, ...)",
#: would make a card wider than the window; the open list still shows items whole).
FORM_COLUMNS = 3
CHOICE_CHARS = 18


def fit_form_to_card(form: ParamForm, columns: int = FORM_COLUMNS) -> None:
    """Lay ``form`` out so its card fits a narrow window: free-text fields (a Backbone's
    ``weights_file`` path) get a row of their own across the card, below the other pairs,
    which flow at most ``columns`` to a row (Tab goes in that order), and choice boxes may
    shrink below their longest item."""
    for box in form.findChildren(QComboBox):
        if max((len(box.itemText(i)) for i in range(box.count())), default=0) > CHOICE_CHARS:
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(CHOICE_CHARS)
    grid = form.layout()
    wide = {e for e in form.editors.values() if type(e) is QLineEdit}
    if not isinstance(grid, QGridLayout) or not wide:
        return
    placed = []  # (row, column, widget), in reading order: label, field, label, field...
    for i in range(grid.count()):
        r, c, _, _ = grid.getItemPosition(i)
        placed.append((r, c, grid.itemAt(i).widget()))
    placed.sort(key=lambda t: t[:2])
    if len(placed) % 2:
        return  # not the label/field grid expected: leave it as the form made it
    pairs = [(placed[k][2], placed[k + 1][2]) for k in range(0, len(placed) - 1, 2)]
    if any(w is None for pair in pairs for w in pair):
        return  # not the label/field grid expected: leave it as the form made it
    for _, _, w in placed:
        grid.removeWidget(w)
    narrow = [p for p in pairs if p[1] not in wide]
    # As many rows as ``columns`` would need, but spread over as few columns as fill them
    # (a Backbone's four choices: two by two, narrower than three and one).
    used = -(-len(narrow) // -(-len(narrow) // columns)) if narrow else 1
    for c in range(used, grid.columnCount() // 2):  # the form stretched every column
        grid.setColumnStretch(2 * c + 1, 0)
    columns = used
    for i, (label, field) in enumerate(narrow):
        r, c = divmod(i, columns)
        grid.addWidget(label, r, 2 * c, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(field, r, 2 * c + 1)
    row = -(-len(narrow) // columns)
    for label, field in (p for p in pairs if p[1] in wide):
        field.setMinimumWidth(240)
        grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(field, row, 1, 1, 2 * columns - 1)
        row += 1
    # Tab as the fields now read: the narrow ones row by row, then the wide ones below.
    order = [f for _, f in narrow] + [f for _, f in pairs if f in wide]
    stops = [s for f in order for s in
             ([f] if f.focusPolicy() & Qt.FocusPolicy.TabFocus else focus_stops(f))]
    chain_after(stops[0], stops[1:])
