/* Before a return for revision or a rejection is sent, the page asks to confirm it, showing the
   choice and the reason. Progressive enhancement only: without this file the form is sent as it is,
   and the engine alone decides whether it is complete (a return or a rejection needs a reason). */
(function () {
  "use strict";

  var ASK = { returned: true, rejected: true };

  function choiceLabel(form, value) {
    var input = form.querySelector('input[name="decision"][value="' + value + '"]');
    if (input) {
      var label = form.querySelector('label[for="' + input.id + '"]') || input.closest("label");
      if (label) { return label.textContent.trim(); }
    }
    var option = form.querySelector('select[name="decision"] option[value="' + value + '"]');
    return option ? option.textContent.trim() : value;
  }

  // Capture, before app.js marks the form as sent: a cancelled confirmation must leave it sendable.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm-decision")) { return; }
    var submitter = event.submitter;
    if (!submitter || submitter.name !== "_submit") { return; }  // a draft is no decision
    if (form.dataset.confirmed) { delete form.dataset.confirmed; return; }
    var field = form.elements.namedItem("decision");
    var value = field ? field.value : "";
    var note = form.elements.namedItem("note");
    var reason = note && note.value ? note.value.trim() : "";
    // Without a reason the engine refuses it, naming the field: nothing to confirm yet.
    if (!ASK[value] || !reason) { return; }
    var dialog = document.getElementById("confirm-decision");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    dialog.querySelector("[data-confirm-choice]").textContent = choiceLabel(form, value);
    dialog.querySelector("[data-confirm-reason]").textContent = reason;
    dialog.querySelector("[data-confirm-yes]").onclick = function () {
      dialog.close();
      form.dataset.confirmed = "1";
      form.requestSubmit(submitter);
    };
    dialog.querySelector("[data-confirm-no]").onclick = function () {
      dialog.close();
      var first = form.querySelector('[name="decision"]');
      if (first) { first.focus(); }
    };
    dialog.showModal();
    dialog.querySelector("[data-confirm-no]").focus();
  }, true);
})();
