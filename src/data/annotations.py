"""Split files (UCF101, HMDB51), the I3D annotation JSON and ECO list files.

JSON schema (as the original's I3D tools write it):
    {"labels": [class names; position = integer label],
     "database": {video_key: {"subset": "training" | "validation",
                              "annotations": {"label": class_name, "segment": [1, n_frames + 1]}}}}
Video keys are file names without their extension (the original cut at the first '.').
"""
import json
import re
from collections import OrderedDict
from pathlib import Path

from src.data.atomic import atomic_write_text

SUBSETS = {1: "training", 2: "validation"}
_HMDB_SPLIT_FILE = re.compile(r"^(?P<label>.+)_test_split(?P<split>\d+)\.txt$")


class AnnotationError(Exception):
    """A split file, annotation or list that cannot be used; the message names the file."""


def video_key(file_name):
    """`v_X_g01_c01.avi` -> `v_X_g01_c01`; only the last suffix is cut, so dotted names survive."""
    return Path(file_name).stem


def read_text(path, what):
    """The file's text; a missing or non-UTF-8 file is an AnnotationError naming it."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: {what} not found")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise AnnotationError(f"{path}: line {line} is not UTF-8 text (byte {data[error.start]:#04x}); save the "
                              "file as UTF-8") from None


def _read_lines(path):
    return [line.strip() for line in read_text(path, "split file").splitlines() if line.strip()]


def reject_duplicates(entries, origins):
    """Each video once: a video listed twice (in one split file or in two) is an error naming both places."""
    seen = {}
    for (class_name, file_name, _), origin in zip(entries, origins):
        key = video_key(file_name)
        if key in seen:
            raise AnnotationError(f"{origin}: video {class_name}/{file_name} is listed twice (also {seen[key]}); "
                                  "each video may appear once per split")
        seen[key] = origin


def read_ucf101_class_index(path):
    """classInd.txt (`1 ApplyEyeMakeup`, CRLF) -> class names in label order."""
    names = []
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) != number:
            raise AnnotationError(f"{path}: line {number} should be '{number} <ClassName>', got {line!r}")
        names.append(parts[1])
    if not names:
        raise AnnotationError(f"{path}: no classes listed")
    return names


def read_ucf101_list(path, labels):
    """trainlist/testlist lines (`Class/v_Class_g08_c01.avi [1]`) -> [(class, video_file)]."""
    entries = []
    for number, line in enumerate(_read_lines(path), start=1):
        relative = line.split()[0]
        class_name, _, file_name = relative.partition("/")
        if not file_name:
            raise AnnotationError(f"{path}: line {number} has no '<Class>/<video>' path: {line!r}")
        if class_name not in labels:
            raise AnnotationError(f"{path}: line {number}: class {class_name!r} is not in classInd.txt")
        entries.append((class_name, file_name))
    return entries


def ucf101_split(split_dir, split):
    """(labels, [(class, video_file, subset)]) for UCF101 split 1, 2 or 3."""
    split_dir = Path(split_dir)
    labels = read_ucf101_class_index(split_dir / "classInd.txt")
    entries, origins = [], []
    for name, subset in ((f"trainlist0{split}.txt", "training"), (f"testlist0{split}.txt", "validation")):
        listed = read_ucf101_list(split_dir / name, labels)
        entries += [(c, f, subset) for c, f in listed]
        origins += [f"{split_dir / name}: line {number}" for number in range(1, len(listed) + 1)]
    reject_duplicates(entries, origins)
    return labels, entries


def hmdb51_split_files(split_dir):
    """{split: {label: path}} for every `<label>_test_split<k>.txt` in split_dir."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise AnnotationError(f"{split_dir}: split folder not found")
    files = {}
    for path in sorted(split_dir.iterdir()):
        match = _HMDB_SPLIT_FILE.match(path.name)
        if match:
            files.setdefault(int(match.group("split")), {})[match.group("label")] = path
    if not files:
        raise AnnotationError(f"{split_dir}: no '<class>_test_split<k>.txt' files")
    return files


def hmdb51_labels(split_dir):
    """Class names sorted alphabetically, as the original derived them from the split file names."""
    return sorted({label for per_split in hmdb51_split_files(split_dir).values() for label in per_split})


def hmdb51_split(split_dir, split):
    """(labels, [(class, video_file, subset)]); set id 1 = training, 2 = validation, 0 = unused."""
    files = hmdb51_split_files(split_dir)
    labels = hmdb51_labels(split_dir)
    per_label = files.get(split, {})
    missing = [label for label in labels if label not in per_label]
    if missing:
        names = ", ".join(f"{label}_test_split{split}.txt" for label in missing[:5])
        raise AnnotationError(f"{split_dir}: split file(s) missing: {names}")
    entries, origins = [], []
    for label in labels:
        path = per_label[label]
        for number, line in enumerate(_read_lines(path), start=1):
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise AnnotationError(f"{path}: line {number} should be '<video>.avi <0|1|2>', got {line!r}")
            set_id = int(parts[1])
            if set_id:
                entries.append((label, parts[0], SUBSETS[set_id]))
                origins.append(f"{path}: line {number}")
    reject_duplicates(entries, origins)
    return labels, entries


def build_annotation(labels, entries, n_frames):
    """The annotation dict; `n_frames` maps (class, key) to the frame count of that video."""
    database = OrderedDict()
    for class_name, file_name, subset in entries:
        key = video_key(file_name)
        if key in database:
            raise AnnotationError(f"video key {key!r} is listed twice ({class_name}/{file_name})")
        count = n_frames[(class_name, key)]
        database[key] = {"subset": subset, "annotations": {"label": class_name, "segment": [1, count + 1]}}
    return {"labels": list(labels), "database": database}


def write_annotation(path, annotation):
    atomic_write_text(path, json.dumps(annotation, indent=1) + "\n")


def load_annotation(path):
    """Read and check an annotation JSON; errors name the file and the offending entry."""
    path = Path(path)
    try:
        annotation = json.loads(read_text(path, "annotation file"))
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(annotation, dict) or not isinstance(annotation.get("labels"), list) \
            or not isinstance(annotation.get("database"), dict):
        raise AnnotationError(f"{path}: expected an object with 'labels' (list) and 'database' (object)")
    labels = set(annotation["labels"])
    for key, entry in annotation["database"].items():
        try:
            subset, label = entry["subset"], entry["annotations"]["label"]
        except (KeyError, TypeError):
            raise AnnotationError(f"{path}: entry {key!r} lacks 'subset' or 'annotations.label'") from None
        if subset not in SUBSETS.values():
            raise AnnotationError(f"{path}: entry {key!r} has subset {subset!r}, expected training/validation")
        if label not in labels:
            raise AnnotationError(f"{path}: entry {key!r} has label {label!r} that is not in 'labels'")
    return annotation


def format_list_line(frame_dir, n_frames, label):
    """One ECO list line: `<frame_dir> <n_frames> <label>`."""
    return f"{frame_dir} {n_frames} {label}"


def parse_list_line(line, source="list"):
    """Inverse of format_list_line; the path may contain spaces (the original split on every space)."""
    parts = line.strip().rsplit(maxsplit=2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].lstrip("-").isdigit():
        raise AnnotationError(f"{source}: expected '<frame_dir> <n_frames> <label>', got {line.strip()!r}")
    return parts[0], int(parts[1]), int(parts[2])


def read_list_file(path):
    path = Path(path)
    return [parse_list_line(line, f"{path}:{number}")
            for number, line in enumerate(read_text(path, "list file").splitlines(), start=1) if line.strip()]
