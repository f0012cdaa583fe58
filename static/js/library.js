// The competency library and rating scale forms: "Add a level" without a round trip.
// Without JavaScript the button submits the form, and the server draws it again with
// one more level; with it, the level is added here. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  if (window.throughlineLibrary) return; // loaded twice (page and base template): set up once
  window.throughlineLibrary = true;

  function setUpLevels(container) {
    var button = container.querySelector("[data-add-level]");
    var list = container.querySelector("[data-levels-list]");
    var template = container.querySelector("template[data-levels-template]");
    if (!button || !list || !template) return;
    var max = parseInt(container.getAttribute("data-max-levels"), 10) || 10;
    var prefix = container.getAttribute("data-prefix"); // set for a Django formset (rating scale levels)
    var total = prefix ? container.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]') : null;

    function count() {
      return list.children.length;
    }

    function refresh() {
      button.hidden = count() >= max;
    }

    button.addEventListener("click", function (event) {
      if (count() >= max) return;
      event.preventDefault();
      var number = count() + 1;
      var html = template.innerHTML.replace(/__N__/g, String(number));
      if (prefix) {
        // A formset row: its index is the current total; the total then grows by one.
        html = html.replace(/__prefix__/g, total.value);
        total.value = String(parseInt(total.value, 10) + 1);
      }
      list.insertAdjacentHTML("beforeend", html.trim());
      var added = list.lastElementChild;
      var first = added && added.querySelector("input:not([type=checkbox]), textarea");
      if (first) first.focus();
      refresh();
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-levels], [data-formset]").forEach(setUpLevels);
  });
})();
