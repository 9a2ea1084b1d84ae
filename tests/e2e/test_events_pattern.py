# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of `vigil events`: test-pattern over cases of tests/data/patterns/cases.jsonl
(answers and EventBridge's refusal messages, exit codes) and bench over the shared benchmark
corpus, whose match counts must equal event-ruler's (../shared/bench/expected-matches*.json).

make-events can write a smaller corpus (--count), but its events then differ from the full
corpus (timestamps are spread over the count) and event-ruler's counts exist only for the full
200,000 events; so the count check runs on the full corpus (build/bench-events, generated when
absent) for the five-rule file of every kind. bench/events_bench.sh checks all 33 files.
"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vigil_e2e import REPO, VIGIL_BIN  # noqa: E402

CASES = os.path.join(REPO, "tests", "data", "patterns", "cases.jsonl")
SHARED = os.path.join(REPO, "..", "shared", "bench")
CORPUS = os.path.join(REPO, "build", "bench-events")
TIMEOUT = 600


def vigil(*args):
    return subprocess.run([VIGIL_BIN, *args], capture_output=True, text=True, timeout=TIMEOUT)


def has_events_command():
    try:
        r = vigil("events", "--help")
    except OSError:
        return False
    return r.returncode == 0 and "test-pattern" in r.stdout


def load_cases():
    out = []
    with open(CASES) as f:
        for line in f:
            c = json.loads(line)
            text = c["pattern_text"] if "pattern_text" in c else json.dumps(c["pattern"])
            out.append((c, text))
    return out


@unittest.skipUnless(has_events_command(), "this vigil binary has no 'events' command")
class TestPatternCli(unittest.TestCase):
    def test_matches(self):
        checked = 0
        for i, (c, text) in enumerate(load_cases()):
            if "expect" not in c or i % 4:
                continue
            r = vigil("events", "test-pattern", "--pattern", text, "--event", json.dumps(c["event"]))
            self.assertEqual(r.returncode, 0, (c["name"], r.stderr))
            self.assertEqual(r.stdout.strip(), "true" if c["expect"] else "false", c)
            checked += 1
        self.assertGreater(checked, 50)

    def test_refusals_print_eventbridge_message(self):
        checked = 0
        for c, text in load_cases():
            if "error_raw" not in c:
                continue
            r = vigil("events", "test-pattern", "--pattern", text, "--event", "{}")
            self.assertEqual(r.returncode, 1, c["name"])
            self.assertEqual(r.stdout, "")
            self.assertEqual(r.stderr, c["error_raw"] + "\n", c["name"])
            checked += 1
        self.assertGreater(checked, 30)

    def test_files_and_usage(self):
        tmp = os.path.join(REPO, "build", "e2e-events")
        os.makedirs(tmp, exist_ok=True)
        pf, ef = os.path.join(tmp, "p.json"), os.path.join(tmp, "e.json")
        with open(pf, "w") as f:
            f.write('{"detail": {"finding-severity-counts": {"$or": [{"CRITICAL": [{"exists": true}]},'
                    ' {"HIGH": [{"numeric": [">=", 1]}]}]}}}')
        with open(ef, "w") as f:
            f.write('{"detail": {"finding-severity-counts": {"HIGH": 2}}}')
        r = vigil("events", "test-pattern", "--pattern-file", pf, "--event-file", ef)
        self.assertEqual((r.returncode, r.stdout), (0, "true\n"))
        r = vigil("events", "test-pattern", "--pattern-file", pf, "--event", "[1]")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Parameter Event is not valid.", r.stderr)
        self.assertEqual(vigil("events", "test-pattern", "--pattern", "{}").returncode, 2)
        self.assertEqual(vigil("events", "nonsense").returncode, 2)


@unittest.skipUnless(has_events_command(), "this vigil binary has no 'events' command")
@unittest.skipUnless(os.path.exists(os.path.join(SHARED, "make-events")), "no ../shared/bench")
class TestBenchCounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(CORPUS, "events.jsonl")):
            subprocess.run([sys.executable, os.path.join(SHARED, "make-events"), CORPUS],
                           check=True, capture_output=True, timeout=TIMEOUT)

    def test_five_rule_files_equal_event_ruler(self):
        with open(os.path.join(SHARED, "expected-matches.json")) as f:
            expected = json.load(f)
        with open(os.path.join(SHARED, "expected-matches-per-rule.json")) as f:
            per_rule = json.load(f)
        kinds = ["exact", "prefix", "suffix", "anything-but", "numeric", "exists",
                 "equals-ignore-case", "wildcard", "cidr", "or", "mixed"]
        for kind in kinds:
            name = f"{kind}-5"
            r = vigil("events", "bench", "--rules", os.path.join(CORPUS, "rules", name + ".json"),
                      "--events", os.path.join(CORPUS, "events.jsonl"), "--per-rule")
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            kv = dict(line.split(" ", 1) for line in lines if not line.startswith("{"))
            counts = json.loads(next(line for line in lines if line.startswith("{")))
            self.assertEqual(int(kv["events"]), 200000)
            self.assertEqual(int(kv["invalid"]), 0)
            self.assertEqual(int(kv["matches"]), expected[name], name)
            self.assertEqual(len(counts), 5)
            for rule, n in counts.items():
                self.assertEqual(n, per_rule[rule], rule)


if __name__ == "__main__":
    unittest.main()
