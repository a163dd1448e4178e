"""One small diagram per validation rule: it breaks the rule, and the check says so in Thai, naming
the element and its line (issue 8, point 3). SpiffWorkflow's own refusals arrive translated."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine import definitions
from engine.authoring import translate
from engine.errors import Problem

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "forms"
FORM = "monitor-and-report/mr_monitor.json"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
THAI = range(0x0E00, 0x0E80)


def user_task(task_id: str, incoming: str = "", outgoing: str = "", form: str | None = FORM) -> str:
    props = (f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
             f'name="formJsonSchemaFilename" value="{form}" /></spiffworkflow:properties></bpmn:extensionElements>'
             if form else "")
    return f'<bpmn:userTask id="{task_id}" name="{task_id}">{props}</bpmn:userTask>'


def diagram(body: str, lane_nodes: tuple[str, ...] = ("start", "work", "end"), lane: str = "plan_officer",
            key: str = "rules-test", extra: str = "") -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in lane_nodes)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:spiffworkflow="{SPIFF}" id="d" targetNamespace="t">\n'
            f'<bpmn:process id="{key}" name="ทดสอบ" isExecutable="true">\n'
            f'<bpmn:laneSet id="ls"><bpmn:lane id="{lane}" name="lane">{refs}</bpmn:lane></bpmn:laneSet>\n'
            f"{body}\n</bpmn:process>\n{extra}</bpmn:definitions>\n")


def flow(flow_id: str, source: str, target: str, condition: str = "") -> str:
    inner = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{inner}</bpmn:sequenceFlow>'


START = '<bpmn:startEvent id="start" />'
END = '<bpmn:endEvent id="end" />'
GOOD = "\n".join([START, user_task("work"), END, flow("f1", "start", "work"), flow("f2", "work", "end")])


def line_of(xml: str, element: str) -> int:
    return next(n for n, text in enumerate(xml.splitlines(), 1) if f'id="{element}"' in text)


def problems(xml: str) -> list[Problem]:
    return definitions.inspect(xml, FORMS, "rules-test", "rules-test.bpmn").problems


def the_problem(xml: str, element: str, *words: str) -> Problem:
    """The one problem about `element`: in Thai, saying `words`, on the element's line."""
    found = [p for p in problems(xml) if p.element == element]
    assert found, f"no problem about {element}: {problems(xml)}"
    problem = found[0]
    assert any(ord(c) in THAI for c in problem.message), problem.message
    for word in words:
        assert word in problem.message, problem.message
    assert problem.line == line_of(xml, element), (problem.line, problem)
    return problem


def test_a_sound_diagram_has_no_problem() -> None:
    assert problems(diagram(GOOD.replace(">", ">\n"))) == []


def test_every_user_task_in_a_lane() -> None:
    xml = diagram(GOOD.replace(">", ">\n"), lane_nodes=("start", "end"))
    the_problem(xml, "work", "ต้องอยู่ใน lane")


def test_every_user_task_names_a_form() -> None:
    xml = diagram("\n".join([START, user_task("work", form=None), END, flow("f1", "start", "work"),
                             flow("f2", "work", "end")]))
    the_problem(xml, "work", "ต้องระบุแบบฟอร์ม")


def test_the_form_must_exist_and_be_valid() -> None:
    xml = diagram("\n".join([START, user_task("work", form="rules-test/missing.json"), END,
                             flow("f1", "start", "work"), flow("f2", "work", "end")]))
    the_problem(xml, "work", "ไม่พบไฟล์แบบฟอร์ม")


def test_lanes_must_be_known() -> None:
    xml = diagram(GOOD, lane="no_such_lane")
    problem = next(p for p in problems(xml) if p.element == "no_such_lane")
    assert "khanton lane add" in problem.message and problem.line == line_of(xml, "no_such_lane")


