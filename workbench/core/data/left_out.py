"""Files of a dataset folder that a scan (:mod:`.scan`) uses for no run, and the notes
that say so, never leaving them out without a word.

Images lying outside every class folder (:func:`loose_images_note`), and files in class
folders whose names do not end with an image type the scan reads (:func:`left_out_note`):
a photo saved without its extension (``IMG_0001``), a browser's unfinished download
(``photo.jpg.download``); a camera's RAW photo or an editor's file (:data:`EXPORT_TYPES`:
``.CR2``, ``.psd``) gets its own hint (export it as JPEG), and is not said at all beside
the image of its name (``IMG_1.CR2`` by ``IMG_1.JPG``, as a camera set to RAW+JPEG saves
them). Hidden files (``.DS_Store``: :func:`~.images.is_hidden`)
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

#: Photos in a type no reader here opens, which a camera's or an editor's software exports
#: as JPEG: cameras' RAW files, design and layered files, JPEG 2000 and JPEG XL. Renamed
#: to ``.jpg`` they would only be unreadable.
EXPORT_TYPES = frozenset(
    ".cr2 .cr3 .crw .nef .nrw .arw .srf .sr2 .dng .orf .rw2 .raf .pef .srw .raw .rwl .3fr "
    ".erf .kdc .mrw .x3f .iiq .psd .psb .xcf .kra .ai .eps .svg .svgz .jp2 .j2k .jpx "
    ".jxl".split())


def is_left_out(name: str) -> bool:
    """Whether a file named ``name`` in a class folder is one :func:`left_out_note` says:
    not hidden, no image by its name (nor a photo this Pillow cannot read, which a scan
    lists as unreadable), and not plainly another kind of file (:data:`NOT_IMAGES`)."""
    return not (is_hidden(name) or is_image_file(name) or unsupported_reason(name)
                is not None or os.path.splitext(name)[1].lower() in NOT_IMAGES)


def left_out_note(root: str, paths: list[str]) -> str | None:
    """A note on the files ``paths`` in class folders left out (:func:`is_left_out`),
    naming the first few relative to ``root``; those of :data:`EXPORT_TYPES` apart, but
    not one beside an image of the same name. None when there are none to say."""
    export = [p for p in paths if os.path.splitext(p)[1].lower() in EXPORT_TYPES]
    others = [p for p in paths if os.path.splitext(p)[1].lower() not in EXPORT_TYPES]
    notes = [note for note in (_renamed_note(root, others),
                               _export_note(root, _without_twin(export))) if note]
    return "; and ".join(notes) or None


def _named(root: str, paths: list[str]) -> str:
    return listing([os.path.relpath(p, root).replace(os.sep, "/") for p in paths], 3)


def _renamed_note(root: str, paths: list[str]) -> str | None:
    if not paths:
        return None
    n = len(paths)
    if n == 1:
        return (f"1 file in a class folder is left out, as its name does not end with an "
                f"image type (.jpg, .png…): {_named(root, paths)}; if it is an image, "
                f"rename it to end with its type (.jpg for a JPEG photo) to use it")
    return (f"{n} files in class folders are left out, as their names do not end with an "
            f"image type (.jpg, .png…): {_named(root, paths)}; if they are images, rename "
            f"them to end with their type (.jpg for a JPEG photo) to use them")


def _export_note(root: str, paths: list[str]) -> str | None:
    if not paths:
        return None
    types = ", ".join(dict.fromkeys(os.path.splitext(p)[1] for p in paths))
    if len(paths) == 1:
        return (f"1 photo in a class folder is left out, as its type ({types}) cannot be "
                f"read: {_named(root, paths)}; export it as JPEG (or PNG) with the "
                f"camera's or editor's software to use it (renamed, it would not read)")
    return (f"{len(paths)} photos in class folders are left out, as their type ({types}) "
            f"cannot be read: {_named(root, paths)}; export them as JPEG (or PNG) with the "
            f"camera's or editor's software to use them (renamed, they would not read)")


def _without_twin(paths: list[str]) -> list[str]:
    """``paths`` but those beside an image of the same name (``IMG_1.CR2`` by
    ``IMG_1.JPG``: the camera's own JPEG, used already)."""
    stems: dict[str, set[str]] = {}
    for folder in {os.path.dirname(p) for p in paths}:
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        stems[folder] = {os.path.splitext(n)[0].casefold() for n in names
                         if is_image_file(n)}
    return [p for p in paths if os.path.splitext(os.path.basename(p))[0].casefold()
            not in stems[os.path.dirname(p)]]


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
