"""HMDB51 split files + rgb frames -> hmdb51_1.json, hmdb51_2.json, hmdb51_3.json.

    python -m hmdb51_json annotation_dir_path jpg_video_dir_path dst_json_path      (from src/tools)

annotation_dir_path holds `<class>_test_split<k>.txt` (lines `<video>.avi <0|1|2>`: 1 training,
2 validation, 0 unused). Labels are the class names sorted alphabetically. The same JSON serves the
flow frames.
"""
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.data.annotations import hmdb51_split  # noqa: E402
from src.tools import annotation_json  # noqa: E402


def main(argv=None):
    args = annotation_json.parse_args(__doc__, "folder of <class>_test_split<k>.txt files", argv)
    return annotation_json.run("hmdb51_json", hmdb51_split, "hmdb51_{}.json", args)


if __name__ == "__main__":
    sys.exit(main())
