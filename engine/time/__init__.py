"""Time: BPMN timers as database rows fired exactly once, scheduled starts, Thai working days, due dates.

Modules, each one job: `iso` (ISO 8601 as BPMN writes it), `bpmn` (the parser reads those literals),
`working_days` (the office calendar), `due_rules` (a user task's `dueIn`), `timers` (rows mirrored
from a workflow), `starts` (scheduled starts of a procedure), `firing` (claim and fire one due row),
`scheduler` (APScheduler's polling job).
"""