def gateway_diagram(*flows: str, default: str = "", kind: str = "exclusiveGateway") -> str:
    gateway = f'<bpmn:{kind} id="gw"{f" default={chr(34)}{default}{chr(34)}" if default else ""} />'
    body = [START, user_task("work"), gateway, user_task("other"), END, flow("f1", "start", "work"),
            flow("f2", "work", "gw"), *flows, flow("f9", "other", "end")]
    return diagram("\n".join(body), lane_nodes=("start", "work", "gw", "other", "end"))


def test_a_gateways_way_out_needs_a_condition_or_the_default() -> None:
    xml = gateway_diagram(flow("yes", "gw", "end", "amount &gt; 0"), flow("no", "gw", "other"))
    the_problem(xml, "no", "ไม่มีเงื่อนไข", "ทางปริยาย")
    assert not [p for p in problems(xml) if p.element == "yes"]


def test_an_inclusive_gateway_too() -> None:
    xml = gateway_diagram(flow("yes", "gw", "end", "amount > 0"), flow("no", "gw", "other"),
                          kind="inclusiveGateway")
    the_problem(xml, "no", "inclusive")


def test_the_default_way_needs_no_condition() -> None:
    xml = gateway_diagram(flow("yes", "gw", "end", "amount &gt; 0"), flow("no", "gw", "other"),
                          default="no")
    assert problems(xml) == []


def test_a_default_must_leave_the_gateway() -> None:
    xml = gateway_diagram(flow("yes", "gw", "end", "amount &gt; 0"),
                          flow("no", "gw", "other", "amount &lt;= 0"), default="f1")
    the_problem(xml, "gw", "ทางปริยาย", "'f1'")


def test_a_dead_end() -> None:
    xml = diagram("\n".join([START, user_task("work"), user_task("stuck"), END, flow("f1", "start", "work"),
                             flow("f2", "work", "end"), flow("f3", "start", "stuck")]),
                  lane_nodes=("start", "work", "stuck", "end"))
    the_problem(xml, "stuck", "ทางตัน", "ไม่มีเส้นทางออก")


def test_a_loop_with_no_way_out() -> None:
    body = [START, user_task("work"), user_task("a"), user_task("b"), END, flow("f1", "start", "work"),
            flow("f2", "work", "end"), flow("f3", "start", "a"), flow("f4", "a", "b"), flow("f5", "b", "a")]
    xml = diagram("\n".join(body), lane_nodes=("start", "work", "a", "b", "end"))
    the_problem(xml, "a", "ทางตัน", "ไม่รู้จบ")


def test_an_unreachable_step() -> None:
    xml = diagram("\n".join([START, user_task("work"), user_task("island"), END, flow("f1", "start", "work"),
                             flow("f2", "work", "end"), flow("f3", "island", "end")]),
                  lane_nodes=("start", "work", "island", "end"))
    the_problem(xml, "island", "ไปถึงไม่ได้")


def test_no_start_event() -> None:
    xml = diagram("\n".join([user_task("work"), END, flow("f2", "work", "end")]), lane_nodes=("work", "end"))
    the_problem(xml, "rules-test", "start event")


def test_a_flow_to_nothing() -> None:
    xml = diagram("\n".join([START, user_task("work"), END, flow("f1", "start", "work"),
                             flow("f2", "work", "end"), flow("f3", "work", "ghost")]))
    the_problem(xml, "f3", "'ghost'", "ไม่มีอยู่")


def test_ids_are_unique() -> None:
    xml = diagram("\n".join([START, user_task("work"), END, flow("f1", "start", "work"), flow("f2", "work", "end"),
                             '<bpmn:textAnnotation id="work" />']))
    problem = next(p for p in problems(xml) if "ซ้ำ" in p.message)
    assert problem.element == "work" and problem.line == xml.splitlines().index('<bpmn:textAnnotation id="work" />') + 1


def test_expressions_pass_the_safety_check() -> None:
    xml = gateway_diagram(flow("yes", "gw", "end", "__import__('os').system('id')"), flow("no", "gw", "other"),
                          default="no")
    problem = the_problem(xml, "yes")
    assert "conditionExpression" in problem.message


