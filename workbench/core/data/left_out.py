"""Files of a dataset folder that a scan (:mod:`.scan`) uses for no run, and the notes
that say so, never leaving them out without a word.

Images lying outside every class folder (:func:`loose_images_note`), and files in class
folders whose names do not end with an image type the scan reads (:func:`left_out_note`):
a photo saved without its extension (``IMG_0001``), a browser's unfinished download
(``photo.jpg.download``), a RAW photo. Hidden files (``.DS_Store``: :func:`~.images.is_hidden`)
and files that are plainly no image (:data:`NOT_IMAGES`: ``notes.txt``, an iPhone's
``.MOV`` or ``.AAE``) are put there on purpose, and left out unsaid.
"""

from __future__ import annotations

import os

from workbench.core.data.images import is_hidden, is_image_file, unsupported_reason
from workbench.core.data.index import listing

#: Types of files kept beside photos that are no image, left out of a class unsaid:
#: text and data, documents, archives, sidecars (``.xmp``, an iPhone's ``.aae`` edits),
#: video and sound (a Live Photo's ``.mov``), shortcuts, saved arrays and models.
NOT_IMAGES = frozenset(
    ".txt .md .rst .json .jsonl .csv .tsv .xml .yaml .yml .html .htm .log .ini .cfg "
    ".pdf .doc .docx .odt .rtf .xls .xlsx .ods .ppt .pptx .py .ipynb .sh .bat "
    ".db .sqlite .zip .tar .gz .tgz .bz2 .xz .7z .rar .xmp .aae .thm .mov .mp4 .m4v .avi "
    ".mkv .webm .3gp .wmv .mpg .mpeg .mp3 .wav .m4a .aac .flac .ogg .lnk .url .desktop "
    ".npy .npz .pt .pth .pkl .h5 .onnx .safetensors".split())


def is_left_out(name: str) -> bool:
    """Whether a file named ``name`` in a class folder is one :func:`left_out_note` says:
    not hidden, no image by its name (nor a photo this Pillow cannot read, which a scan
    lists as unreadable), and not plainly another kind of file (:data:`NOT_IMAGES`)."""
    return not (is_hidden(name) or is_image_file(name) or unsupported_reason(name)
                is not None or os.path.splitext(name)[1].lower() in NOT_IMAGES)


def left_out_note(root: str, paths: list[str]) -> str | None:
    """A note on the files ``paths`` in class folders left out (:func:`is_left_out`),
    naming the first few relative to ``root``; None when there are none."""
    if not paths:
        return None
    n = len(paths)
    named = listing([os.path.relpath(p, root).replace(os.sep, "/") for p in paths], 3)
    if n == 1:
        return (f"1 file in a class folder is left out, as its name does not end with an "
                f"image type (.jpg, .png…): {named}; if it is an image, rename it to end "
                f"with its type (.jpg for a JPEG photo) to use it")
    return (f"{n} files in class folders are left out, as their names do not end with an "
            f"image type (.jpg, .png…): {named}; if they are images, rename them to end "
            f"with their type (.jpg for a JPEG photo) to use them")


def loose_images_note(root: str, folders: list[str]) -> str | None:
    """A note on the image files directly in ``folders`` (the dataset folder and its
    parts' folders), outside every class folder: no class, so no run uses them. None when
    there are none."""
    loose = loose_images([root, *folders])
    if not loose:
        return None
    n = len(loose)
    first = os.path.relpath(loose[0], root)
    if n == 1:
        return (f"1 image is not in a class folder, so it is not used: {first} (move it "
                f"into the sub-folder of its class)")
    return (f"{n} images are not in a class folder, so they are not used, e.g. {first} "
            f"(move each into the sub-folder of its class)")


def loose_images(folders: list[str]) -> list[str]:
    """The image files directly in each of ``folders`` (each folder once), sorted."""
    loose: list[str] = []
    for folder in dict.fromkeys(folders):
        try:
            with os.scandir(folder) as it:
                loose += sorted(e.path for e in it if not is_hidden(e.name)
                                and is_image_file(e.name) and e.is_file())
        except OSError:
            continue  # an unreadable part is said where it is listed
    return loose
