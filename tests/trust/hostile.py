"""The hostile definitions of the trust battery (#13, part 1) and the doors they are pushed through.

A case is a definition an attacker (or a careless tool) might hand Khanton; a door is every way a
definition gets in: PUT /api/v1/processes/{key}/bpmn, a draft saved, validated or published through
the API, the editor's publish, the import API and the import page. `tests/trust/test_hostile_definitions.py`
runs the table; this module only builds it.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

KEY = "hostile-def"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM = "monitor-and-report/mr_monitor.json"
OWN_FORM = f"{KEY}/work.json"
LIMIT = 5 * 1024 * 1024

# --- definitions --------------------------------------------------------------------------------


def user_task(task_id: str, form: str = FORM, extra_props: str = "", inner: str = "") -> str:
    return (f'<bpmn:userTask id="{task_id}" name="{task_id}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />{extra_props}'
            f"</spiffworkflow:properties></bpmn:extensionElements>{inner}</bpmn:userTask>")


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    inner = f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{inner}</bpmn:sequenceFlow>'


def diagram(*body: str, key: str = KEY, lanes: str = "", extra: str = "", head: str = "",
            process_attrs: str = "") -> str:
    """A publishable procedure around `body` (its steps and flows); every node in one lane."""
    nodes = [part.split('id="', 1)[1].split('"', 1)[0] for part in body
             if not part.startswith(("<bpmn:sequenceFlow", "<bpmn:boundaryEvent"))]
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    lane_set = lanes or (f'<bpmn:laneSet id="ls"><bpmn:lane id="plan_officer" name="lane">{refs}</bpmn:lane>'
                         "</bpmn:laneSet>")
    joined = "\n".join(body)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{head}'
            f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:spiffworkflow="{SPIFF}" id="d" targetNamespace="t">\n'
            f'<bpmn:process id="{key}" name="ทดสอบ" isExecutable="true"{process_attrs}>\n{lane_set}\n'
            f"{joined}\n</bpmn:process>\n{extra}</bpmn:definitions>\n")


START, END = '<bpmn:startEvent id="start" />', '<bpmn:endEvent id="end" />'


def plain(**kw: Any) -> str:
    return diagram(START, user_task("work"), END, flow("f1", "start", "work"), flow("f2", "work", "end"), **kw)


def condition(expression: str) -> str:
    """`expression` decides the gateway `gw` (flow `risky`), the other flow being the default."""
    return diagram(START, user_task("work"), '<bpmn:exclusiveGateway id="gw" default="other" />', END,
                   '<bpmn:endEvent id="end2" />', flow("f1", "start", "work"), flow("f2", "work", "gw"),
                   flow("risky", "gw", "end", expression), flow("other", "gw", "end2"))


def script(source: str) -> str:
    return diagram(START, f'<bpmn:scriptTask id="calc"><bpmn:script>{escape(source)}</bpmn:script></bpmn:scriptTask>',
                   user_task("work"), END, flow("f1", "start", "calc"), flow("f2", "calc", "work"),
                   flow("f3", "work", "end"))


def timer(duration: str, tag: str = "timeDuration") -> str:
    boundary = (f'<bpmn:boundaryEvent id="late" attachedToRef="work" cancelActivity="false">'
                f"<bpmn:timerEventDefinition><bpmn:{tag}>{escape(duration)}</bpmn:{tag}>"
                "</bpmn:timerEventDefinition></bpmn:boundaryEvent>")
    return diagram(START, user_task("work"), END, '<bpmn:endEvent id="end2" />', boundary,
                   flow("f1", "start", "work"), flow("f2", "work", "end"), flow("f3", "late", "end2"))


def cardinality(expression: str) -> str:
    loop = f"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{escape(expression)}" \
           "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
    return diagram(START, user_task("each", inner=loop), END, flow("f1", "start", "each"), flow("f2", "each", "end"))


def due(rule: str) -> str:
    prop = f'<spiffworkflow:property name="dueIn" value="{escape(rule, {chr(34): "&quot;"})}" />'
    return diagram(START, user_task("work", extra_props=prop), END, flow("f1", "start", "work"),
                   flow("f2", "work", "end"))


def computed(expression: str) -> tuple[str, dict[str, Any]]:
    """A form of our own whose number field `total` is computed by `expression`."""
    schema = {"type": "object", "title": "ทดสอบ", "required": [], "properties": {
        "amount": {"type": "number", "title": "จำนวน"},
        "total": {"type": "number", "title": "รวม", "x-computed": expression}}}
    return diagram(START, user_task("work", form=OWN_FORM), END, flow("f1", "start", "work"),
                   flow("f2", "work", "end")), {OWN_FORM: schema}


def calls(target: str, key: str = KEY) -> str:
    return diagram(START, f'<bpmn:callActivity id="call" calledElement="{target}" />', user_task("work"), END,
                   flow("f1", "start", "call"), flow("f2", "call", "work"), flow("f3", "work", "end"), key=key)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def gzip_bomb() -> bytes:
    """Under 5 MB of gzip that would inflate to about 5 GB of spaces (never inflated: that is the point).
    A gzip file may be many members one after another; each here is 1 MB of spaces, compressed."""
    member = gzip.compress(b" " * (1024 * 1024), compresslevel=9, mtime=0)
    return member * (LIMIT // len(member) - 1)


# --- cases ------------------------------------------------------------------------------------

UNREADABLE, NOT_BPMN, REFUSED_DEFINITION = "unreadable", "not bpmn", "definition"


@dataclass(frozen=True)
class Case:
    """A hostile definition. `unreadable`: refused at every door, drafts too (it cannot be read safely);
    `not bpmn`: well-formed XML but no BPMN, refused everywhere but a draft saved from the editor (kept,
    never run: the editor shows what is wrong); `definition`: readable BPMN with a forbidden part, refused
    where it would become a version and kept unexecuted where drafts are kept (a draft may hold problems:
    it is checked when asked, and at publish)."""

    name: str
    data: bytes | str
    kind: str = REFUSED_DEFINITION
    words: tuple[str, ...] = ()  # the message says one of these
    element: str | None = None  # the refusal names this element (a definition case)
    line: int | None = None  # ... or this line
    forms: dict[str, Any] = field(default_factory=dict)
    text_doors: bool = True  # also through the JSON doors (bytes that are not text cannot be sent there)
    parsed: bool = False  # passes our checks, so SpiffWorkflow's parser (in a child process) reads it

    def as_bytes(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else self.data.encode("utf-8")

    def as_text(self) -> str:
        return self.data if isinstance(self.data, str) else self.data.decode("utf-8")


def _laughs(levels: int = 10) -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels))
    doctype = f"<!DOCTYPE bpmn:definitions [{entities}]>\n"
    return plain(head=doctype).replace('name="ทดสอบ"', f'name="&lol{levels - 1};"')


def _quadratic() -> str:
    big = "A" * 100_000
    return plain(head=f'<!DOCTYPE bpmn:definitions [<!ENTITY a "{big}">]>\n').replace(
        'name="ทดสอบ"', 'name="' + "&a;" * 40 + '"')


def _deep(levels: int) -> str:
    nest = "<bpmn:documentation>" * levels + "</bpmn:documentation>" * levels
    return plain().replace("<bpmn:startEvent id=\"start\" />", f'<bpmn:startEvent id="start">{nest}</bpmn:startEvent>')


def _padded(size: int) -> str:
    return plain().replace("</bpmn:definitions>", "<!--" + "x" * size + "--></bpmn:definitions>")


def _declared(encoding: str) -> str:
    return plain().replace('encoding="UTF-8"', f'encoding="{encoding}"')


def _lanes(count: int) -> str:
    lanes = "".join(f'<bpmn:lane id="lane_{i}" name="lane {i}" />' for i in range(count))
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ("start", "work", "end"))
    return plain(lanes=f'<bpmn:laneSet id="ls"><bpmn:lane id="plan_officer" name="l">{refs}</bpmn:lane>{lanes}'
                       "</bpmn:laneSet>")


def _many_tasks(count: int) -> str:
    tasks = [user_task(f"t{i}") for i in range(count)]
    flows = [flow(f"g{i}", f"t{i}", f"t{i + 1}") for i in range(count - 1)]
    return diagram(START, *tasks, END, flow("g_in", "start", "t0"), *flows, flow("g_out", f"t{count - 1}", "end"))


# A chain longer than SpiffWorkflow's parser can follow (it recurses once per step: RecursionError near 490).
CHAIN = 600


XML_CASES = [
    Case("doctype", plain(head="<!DOCTYPE bpmn:definitions>\n"), UNREADABLE, ("DOCTYPE",), line=2),
    Case("internal entity", plain(head='<!DOCTYPE d [<!ENTITY who "x">]>\n').replace('name="ทดสอบ"', 'name="&who;"'),
         UNREADABLE, ("DOCTYPE",), line=2),
    Case("external entity", plain(head='<!DOCTYPE d [<!ENTITY pw SYSTEM "file:///etc/passwd">]>\n').replace(
        'name="ทดสอบ"', 'name="&pw;"'), UNREADABLE, ("DOCTYPE",), line=2),
    Case("parameter entity over the network", plain(
        head='<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>\n'),
        UNREADABLE, ("DOCTYPE",), line=2),
    Case("billion laughs", _laughs(), UNREADABLE, ("DOCTYPE",), line=2),
    Case("quadratic blowup", _quadratic(), UNREADABLE, ("DOCTYPE",), line=2),
    Case("entity declared in lower case", plain(head='<!doctype d [<!entity a "b">]>\n'), UNREADABLE,
         ("DOCTYPE", "XML"), line=2),
    Case("xinclude of a local file", plain().replace(
        "<bpmn:startEvent id=\"start\" />",
        '<bpmn:startEvent id="start"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        'href="file:///etc/passwd" parse="text"/></bpmn:startEvent>'), UNREADABLE, ("XInclude",),
        element="start"),
    Case("over the size limit", _padded(LIMIT), UNREADABLE, ("5 MB",)),
    Case("gzip body", gzipped(plain().encode()), UNREADABLE, ("gzip",), text_doors=False),
    Case("gzip bomb", gzip_bomb(), UNREADABLE, ("gzip",), text_doors=False),
    Case("malformed: unclosed element", plain().replace("</bpmn:process>", ""), UNREADABLE, ("XML ไม่ถูกต้อง",)),
    Case("malformed: not xml", "นี่ไม่ใช่ XML", UNREADABLE, ("XML ไม่ถูกต้อง",)),
    Case("malformed: empty", " ", UNREADABLE, ("XML", "ไม่ว่าง")),
    Case("malformed: NUL byte", plain().replace('name="ทดสอบ"', 'name="a\x00b"'), UNREADABLE, ("XML", "NUL")),
    Case("wrong namespace", plain().replace(BPMN, "http://example.com/not-bpmn"), NOT_BPMN, ("BPMN",)),
    Case("missing namespace", plain().replace(f'xmlns:bpmn="{BPMN}" ', ""), UNREADABLE, ("XML ไม่ถูกต้อง", "namespace")),
    Case("html root", "<html><body>hello</body></html>", NOT_BPMN, ("BPMN",)),
    Case("utf-16 declared, utf-8 written", _declared("UTF-16").encode(), UNREADABLE, ("UTF-16",), line=1,
         text_doors=False),
    Case("utf-8 declared, latin-1 written", plain().replace('name="ทดสอบ"', 'name="Virement budgétaire"').encode(
        "latin-1"), UNREADABLE, ("utf-8", "UTF-8"), line=3, text_doors=False),
    Case("unknown encoding", _declared("KLINGON").encode(), UNREADABLE, ("KLINGON",), line=1, text_doors=False),
    Case("utf-16 without a declaration or BOM, odd bytes", plain().encode("utf-16-le")[2:-1], UNREADABLE,
         ("utf-16", "UTF-16", "XML"), text_doors=False),
    Case("deep nesting", _deep(5000), UNREADABLE, ("XML ไม่ถูกต้อง",)),
    Case("huge attribute value", plain().replace('name="ทดสอบ"', 'name="' + "ก" * 1_700_000 + '"'), UNREADABLE,
         ("ยาวเกิน 10,000",), element=KEY, line=3),
]

ESCAPES = [  # expressions that try to leave the sandbox: refused wherever an expression goes
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__[1].__subclasses__()",
    "len.__globals__",
    "getattr(x, 'upper')",
    "vars()",
    "type(x)",
    "'{0.__class__}'.format(x)",
    "f'{x.__class__}'",
    "(lambda: 1)()",
    "[c for c in ().__class__.__bases__]",
    "(y := 1)",
    "(g for g in [1]).gi_frame",
    "open('/etc/passwd').read()",
    "eval('1')",
    "globals()['x']",
]
BOMBS = [  # resource bombs through the allowed operators, functions and methods
    "9 ** 9 ** 9",
    "2 ** 100000",
    "1 << 10 ** 6",
    "'a' * 10 ** 9",
    "[0] * 10 ** 8",
    "('a' * 3000).replace('a', 'a' * 3000)",
    "'x'.join(['a' * 100] * 5000)",
    "f'{1:>200000000}'",
    "f'{1.5:.999999f}'",
    "'a'.ljust(10 ** 9)",
    "'7'.zfill(10 ** 9)",
    "'{:>99999999}'.format(1)",
    "[[i * j for i in range(10 ** 4)] for j in range(10 ** 4)]",
    "sum(range(10 ** 12))",
    "sorted([0] * 10 ** 7)",
    "len(str(10 ** 5000))",
    "Decimal('1e999999') + 1",
]
# Where an expression goes, what it becomes there, and the element the refusal must name.
SITES = {
    "condition": (condition, "risky"),
    "script": (lambda e: script(f"x = {e}"), "calc"),
    "timer": (timer, "late"),
    "cardinality": (cardinality, "each"),
}


def expression_cases() -> list[Case]:
    cases = []
    for kind, expressions in (("escape", ESCAPES), ("bomb", BOMBS)):
        for number, expression in enumerate(expressions):
            site = list(SITES)[number % len(SITES)]  # every expression somewhere, every site many times
            make, element = SITES[site]
            cases.append(Case(f"{kind} in {site}: {expression}", make(expression), element=element))
            if number % 4 == 0:  # and in a form's computed field
                xml, forms = computed(expression)
                cases.append(Case(f"{kind} in x-computed: {expression}", xml, element="work", forms=forms,
                                  words=("x-computed",)))
    return cases


TRAPS = [
    Case("timer duration that overflows", timer("P99999999999999999999Y"), element="late"),
    Case("timer date past year 9999", timer("99999-01-01T00:00:00Z", "timeDate"), element="late"),
    Case("timer cycle repeating forever each second", timer("R/PT1S", "timeCycle"), element="late"),
    Case("timer cycle with a number of repetitions past any integer",
         timer("R" + "9" * 5000 + "/2026-10-01T08:30:00+07:00/P1D", "timeCycle"), element="late"),
    Case("timer with a regex-like trap", timer("P" + "1" * 50_000 + "D"), element="late"),
    Case("due rule that overflows", due("P99999999999999999999D"), element="work"),
    Case("due rule of a million working days", due("999999 วันทำการ"), element="work"),
    Case("due rule that is a regex trap", due("1" * 5000 + " working dayz"), element="work"),
    Case("cardinality bomb", cardinality("10 ** 9"), element="each"),
    Case("cardinality that is not a number", cardinality("'many'"), element="each"),
    Case("script with a list bomb", script("x = 1\ny = [[0] * 1000] * 1000"), element="calc"),
    Case("script that imports", script("import os"), element="calc"),
    Case("script that defines a function", script("def f():\n    return 1"), element="calc"),
    Case("script that deletes", script("del x"), element="calc"),
    Case("script that is a walrus loop", script("x = [(y := i) for i in range(10)]"), element="calc"),
    Case("slow constants before an escape (the check's time budget)",
         script("\n".join(["x = sorted([3, 1, 2] * 45000)"] * 199 + ["y = __import__('os')"])), element="calc"),
    Case("self-call", calls(KEY), element="call"),
    Case("call of a process that does not exist", calls("no-such-process-anywhere"), element="call"),
]

PARSER_TRAPS = [
    Case("many elements in a chain", _many_tasks(CHAIN), words=("SpiffWorkflow",), parsed=True),
    Case("thousands of lanes", _lanes(3000), element="lane_0", words=("lane",)),
    Case("process name longer than a name", plain().replace('name="ทดสอบ"', 'name="' + "ก" * 1000 + '"'),
         element=KEY, words=("ชื่อ",)),
]
# Unusual but safe: opened as drafts (import) and publishable, in bounded time, nothing run.
UNUSUAL = [
    Case("extensionElements junk", diagram(
        START, user_task("work", inner="<bpmn:extensionElements><junk:x xmlns:junk='urn:j' a='1'>"
                         + "<junk:y b='2'/>" * 5_000 + "</junk:x></bpmn:extensionElements>"), END,
        flow("f1", "start", "work"), flow("f2", "work", "end"))),
    Case("utf-16 with a BOM", _declared("UTF-16").encode("utf-16"), text_doors=False),
    Case("latin-1 declared and written", _declared("ISO-8859-1").replace('name="ทดสอบ"', 'name="Virement budgétaire"')
         .encode("latin-1"), text_doors=False),
    Case("comments and processing instructions", plain().replace("<bpmn:process", "<!-- a comment -->\n"
                                                                  "<?khanton ignore?>\n<bpmn:process")),
]
