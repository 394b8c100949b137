"""Print the share of fields where dockops equals the docker CLI, per command (`make fidelity`)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def main(path: str) -> int:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    file = Path(path)
    for line in file.read_text(encoding="utf-8").splitlines() if file.exists() else []:
        row = json.loads(line)
        counts[row["command"]][0] += bool(row["equal"])
        counts[row["command"]][1] += 1
    if not counts:
        print("fidelity: no field was compared")
        return 1
    width = max(len(command) for command in counts)
    for command, (equal, total) in sorted(counts.items()):
        print(f"{command:<{width}}  {100 * equal / total:6.1f}%  ({equal}/{total} fields)")
    equal = sum(e for e, _ in counts.values())
    total = sum(t for _, t in counts.values())
    print(f"{'all':<{width}}  {100 * equal / total:6.1f}%  ({equal}/{total} fields)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/fidelity.jsonl"))
