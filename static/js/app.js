// Page behaviour shared by every screen. No inline scripts anywhere: the
// content security policy forbids them, so everything hooks in from here.
(function () {
  "use strict";

  function setUpNavToggle() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      nav.classList.toggle("site-nav--open", !open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("site-nav--open");
        toggle.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setUpNavToggle);
})();