def test_call_activities_name_a_procedure_that_exists() -> None:
    body = [START, '<bpmn:callActivity id="call" calledElement="no-such-procedure" />', END,
            flow("f1", "start", "call"), flow("f2", "call", "end")]
    xml = diagram("\n".join(body), lane_nodes=("start", "call", "end"))
    checked = definitions.check_batch([("rules-test.bpmn", xml)], FORMS, None, {"rules-test.bpmn": "rules-test"})[0]
    problem = next(p for p in checked.problems if p.element == "call")
    assert "'no-such-procedure'" in problem.message and problem.line == line_of(xml, "call")


def test_call_activities_form_no_cycle() -> None:
    def caller(key: str, calls: str) -> str:
        body = [START, f'<bpmn:callActivity id="call_{calls}" calledElement="{calls}" />', END,
                flow("f1", "start", f"call_{calls}"), flow("f2", f"call_{calls}", "end")]
        return diagram("\n".join(body), lane_nodes=("start", f"call_{calls}", "end"), key=key)

    a, b = caller("loop-a", "loop-b"), caller("loop-b", "loop-a")
    checked = definitions.check_batch([("loop-a.bpmn", a), ("loop-b.bpmn", b)], FORMS, None,
                                      {"loop-a.bpmn": "loop-a", "loop-b.bpmn": "loop-b"})
    problem = next(p for p in checked[0].problems if p.element == "call_loop-b")
    assert "วนซ้ำ" in problem.message and problem.line == line_of(a, "call_loop-b")


def test_spiffworkflows_refusal_is_translated_with_element_and_line() -> None:
    # Two ways out of a user task: nothing in our rules refuses it, SpiffWorkflow's parser does.
    body = [START, user_task("work"), END, flow("f1", "start", "work"), flow("f2", "work", "end"),
            flow("f3", "work", "end")]
    xml = diagram("\n".join(body))
    checked = definitions.check_batch([("rules-test.bpmn", xml)], FORMS, None, {"rules-test.bpmn": "rules-test"})[0]
    assert len(checked.problems) == 1, checked.problems
    problem = checked.problems[0]
    assert problem.message == "ขั้นตอนชนิดนี้มีเส้นทางออกได้เส้นเดียว — ใช้เกตเวย์เพื่อแยกทาง"
    assert problem.element == "work" and problem.line == line_of(xml, "work")
    assert "Multiple" not in problem.message


@pytest.mark.parametrize(("english", "thai"), [
    ("When looking for a task spec, we found two items, perhaps a form has the same ID? (Task_9)", "'Task_9'"),
    ("Non-default exclusive outgoing sequence flow without condition", "ทางปริยาย"),
    ("No start event found", "start event"),
    ("Process Process_1 is not executable.", "isExecutable"),
    ("The process 'budget' was not found. Did you mean one of the following: a, b?", "'budget'"),
    ("Exactly one start event is required in a SubWorkflow Task; found 2.", "พบ 2 จุด"),
    ("Time Specification Error. bad", "ISO 8601"),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}task': This element is not expected.", "<task>"),
])
def test_known_messages_in_thai(english: str, thai: str) -> None:
    xml = diagram(GOOD).replace('id="work"', 'id="X"')
    problem = translate.problem(english, element="X", xml=xml)
    assert thai in problem.message and problem.element == "X" and problem.line == line_of(xml, "X")
    assert not any(word in problem.message for word in ("found", "Exactly", "expected", "Did you"))


def test_an_unknown_message_is_general_thai_and_logged_in_english(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="khanton.authoring"):
        problem = translate.from_exception(KeyError("spam"), diagram(GOOD))
    assert problem.message == translate.UNKNOWN and "spam" not in problem.message
    assert "KeyError" in caplog.text and "spam" in caplog.text
