"""The original's path for this ECO-lite tool (`python ./src/gen_dataset_lists.py ...`); the code is src/tools/gen_dataset_lists.py."""
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from src.tools.gen_dataset_lists import main

    sys.exit(main())
