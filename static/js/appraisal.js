// Appraisal, check-in and development-plan pages. No inline scripts anywhere (the
// content security policy forbids them), so behaviour hooks in from here; every page
// works without it (the Save button posts the form the ordinary way).
//
// The appraisal form saves itself: htmx posts it to appraisal_save on change
// (hx-post / hx-trigger on the form) and swaps the small status region; the
// response carries the record's new version as an out-of-band swap of the hidden
// version field. What this file adds:
//   - 400 and 409 answers are swapped too (htmx leaves error responses alone by
//     default), so "Not saved: …" reaches the status region while the typed text
//     stays in the form untouched;
//   - "Saving…" while a request is on its way, and a plain message if the server
//     cannot be reached;
//   - after a conflict, a button that takes the stored version and saves the
//     person's text over the other change (a deliberate overwrite);
//   - a warning before leaving the page with changes not yet saved;
//   - data-confirm on a submit button asks before that button submits;
//   - data-print buttons print the page.
(function () {
  "use strict";

  // Refusals with a message for the status region: invalid (400), not allowed (403), stale (409).
  var SAVE_STATUSES = [400, 403, 409];

  function autosaveForm(elt) {
    return elt && elt.closest ? elt.closest("form[data-autosave]") : null;
  }

  function statusRegion(form) {
    var id = form.getAttribute("data-status");
    return id ? document.getElementById(id) : null;
  }

  function say(form, text, state) {
    var region = statusRegion(form);
    if (!region) return;
    region.replaceChildren();
    var p = document.createElement("p");
    p.className = "save-status__text save-status__text--" + state;
    p.textContent = text;
    region.appendChild(p);
  }

  // Unsaved changes, per autosave form: set on input, cleared by a successful save.
  var dirty = new WeakSet();
  var forms = [];

  document.addEventListener("input", function (event) {
    var form = autosaveForm(event.target);
    if (!form) return;
    dirty.add(form);
    if (forms.indexOf(form) === -1) forms.push(form);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = autosaveForm(event.detail.elt);
    if (form && event.detail.elt === form) {
      form.setAttribute("aria-busy", "true");
      var region = statusRegion(form);
      // Keep a conflict message on screen: it still applies until the person acts on it.
      if (region && !region.querySelector("[data-conflict]")) say(form, "Saving…", "saving");
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = autosaveForm(event.detail.elt);
    if (form && SAVE_STATUSES.indexOf(event.detail.xhr.status) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = autosaveForm(event.detail.elt);
    if (!form || event.detail.elt !== form) return;
    form.removeAttribute("aria-busy");
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 300) dirty.delete(form);
  });

  function unreachable(event) {
    var form = autosaveForm(event.detail.elt);
    if (!form) return;
    form.removeAttribute("aria-busy");
    say(
      form,
      "Not saved: the server could not be reached. Your text is kept here; it is saved with your next change, or use Save.",
      "error"
    );
  }
  document.addEventListener("htmx:sendError", unreachable);
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (SAVE_STATUSES.indexOf(status) === -1) unreachable(event);
  });

  // After a conflict: take the stored version and save again, replacing the other change.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-overwrite-version]") : null;
    if (!button) return;
    var form = document.getElementById(button.getAttribute("data-form"));
    if (!form) return;
    var field = form.querySelector("input[name='version']");
    if (field) field.value = button.getAttribute("data-overwrite-version");
    var region = statusRegion(form);
    if (region) region.replaceChildren();
    if (window.htmx) window.htmx.trigger(form, "tl:save");
  });

  window.addEventListener("beforeunload", function (event) {
    var pending = forms.some(function (form) {
      var region = statusRegion(form);
      return form.isConnected && (dirty.has(form) || (region && region.querySelector("[data-conflict]")));
    });
    if (pending) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // A full-page submit (Save, or an action button) carries the text with it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter;
    var question = submitter && submitter.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    dirty.delete(form);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) window.print();
  });
})();
