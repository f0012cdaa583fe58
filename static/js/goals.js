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
})();
