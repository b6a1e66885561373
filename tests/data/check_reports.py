"""Reads planexec's reports with other people's tools, for tests/e2e/reports.rs.

  check_reports.py junit FILE XSD   validates FILE against the XSD (xmlschema) and prints
                                    junitparser's totals as JSON
  check_reports.py front FILE       prints the YAML front matter of a markdown FILE
                                    (PyYAML) as JSON

Exits 3 naming the missing module when a tool is not installed (.ci/run installs them).
"""
import json
import sys


def need(module):
    try:
        return __import__(module)
    except ImportError:
        print(f"python module {module} is missing: python3 -m pip install {module} "
              "(.ci/run and scripts/setup.sh install the pinned versions)", file=sys.stderr)
        sys.exit(3)


def junit(path, xsd):
    xmlschema = need("xmlschema")
    junitparser = need("junitparser")
    schema = xmlschema.XMLSchema(xsd)
    errors = [str(e.reason) + " at " + str(e.path) for e in schema.iter_errors(path)]
    xml = junitparser.JUnitXml.fromfile(path)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "suites": []}
    for suite in xml:
        cases = list(suite)
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for case in cases:
            for r in case.result:
                kind = {"Failure": "failures", "Error": "errors", "Skipped": "skipped"}.get(
                    type(r).__name__)
                if kind:
                    counts[kind] += 1
        totals["tests"] += len(cases)
        for k, v in counts.items():
            totals[k] += v
        totals["suites"].append({
            "name": suite.name,
            "tests": len(cases),
            "declared": [suite.tests, suite.failures, suite.errors, suite.skipped],
            "cases": [{"name": c.name, "classname": c.classname, "time": c.time}
                      for c in cases],
            **counts,
        })
    print(json.dumps({"schema_errors": errors, **totals}))


def front(path):
    yaml = need("yaml")
    text = open(path, encoding="utf-8").read()
    if not text.startswith("---\n"):
        print(json.dumps({"error": "no front matter"}))
        return
    body = text[4:].split("\n---\n", 1)[0]
    print(json.dumps(yaml.safe_load(body), default=str))


if __name__ == "__main__":
    if sys.argv[1] == "junit":
        junit(sys.argv[2], sys.argv[3])
    else:
        front(sys.argv[2])
