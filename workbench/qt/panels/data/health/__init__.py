"""The Data tab's Health view: what is wrong with the dataset, and the means to fix it.

::

    findings.py  a HealthReport as rows (one per group of copies or odd image), summary
    table.py     the rows' table model, sorting and kind filter, the thumbnails' painter
    excluded.py  the list of images the experiment excludes, with "Include again"
    controls.py  the bars above and below the rows: Check/Cancel/progress, "out of date:
                 Check again", the actions
    moves.py     Move to suggested class and Undo move, kept between sessions
    jobs.py      the checks, run off the GUI thread
    view.py      HealthView: Check, Check labels (with progress and Cancel), the actions

The checks themselves are :mod:`workbench.core.data.health`.
"""
