"""The OpenAPI 3 description of /api/v1, kept beside the routes it describes."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "malformed request or query parameter", 401: "no or bad token", 403: "not allowed",
            404: "unknown", 409: "conflict: already completed or stale", 413: "too large",
            422: "invalid data or definition", 503: "database busy or out of reach: nothing was stored, try again",
            507: "storage full: nothing was stored; the operator must free space"}
    codes += (507,) if 503 in codes else ()  # a write that may meet a busy database may meet a full disk
    return {str(c): _json(_ref("Error"), text[c]) for c in codes}


INSTANCE_STATUSES = ("running", "completed", "rejected", "terminated", "suspended", "error")
MAX_INT = 2**31 - 1
PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100, "minimum": 1, "maximum": 500}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0, "minimum": 0, "maximum": MAX_INT}},
]
TIME = {"type": "string", "format": "date-time", "example": "2026-11-25T09:30:00+07:00"}
OPTIONAL_TIME = {**TIME, "nullable": True}
VERSION = {"type": "object", "required": ["version", "published_at", "published_by"], "properties": {
    "version": {"type": "integer"}, "published_at": TIME, "published_by": {"type": "string"}}}
KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
VERSION_NOTE = {"name": "note", "in": "query", "description": "what changed and why, kept on the new version "
                "(or the header X-Khanton-Note, UTF-8)", "schema": {"type": "string", "maxLength": 1000}}
ELEMENT_CHANGE = {"type": "object", "properties": {
    "kind": {"type": "string", "enum": ["added", "removed", "changed"]}, "process": {"type": "string"},
    "element": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
    "was": {"type": "string", "nullable": True}, "attributes": {"type": "array", "items": {"type": "string"}},
    "described": {"type": "array", "items": {"type": "string"}}}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Khanton API", "version": "1.0.0",
             "description": "Executable procedures of the ESA office's Policy and Planning Group."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Comparison": {"type": "object", "properties": {
                "key": {"type": "string"}, "from": {"type": "integer"}, "to": {"type": "integer"},
                "added": {"type": "array", "items": ELEMENT_CHANGE},
                "removed": {"type": "array", "items": ELEMENT_CHANGE},
                "changed": {"type": "array", "items": ELEMENT_CHANGE},
                "forms": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"type": "string"}, "form": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "object"}}}}}}},
            "MigrationResults": {"type": "object", "properties": {
                "to": {"type": "integer"}, "dry_run": {"type": "boolean"},
                "results": {"type": "array", "items": {"type": "object", "properties": {
                    "instance": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "refused"]},
                    "reason": {"type": "string"}, "reasons": {"type": "array", "items": {"type": "string"}},
                    "from_version": {"type": "integer"}, "to_version": {"type": "integer"},
                    "revision": {"type": "integer"}, "moved": {"type": "boolean"},
                    "waiting_at": {"type": "array", "items": {"type": "string"}}}}}}},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}},
            "Task": {"type": "object", "required": ["id", "instance", "name", "lane", "process"],
                     "properties": {"id": {"type": "string"}, "instance": {"type": "string"},
                                    "name": {"type": "string"}, "lane": {"type": "string"},
                                    "process": {"type": "string"}, "status": {"type": "string"},
                                    "created_at": TIME, "due_at": OPTIONAL_TIME,
                                    "school": {"type": "string", "nullable": True,
                                               "description": "a school's round: that school's code"}}},
            "TaskDetail": {"allOf": [_ref("Task"), {"type": "object", "properties": {
                "form": {"type": "object"}, "data": {"type": "object"},
                "holder": {"type": "string", "nullable": True,
                           "description": "who has claimed the task, or null: only they complete it"},
                "returned": {"type": "object", "nullable": True, "properties": {
                    "by": {"type": "string"}, "at": TIME, "note": {"type": "string"}},
                    "description": "who returned the work for revision, when and why, when this round "
                                   "follows a return; else null"},
                "draft": {"type": "object", "nullable": True, "properties": {
                    "data": {"type": "object"}, "saved_at": TIME},
                    "description": "the caller's draft of this round (PUT /tasks/{id}/draft), or null"},
                "earlier_rounds": {"type": "array", "description": "a decision's earlier rounds, oldest first",
                                   "items": {"type": "object"}},

                "manual_ref": {"type": "string", "nullable": True,
                               "description": "its section and step in the manual (\"3.4 ขั้นที่ 5\"), or null"}}}]},
            "Attachment": {"type": "object", "required": ["id", "filename", "content_type", "size"], "properties": {
                "id": {"type": "string"}, "instance": {"type": "string"},
                "task": {"type": "string", "nullable": True}, "task_name": {"type": "string", "nullable": True},
                "filename": {"type": "string"}, "content_type": {"type": "string"}, "size": {"type": "integer"},
                "uploaded_by": {"type": "string"}, "uploaded_at": {"type": "string", "format": "date-time"}}},
            "Instance": {"type": "object",
                         "required": ["id", "process", "version", "status", "data", "ready_tasks"],
                         "properties": {"id": {"type": "string"}, "process": {"type": "string"},
                                        "version": {"type": "integer"},
                                        "status": {"type": "string", "enum": list(INSTANCE_STATUSES)},
                                        "started_at": TIME, "updated_at": TIME, "ended_at": OPTIONAL_TIME,
                                        "data": {"type": "object"},
                                        "ready_tasks": {"type": "array", "items": _ref("Task")}}},
            "InstanceSummary": {"type": "object", "properties": {
                "id": {"type": "string"}, "process": {"type": "string"}, "status": {"type": "string"},
                "name": {"type": "string"}, "title": {"type": "string"},
                "fiscal_year": {"type": "integer", "nullable": True}, "started_by": {"type": "string"},
                "started_at": TIME, "updated_at": TIME}},
            "Event": {"type": "object", "required": ["at", "actor", "kind"], "properties": {
                "at": TIME, "actor": {"type": "string"}, "kind": {"type": "string"},
                "task": {"type": "string", "nullable": True},
                "task_name": {"type": "string", "nullable": True},
                "lane": {"type": "string", "nullable": True}}},
            "Process": {"type": "object", "required": ["key", "name", "latest_version", "versions"],
                        "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                                       "latest_version": {"type": "integer"},
                                       "versions": {"type": "array", "items": VERSION}}},
            "ProcessDetail": {"allOf": [_ref("Process"), {"type": "object", "required": ["start_form"], "properties": {
                "start_form": {"type": "object", "required": ["schema"], "properties": {"schema": {
                    "type": "object", "nullable": True,
                    "description": "JSON Schema of the start data (POST /instances `data`); null: none needed"}}}}}]},
        },
    },
    "paths": {
        "/processes": {"get": {"summary": "Published procedures", "responses": {
            "200": _json({"type": "array", "items": _ref("Process")}, "procedures"), **_errors(401)}}},
        "/processes/{key}": {"get": {
            "summary": "One procedure: its versions, and the JSON Schema its start data must meet",
            "parameters": [KEY],
            "responses": {"200": _json(_ref("ProcessDetail"), "procedure"), **_errors(401, 404)}}},
        "/processes/{key}/bpmn": {
            "get": {"summary": "A version's BPMN XML", "parameters": [
                KEY, {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                   "maximum": MAX_INT}}],
                "responses": {"200": {"description": "BPMN XML",
                                      "content": {"application/xml": {"schema": {"type": "string"}}}},
                              **_errors(400, 401, 404)}},
            "put": {"summary": "Publish a new version (analysts)", "parameters": [KEY, VERSION_NOTE],
                    "requestBody": {"required": True, "content": {
                        "application/xml": {"schema": {"type": "string"}}}},
                    "responses": {"201": {"description": "new version"},
                                  "200": {"description": "identical to the latest: no new version"},
                                  **_errors(401, 403, 413, 422, 503)}}},
        "/processes/{key}/versions/{a}/compare/{b}": {"get": {
            "summary": "Compare two versions (analysts): elements added, removed, changed; forms field by field",
            "parameters": [KEY, *({"name": n, "in": "path", "required": True,
                                   "schema": {"type": "integer", "minimum": 1}} for n in ("a", "b"))],
            "responses": {"200": _json(_ref("Comparison"), "the differences"), **_errors(401, 403, 404)}}},
        "/processes/{key}/migrate": {"post": {
            "summary": "Preview (dry_run) or move running instances to another version (analysts); each in its "
                       "own transaction: ok, or refused with the reason and left as it was",
            "parameters": [KEY],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["to", "instances"], "properties": {
                    "to": {"type": "integer", "minimum": 1},
                    "instances": {"type": "array", "maxItems": 500, "items": {"oneOf": [
                        {"type": "string"},
                        {"type": "object", "required": ["id"], "properties": {
                            "id": {"type": "string"},
                            "revision": {"type": "integer", "description": "as previewed: refused if it changed"}}}]}},
                    "dry_run": {"type": "boolean", "default": False}}}}}},
            "responses": {"200": _json(_ref("MigrationResults"), "one result per instance"),
                          **_errors(400, 401, 403, 404, 422)}}},
        "/instances": {
            "get": {"summary": "Instances visible to the caller, newest first", "parameters": [
                {"name": "process", "in": "query", "schema": {"type": "string"}},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(INSTANCE_STATUSES)}},
                {"name": "fiscal_year", "in": "query", "schema": {"type": "integer", "minimum": -MAX_INT,
                                                                  "maximum": MAX_INT}}, *PAGING],
                "responses": {"200": _json({"type": "array", "items": _ref("InstanceSummary")}, "instances"),
                              **_errors(400, 401)}},
            "post": {"summary": "Start a procedure", "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object", "required": ["process"], "properties": {
                    "process": {"type": "string"}, "data": {"type": "object"}}}}}},
                "responses": {"201": _json(_ref("Instance"), "started"), **_errors(400, 401, 403, 404, 422, 503)}}},
        "/instances/{id}": {"get": {"summary": "One instance", "parameters": [ID], "responses": {
            "200": _json(_ref("Instance"), "instance"), **_errors(401, 403, 404)}}},
        "/instances/{id}/timeline": {"get": {"summary": "Events, oldest first", "parameters": [ID],
                                             "responses": {"200": _json({"type": "array",
                                                                         "items": _ref("Event")}, "events"),
                                                           **_errors(401, 403, 404)}}},
        "/tasks": {"get": {"summary": "Ready tasks the caller may complete, newest first", "parameters": [
            {"name": "lane", "in": "query", "schema": {"type": "string"}},
            {"name": "process", "in": "query", "schema": {"type": "string"}}, *PAGING],
            "responses": {"200": _json({"type": "array", "items": _ref("Task")}, "tasks"), **_errors(400, 401)}}},
        "/tasks/{id}": {"get": {"summary": "One task with its form and data", "parameters": [ID],
                                "responses": {"200": _json(_ref("TaskDetail"), "task"),
                                              **_errors(401, 403, 404)}}},
        "/tasks/{id}/complete": {"post": {
            "summary": "Complete a task", "parameters": [ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"data": {"type": "object"}}}}}},
            "responses": {"200": _json(_ref("Instance"), "the instance after the step"),
                          **_errors(400, 401, 403, 404, 409, 422, 503)}}},
        "/tasks/{id}/draft": {"put": {
            "summary": "Keep a draft of the task's form for the caller, without completing the step: not "
                       "validated, except that it must be storable and at most 256 KB; discarded when anyone "
                       "completes the task", "parameters": [ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}}}},
            "responses": {"200": _json({"type": "object", "properties": {"data": {"type": "object"},
                                                                         "saved_at": TIME}}, "the draft kept"),
                          **_errors(400, 401, 403, 404, 409, 413, 422, 503)}}},
        "/tasks/{id}/claim": {"post": {
            "summary": "Take the task: until released or handed over, only the caller completes it or attaches "
                       "to it (409 with code `held` when someone else holds it)", "parameters": [ID],
            "responses": {"200": _json(_ref("TaskDetail"), "the task, `holder` the caller"),
                          **_errors(401, 404, 403, 409, 503)}}},
        "/tasks/{id}/release": {"post": {
            "summary": "Give the task back to its lane (its holder, or the head of the group)", "parameters": [ID],
            "responses": {"200": _json(_ref("TaskDetail"), "the task, `holder` null"),
                          **_errors(401, 404, 403, 409, 503)}}},
        "/tasks/{id}/hand-over": {"post": {
            "summary": "Give the task to a colleague of its lane (its holder, or the head of the group: any task)",
            "parameters": [ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["to"], "properties": {
                    "to": {"type": "string", "description": "username of an officer of the task's lane"},
                    "note": {"type": "string", "maxLength": 1000}}}}}},
            "responses": {"200": _json(_ref("TaskDetail"), "the task, `holder` the colleague"),
                          **_errors(400, 401, 404, 403, 409, 422, 503)}}},
        "/tasks/{id}/attachments": {
            "get": {"summary": "The task's documents", "parameters": [ID], "responses": {
                "200": _json({"type": "array", "items": _ref("Attachment")}, "attachments"),
                **_errors(401, 404, 403)}},
            "post": {"summary": "Attach a document (PDF, PNG, JPG, Office; at most 5 MB) to a ready task the caller "
                                "may work and nobody else holds", "parameters": [ID],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["file"],
                         "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                     "responses": {"201": _json(_ref("Attachment"), "attached"),
                                   **_errors(401, 404, 403, 409, 413, 422, 503)}}},
        "/attachments/{id}": {"get": {
            "summary": "Download a document (for those who may see its instance)", "parameters": [ID],
            "responses": {"200": {"description": "the file, with its type and a Content-Disposition "
                                                 "carrying the name (filename* in UTF-8)",
                                  "content": {"application/octet-stream": {
                                      "schema": {"type": "string", "format": "binary"}}}},
                          **_errors(401, 404, 403)}},
            "delete": {"summary": "Remove a document the caller added, while its task is still open; the "
                                  "timeline records it (kind attachment_removed)", "parameters": [ID],
                       "responses": {"200": _json(_ref("Attachment"), "the document removed"),
                                     **_errors(401, 404, 403, 409)}}},
        "/openapi.json": {"get": {"summary": "This description", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3"}}}},
    },
}

# --- the analyst's editor (issue 8): drafts kept on the server, checking, publishing a draft ---------
DRAFT_ID = {"name": "draft_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT}}
_DRAFT_BODY = {"type": "object", "required": ["xml"], "properties": {
    "xml": {"type": "string", "description": "BPMN XML (at most 5 MB); it may hold problems"},
    "forms": {"type": "object", "description": "form path (<key>/<name>.json) -> JSON Schema, edited beside "
                                               "the diagram; they stand in for files of the forms folder"},
    "note": {"type": "string", "maxLength": 500}}}
OPENAPI["components"]["schemas"].update({
    "DraftSummary": {"type": "object", "required": ["id", "key", "author", "saved_at", "note"], "properties": {
        "id": {"type": "integer"}, "key": {"type": "string"}, "author": {"type": "string"}, "saved_at": TIME,
        "note": {"type": "string"}}},
    "Draft": {"allOf": [_ref("DraftSummary"), {"type": "object", "properties": {
        "xml": {"type": "string"}, "forms": {"type": "object"}}}]},
    "Problems": {"type": "object", "required": ["problems"], "properties": {"problems": {
        "type": "array", "description": "empty: the draft would publish",
        "items": {"type": "object", "required": ["element", "line", "message"], "properties": {
            "element": {"type": "string", "nullable": True}, "line": {"type": "integer", "nullable": True},
            "message": {"type": "string"}}}}}},
})
OPENAPI["paths"].update({
    "/processes/{key}/drafts": {
        "get": {"summary": "Drafts of a procedure, newest first (analysts)", "parameters": [KEY],
                "responses": {"200": _json({"type": "array", "items": _ref("DraftSummary")}, "drafts"),
                              **_errors(401, 403)}},
        "post": {"summary": "Save a draft (analysts); it may hold problems", "parameters": [KEY],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _DRAFT_BODY}}},
                 "responses": {"201": _json({"type": "object", "properties": {"id": {"type": "integer"}}}, "saved"),
                               **_errors(400, 401, 403, 422, 503)}}},
    "/processes/{key}/drafts/{draft_id}": {"get": {
        "summary": "One draft with its XML and forms (analysts)", "parameters": [KEY, DRAFT_ID],
        "responses": {"200": _json(_ref("Draft"), "draft"), **_errors(400, 401, 403, 404)}}},
    "/processes/{key}/validate": {"post": {
        "summary": "Check a draft as publishing would (analysts): every problem with its element and line",
        "parameters": [KEY], "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [_DRAFT_BODY, {"type": "object", "required": ["draft"], "properties": {
                "draft": {"type": "integer", "description": "a saved draft's id"}}}]}}}},
        "responses": {"200": _json(_ref("Problems"), "problems (empty: publishable)"),
                      **_errors(400, 401, 403, 404, 422)}}},
    "/processes/{key}/drafts/{draft_id}/publish": {"post": {
        "summary": "Publish a draft as a new version with its forms (analysts); refused while it has problems; "
                   "written to the audit trail", "parameters": [KEY, DRAFT_ID],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "note": {"type": "string", "maxLength": 500}}}}}},
        "responses": {"201": _json({"type": "object", "properties": {
            "key": {"type": "string"}, "version": {"type": "integer"}, "created": {"type": "boolean"}}}, "published"),
                      "200": {"description": "identical to the latest version: no new one"},
                      **_errors(400, 401, 403, 404, 422, 503)}}},
})

# --- issue 9: admins' repairs and the timeline of steps (web/api/repair.py) ------------------------
_REPAIR_BODY: dict[str, Any] = {"type": "object", "properties": {
    "reason": {"type": "string", "maxLength": 2000, "description": "why; required for suspend, terminate, "
                                                                  "send-back and correct"},
    "revision": {"type": "integer", "description": "the instance's revision the admin saw: 409 if it moved"}}}
_OUTCOME = {"type": "object", "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                                             "revision": {"type": "integer"}, "event": {"type": "string"}}}


def _repair_path(summary: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {**_REPAIR_BODY, "properties": {**_REPAIR_BODY["properties"], **(extra or {})}}
    return {"post": {"summary": summary + " (admin only; recorded on the timeline)", "parameters": [ID],
                     "requestBody": {"content": {"application/json": {"schema": body}}},
                     "responses": {"200": _json(_OUTCOME, "the instance's status and revision after it"),
                                   **_errors(401, 403, 404, 409, 422)}}}


OPENAPI["paths"].update({
    "/instances/{id}/suspend": _repair_path("Suspend a running instance: no completion, no timer until resumed"),
    "/instances/{id}/resume": _repair_path("Resume a suspended instance"),
    "/instances/{id}/terminate": _repair_path("Terminate an instance with a reason; its open rounds are cancelled"),
    "/instances/{id}/send-back": _repair_path("Send the instance back to a step done earlier",
                                              {"step": {"type": "string", "description": "the step's BPMN id"}}),
    "/instances/{id}/correct": _repair_path("Correct one field of the instance's data, validated by its form",
                                            {"field": {"type": "string"}, "value": {}}),
    "/instances/{id}/retry": _repair_path("Run again the automatic steps of an instance in error"),
    "/instances/{id}/steps": {"get": {
        "summary": "Every round of every step: ready, done, waited (office minutes), decision, document numbers, "
                   "attachments; returns for revision as loops", "parameters": [ID],
        "responses": {"200": _json({"type": "object", "properties": {
            "steps": {"type": "array", "items": {"type": "object"}},
            "loops": {"type": "array", "items": {"type": "object"}}}}, "the timeline of steps"),
            **_errors(401, 403, 404)}}},
})

# --- issue 10: answer-by dates of per-school rounds (web/api/answer_by.py) -----------------------------
STEP = {"name": "task_spec", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200},
        "description": "the per-school step's BPMN id"}
OPENAPI["paths"].update({
    "/instances/{id}/rounds": {"get": {
        "summary": "Each per-school step with an answer-by date: its rounds answered, waiting, overdue or late",
        "parameters": [ID],
        "responses": {"200": _json({"type": "array", "items": {"type": "object", "properties": {
            "task_spec": {"type": "string"}, "answer_by": {"type": "string", "nullable": True},
            "may_close": {"type": "boolean"}, "revision": {"type": "integer"},
            "rounds": {"type": "array", "items": {"type": "object"}}}}}, "the steps and their rounds"),
            **_errors(401, 403, 404)}}},
    "/instances/{id}/rounds/{task_spec}/close": {"post": {
        "summary": "After the answer-by date: close the rounds still open (recorded as late) and go on with the "
                   "answers received (the procedure's starting lanes only)", "parameters": [ID, STEP],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "revision": {"type": "integer", "description": "the instance's revision seen: 409 if it moved"}}}}}},
        "responses": {"200": _json({"type": "object", "properties": {"closed": {"type": "integer"}}},
                                   "how many rounds were closed"), **_errors(401, 403, 404, 409, 422)}}},
})
