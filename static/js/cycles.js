// Review-cycle set-up. No inline scripts anywhere (the content security policy forbids
// them); the pages work without this file, it only makes them quicker to use.
(function () {
  "use strict";

  // "Everyone" hides the list of departments; "only the departments chosen" shows it.
  function syncDepartments() {
    var chosen = document.querySelector("input[name='include_everyone']:checked");
    var field = document.querySelector(".field--departments");
    if (!chosen || !field) return;
    var everyone = chosen.value === "1" && !field.classList.contains("field--error");
    field.classList.toggle("is-hidden", everyone);
  }

  // A person ticked among the search results joins the chosen list, so that a new
  // search (which replaces the results) does not lose them.
  function keepTicked(event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.checked) return;
    var found = box.closest("[data-people-found]");
    var chosen = document.querySelector("[data-people-chosen]");
    if (!found || !chosen) return;
    var already = chosen.querySelector("input[value='" + box.value + "']");
    var item = box.closest("li");
    if (already) {
      already.checked = true;
      item.remove();
    } else {
      chosen.appendChild(item);
    }
    var none = document.querySelector("[data-people-none]");
    if (none) none.remove();
  }

  // The phase windows carry both methodologies' names (DMAIC: Define & Measure, Analyse, ...).
  function relabelPhases() {
    var chosen = document.querySelector("select[name='methodology']");
    if (!chosen) return;
    document.querySelectorAll("[data-label-" + chosen.value + "]").forEach(function (heading) {
      heading.textContent = heading.getAttribute("data-label-" + chosen.value);
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.name === "include_everyone") syncDepartments();
    if (event.target instanceof HTMLSelectElement && event.target.name === "methodology") relabelPhases();
    keepTicked(event);
  });
  document.addEventListener("DOMContentLoaded", syncDepartments);
})();
