/* The instance page's diagram: bpmn-js's navigated viewer (drag to move, wheel or pinch to zoom inside
   its box) shows the procedure, and each process it calls on a tab of its own. Elements done, current
   and overdue get the markers k-done, k-current, k-overdue (coloured in css/instance.css); the sequence
   flows taken get k-taken. What to mark comes from /instances/<id>/diagram.json. No inline script:
   the page's CSP forbids it. */
(function () {
  "use strict";

  function mark(viewer, item) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    function add(ids, marker) {
      ids.forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, marker); }
      });
    }
    add(item.completed, "k-done");
    add(item.current, "k-current");
    add(item.overdue, "k-overdue");
    var flows = registry.filter(function (el) { return el.type === "bpmn:SequenceFlow"; });
    function between(a, b) {
      return flows.filter(function (f) {
        return f.businessObject.sourceRef && f.businessObject.targetRef &&
          f.businessObject.sourceRef.id === a && f.businessObject.targetRef.id === b;
      });
    }
    item.flows.forEach(function (pair) {
      var direct = between(pair[0], pair[1]);
      if (direct.length) {
        direct.forEach(function (f) { canvas.addMarker(f.id, "k-taken"); });
        return;
      }
      // A return for revision: from the decision through the gateway after it, back to the step.
      flows.forEach(function (out) {
        if (out.businessObject.sourceRef.id !== pair[0]) { return; }
        var via = out.businessObject.targetRef.id;
        var back = between(via, pair[1]);
        if (back.length) {
          canvas.addMarker(out.id, "k-taken");
          back.forEach(function (f) { canvas.addMarker(f.id, "k-taken"); canvas.addMarker(f.id, "k-loop"); });
        }
      });
    });
  }

  function show(box, tabs, item, index, viewers) {
    var pane = document.createElement("div");
    pane.className = "diagram-pane";
    pane.setAttribute("data-process", item.key);
    pane.setAttribute("role", "tabpanel");
    pane.hidden = index !== 0;
    box.appendChild(pane);
    var tab = document.createElement("button");
    tab.type = "button";
    tab.className = "diagram-tab";
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-selected", index === 0 ? "true" : "false");
    tab.textContent = index === 0 ? item.name : (box.getAttribute("data-called") + ": " + item.name);
    tabs.appendChild(tab);
    var viewer = new window.BpmnJS({ container: pane });
    viewers.push(viewer);
    tab.addEventListener("click", function () {
      box.querySelectorAll(".diagram-pane").forEach(function (p) { p.hidden = p !== pane; });
      tabs.querySelectorAll(".diagram-tab").forEach(function (t) { t.setAttribute("aria-selected", t === tab ? "true" : "false"); });
      viewer.get("canvas").resized();
      viewer.get("canvas").zoom("fit-viewport");
    });
    return viewer.importXML(item.xml).then(function () {
      mark(viewer, item);
      if (!pane.hidden) { viewer.get("canvas").zoom("fit-viewport"); }
      pane.setAttribute("data-ready", "1");
    });
  }

  function start() {
    var box = document.querySelector("[data-diagram-src]");
    if (!box || !window.BpmnJS) { return; }
    var tabs = document.querySelector("[data-diagram-tabs]");
    var status = document.createElement("p");
    status.className = "muted diagram-status";
    status.textContent = box.getAttribute("data-loading");
    box.appendChild(status);
    fetch(box.getAttribute("data-diagram-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (body) {
        status.remove();
        var viewers = [];
        return Promise.all(body.processes.map(function (item, i) { return show(box, tabs, item, i, viewers); }));
      })
      .then(function () { box.setAttribute("data-diagram-ready", "1"); })
      .catch(function () {
        status.textContent = box.getAttribute("data-failed");
        box.setAttribute("data-diagram-ready", "failed");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
