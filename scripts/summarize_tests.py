"""Sums meson's test logs and GoogleTest JSON reports into one closing line: 'N passed, N failed'.

Usage: summarize_tests.py [--failed-stages K] TESTLOG REPORTS_DIR [TESTLOG REPORTS_DIR ...]
One pair per stage (a build directory's run); K stages that failed without a test to show for it
(a build that failed, a run that left no log) count as K failures.
"""
import glob
import json
import os
import sys


def count(testlog, reports_dir):
    passed = failed = 0
    gtest_names = set()
    for path in sorted(glob.glob(os.path.join(reports_dir, "*.json"))):
        with open(path) as f:
            report = json.load(f)
        gtest_names.add(os.path.splitext(os.path.basename(path))[0])
        for suite in report.get("testsuites", []):
            for case in suite.get("testsuite", []):
                if case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN":
                    continue
                if case.get("failures"):
                    failed += 1
                else:
                    passed += 1
    with open(testlog) as f:
        for line in f:
            entry = json.loads(line)
            result = entry.get("result")
            cmd = entry.get("command", [])
            binary = os.path.basename(cmd[0]) if cmd else ""
            if binary in gtest_names:
                # Counted case by case above, but a crash that left no report still counts.
                if result not in ("OK", "SKIP", "EXPECTEDFAIL"):
                    failed += 1
                continue
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result != "SKIP":
                failed += 1
    return passed, failed


def main(args):
    extra_failed = 0
    if args[:1] == ["--failed-stages"]:
        extra_failed = int(args[1])
        args = args[2:]
    if not args or len(args) % 2:
        print("usage: summarize_tests.py [--failed-stages K] TESTLOG REPORTS_DIR [TESTLOG REPORTS_DIR ...]",
              file=sys.stderr)
        return 2
    passed, failed = 0, extra_failed
    for i in range(0, len(args), 2):
        p, f = count(args[i], args[i + 1])
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
