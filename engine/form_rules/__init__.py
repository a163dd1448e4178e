"""Rules a form states beside its JSON Schema, for the figures and documents of a step.

`x-computed` and `x-at-most` (computed.py) on number fields; `x-signed-document` (signed.py) at the
top of a form. Each is checked when a definition is published and enforced when a task is completed.
"""
