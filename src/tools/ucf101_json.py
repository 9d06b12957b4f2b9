"""UCF101 split files + rgb frames -> ucf101_01.json, ucf101_02.json, ucf101_03.json.

    python -m ucf101_json annotation_dir_path jpg_video_dir_path dst_json_path      (from src/tools)

annotation_dir_path holds classInd.txt, trainlist0k.txt and testlist0k.txt as distributed (CRLF
line endings are fine). Labels follow classInd.txt. The same JSON serves the flow frames.
"""
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.data.annotations import ucf101_split  # noqa: E402
from src.tools import annotation_json  # noqa: E402


def main(argv=None):
    args = annotation_json.parse_args(__doc__, "folder with classInd.txt, trainlist0k.txt, testlist0k.txt", argv)
    return annotation_json.run("ucf101_json", ucf101_split, "ucf101_0{}.json", args)


if __name__ == "__main__":
    sys.exit(main())
