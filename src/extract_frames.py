"""The original's path for this ECO-lite tool (`python ./src/extract_frames.py ...`); the code is src/tools/extract_frames.py."""
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from src.tools.extract_frames import main

    sys.exit(main())
