"""Print one line per tox environment from the JUnit XML files its pytest runs wrote, then the total.

The last line has the form 'N passed, N failed, N skipped' so that a log reader sees the whole matrix's count.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) of one JUnit XML file."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failed = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main(tox_dir: str = ".tox") -> int:
    total = [0, 0, 0]
    for path in sorted(Path(tox_dir).glob("*/junit*.xml")):
        passed, failed, skipped = counts(path)
        print(f"{path.parent.name}/{path.name}: {passed} passed, {failed} failed, {skipped} skipped")
        total = [total[0] + passed, total[1] + failed, total[2] + skipped]
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
