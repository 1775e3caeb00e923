"""Data health (issue 20): what is wrong with the images themselves.

:mod:`.fingerprint` decodes each image once, small, into what the checks compare, and
:mod:`.fpcache` keeps that between checks;
:mod:`.duplicates` finds exact and near copies and what they imply (labels that conflict,
copies on both sides of the train/validation split); :mod:`.cheap` the blank, oddly shaped
and tiny images; :mod:`.labels` the likely mislabelled images, by cross-validation and
confident learning; :mod:`.report` puts it together (:func:`~.report.check_dataset`) in
the JSON that ``workbench check --json`` prints; :mod:`.actions` moves an image to another
class folder (and back).
"""
