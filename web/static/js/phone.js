/* Progressive enhancement for small screens and long texts; every page works without this file.
   - the header folds behind a menu button on narrow screens (web/static/css/phone.css)
   - a textarea with a length limit shows how many characters are left, as one types */
(function () {
  "use strict";

  var header = document.querySelector(".topbar");
  var toggle = header && header.querySelector(".menu-toggle");
  if (header && toggle) {
    header.classList.add("js-menu");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var first = header.querySelector(".topbar-menu input, .topbar-menu a");
        if (first) { first.focus(); }
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("open")) {
        header.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  // Characters as a person counts them: a Thai vowel or tone mark over a consonant is its own code
  // point, and maxlength counts UTF-16 units, so the counter counts the same units the browser limits.
  function counter(area) {
    var limit = Number(area.getAttribute("maxlength"));
    if (!limit || area.dataset.counted) { return; }
    area.dataset.counted = "1";
    var out = document.createElement("span");
    out.className = "char-count";
    out.id = (area.id || "textarea") + "-count";
    out.setAttribute("aria-live", "polite");
    var described = area.getAttribute("aria-describedby");
    area.setAttribute("aria-describedby", (described ? described + " " : "") + out.id);
    area.insertAdjacentElement("afterend", out);
    function update() {
      var used = area.value.length;
      out.textContent = "พิมพ์แล้ว " + used.toLocaleString("th-TH") + " จาก " + limit.toLocaleString("th-TH")
        + " ตัวอักษร (เหลือ " + Math.max(0, limit - used).toLocaleString("th-TH") + ")";
      out.classList.toggle("near", used >= limit * 0.9 && used < limit);
      out.classList.toggle("full", used >= limit);
    }
    area.addEventListener("input", update);
    update();
  }
  document.querySelectorAll("textarea[maxlength]").forEach(counter);
})();
