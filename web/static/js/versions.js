// The versions page: draw the two compared versions with bpmn-js's viewer and colour what changed
// (added on the newer, removed on the older, changed on both). No inline script: the CSP forbids it.
(function () {
  "use strict";

  function ids(section, name) {
    return (section.dataset[name] || "").split(" ").filter(function (id) { return id; });
  }

  function mark(viewer, list, marker) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    var done = 0;
    list.forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
        done += 1;
      }
    });
    return done;
  }

  function draw(section, container, status) {
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.dataset.url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        viewer.get("canvas").zoom("fit-viewport");
        var count = 0;
        if (container.dataset.side === "older") {
          count += mark(viewer, ids(section, "removed"), "diff-removed");
          count += mark(viewer, ids(section, "changedWas").concat(ids(section, "changed")), "diff-changed");
        } else {
          count += mark(viewer, ids(section, "added"), "diff-added");
          count += mark(viewer, ids(section, "changed"), "diff-changed");
        }
        container.dataset.markers = String(count);
        container.classList.add("drawn");
      })
      .catch(function () {
        status.textContent = section.dataset.failed || "วาดแผนภาพไม่สำเร็จ ดูรายการความเปลี่ยนแปลงด้านล่างแทน";
      });
  }

  function init() {
    var section = document.getElementById("comparison");
    if (!section || !window.BpmnJS) { return; }
    var status = document.getElementById("diagram-status");
    section.querySelectorAll(".diagram").forEach(function (container) { draw(section, container, status); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
