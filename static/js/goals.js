// Goal pages. No inline scripts anywhere (the content security policy forbids them),
// so behaviour hooks in from here; every page works without it.
(function () {
  "use strict";

  // A form with data-confirm asks before it submits (e.g. cancelling a goal).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // A search box shortens a long <select> (the owner picker): options that do not
  // match every typed word are hidden; the select itself stays the form field.
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains("js-filter-select")) return;
    var select = document.getElementById(box.getAttribute("data-select"));
    if (!select) return;
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var text = option.textContent.toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      option.hidden = !match;
      if (match && first === null) first = option;
    });
    if (first && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) {
      first.selected = true;
    }
  });

  // "Show more goals" in a goal tree is replaced by the goals it loads (htmx, outerHTML): focus
  // would fall back to the page's start, so it moves to the first goal that came in instead.
  var loadedAfter = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("goal-tree__more")) {
      loadedAfter = { list: target.parentElement, previous: target.previousElementSibling };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!loadedAfter) return;
    var first = loadedAfter.previous ? loadedAfter.previous.nextElementSibling : loadedAfter.list.firstElementChild;
    loadedAfter = null;
    var link = first && first.querySelector("a, summary, button");
    if (link) link.focus();
  });
})();
