"""Run the blind3 chat question sets in this folder: ``python tests/chat_eval/blind3/run_blind3.py [options]``.

The same as ``python tests/chat_eval/harness.py --set blind3 [options]`` (see harness.py).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness  # noqa: E402  (tests/chat_eval/harness.py)

if __name__ == "__main__":
    raise SystemExit(harness.main(["--set", "blind3", *sys.argv[1:]]))
