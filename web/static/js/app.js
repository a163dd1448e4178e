/* Progressive enhancement only: every page works without this file.
   - line-item tables: add / remove rows in the page (without JS the buttons post the form back)
   - Buddhist-era dates: a calendar button fills d/m/yyyy (พ.ศ.)
   - a form is sent once: the submit button is disabled after the first click */
(function () {
  "use strict";

  function renumber(fieldset) {
    var name = fieldset.getAttribute("data-table");
    var rows = fieldset.querySelectorAll("tbody tr[data-row]");
    rows.forEach(function (row, i) {
      var num = row.querySelector(".rownum");
      if (num) { num.textContent = String(i + 1); }
      // Inputs only: the row's remove button carries name="_remove_row" for pages without JavaScript.
      row.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (input) {
        var rest = input.name.slice(name.length + 1).replace(/^(\d+|__INDEX__)/, "");
        input.name = name + "." + i + rest;
        input.id = "f-" + input.name.replace(/\./g, "-");
        var label = input.getAttribute("aria-label");
        if (label !== null) { input.setAttribute("aria-label", label.replace(/\s*(แถวที่|row)\s*\d*$/, "") + " แถวที่ " + (i + 1)); }
      });
      var remove = row.querySelector("[data-remove-row]");
      if (remove) { remove.type = "button"; }
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var add = target.closest("[data-add-row]");
    var remove = target.closest("[data-remove-row]");
    if (add) {
      event.preventDefault();
      var fieldset = add.closest("[data-table]");
      var template = fieldset.querySelector("template[data-row-template]");
      var row = template.content.firstElementChild.cloneNode(true);
      fieldset.querySelector("tbody").appendChild(row);
      renumber(fieldset);
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
      enhanceDates(row);
    } else if (remove) {
      event.preventDefault();
      var set = remove.closest("[data-table]");
      var tr = remove.closest("tr");
      tr.parentNode.removeChild(tr);
      renumber(set);
      var addButton = set.querySelector("[data-add-row]");
      if (addButton) { addButton.focus(); }
    }
  });

  document.querySelectorAll("[data-table]").forEach(renumber);

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function enhanceDates(root) {
    root.querySelectorAll("input[data-be-date]").forEach(function (input) {
      if (input.dataset.enhanced) { return; }
      input.dataset.enhanced = "1";
      var picker = document.createElement("input");
      picker.type = "date";
      if (picker.type !== "date" || typeof picker.showPicker !== "function") { return; }
      picker.tabIndex = -1;
      picker.setAttribute("aria-hidden", "true");
      picker.className = "date-pick-native";  /* a class, not an inline style: the CSP allows none */
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button small ghost date-pick";
      button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2"><rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/></svg>';
      button.setAttribute("aria-label", "เลือกวันที่จากปฏิทิน");
      button.addEventListener("click", function () {
        var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(input.value.trim());
        if (m) { picker.value = (Number(m[3]) - 543) + "-" + pad(Number(m[2])) + "-" + pad(Number(m[1])); }
        picker.showPicker();
      });
      picker.addEventListener("change", function () {
        var p = /^(\d{4})-(\d{2})-(\d{2})$/.exec(picker.value);
        if (p) { input.value = p[3] + "/" + p[2] + "/" + (Number(p[1]) + 543); input.dispatchEvent(new Event("change")); }
      });
      input.parentNode.appendChild(button);
      input.parentNode.appendChild(picker);
    });
  }
  enhanceDates(document);

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var submitter = event.submitter;
      if (submitter && submitter.name === "_submit") {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = submitter.name; keep.value = submitter.value;
        form.appendChild(keep);
        window.setTimeout(function () { submitter.disabled = true; }, 0);
      }
    });
  });

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
