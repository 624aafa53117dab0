"""JUnit XML: one testcase per check, so any CI shows the doctor like a test run."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from livekit_doctor.render.document import RunDocument
from livekit_doctor.result import Result, Status
from livekit_doctor.summary import FAIL_ON

# Characters XML 1.0 cannot hold, even escaped (an app's answer may carry any of them): shown as U+FFFD.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _body(result: Result) -> str:
    parts = [result.summary, result.details]
    for found in result.findings:
        parts.append(f"{found.severity.value} {found.code}: {found.message}")
        parts += [f"  {loc.path}:{loc.line}:{loc.column} {loc.message}" for loc in found.locations]
        parts += [f"  > {line}" for line in found.evidence]
        parts.append(f"  fix: {found.fix}" if found.fix else "")
    return "\n".join(p for p in parts if p)


def render(doc: RunDocument) -> str:
    warn_fails = FAIL_ON[doc.fail_on] <= Status.WARN.severity
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    name = doc.product.name
    suite = ET.Element("testsuite", name=name, timestamp=doc.started_at_text, hostname=doc.host)
    for result in doc.results:
        case = ET.SubElement(suite, "testcase", classname=f"{name}.{result.area or 'checks'}",
                             name=f"{result.check_id} {result.title}", time=f"{result.duration:.3f}")
        root = doc.diagnosis.root_of(result)
        if root:  # a consequence: CI shows it, marked, so that the root cause is the one read first
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="consequence_of", value=root)
            result = result.replace(summary=f"consequence of {root}: {result.summary}")
        if result.status is Status.FAIL or (result.status is Status.WARN and warn_fails):
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=result.summary, type=result.status.value).text = _body(result)
        elif result.status is Status.ERROR:
            counts["errors"] += 1
            ET.SubElement(case, "error", message=result.summary, type="error").text = \
                "\n".join(p for p in (_body(result), result.traceback) if p)
        elif result.status is Status.SKIP:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=result.summary)
        elif result.status in (Status.WARN, Status.NOTE):
            ET.SubElement(case, "system-out").text = f"{result.status.value}: " + _body(result)
    suite.set("tests", str(len(doc.results)))
    for counted, value in counts.items():
        suite.set(counted, str(value))
    suite.set("time", f"{doc.duration:.3f}")
    root = ET.Element("testsuites", name=name)
    root.append(suite)
    ET.indent(root)
    xml = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + NOT_XML.sub("\ufffd", xml) + "\n"
