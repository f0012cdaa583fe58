// The appraisal-form builder: live weight totals and the results/process balance bar,
// moving rows without a reload, drag-and-drop reordering, and confirmations.
// No inline scripts or styles (the content security policy forbids them): widths are
// set through the CSSOM. Every page works without this file; the server is the authority.
(function () {
  "use strict";

  var builder = null; // the builder's main form, when the page has one
  var dirty = false; // typed changes in it that are not saved yet

  // ---------------------------------------------------------------- helpers

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (ignored) { /* fall back to the form's hidden input */ }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(message) {
    var region = document.getElementById("fb-announce");
    if (!region) return;
    region.textContent = "";
    // A fresh text node after a tick, so that the same message twice is read twice.
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  function showError(list, message, reload) {
    var box = list.parentNode.querySelector("[data-fb-error]");
    if (!box) {
      box = document.createElement("div");
      box.className = "alert alert--error fb-live-error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-fb-error", "");
      list.parentNode.insertBefore(box, list);
    }
    box.textContent = message + " ";
    if (reload) {
      var link = document.createElement("a");
      link.href = builderUrl(); // the builder, whichever URL showed this page
      link.textContent = "Reload the page";
      box.appendChild(link);
    }
  }

  function clearError(list) {
    var box = list.parentNode.querySelector("[data-fb-error]");
    if (box) box.parentNode.removeChild(box);
  }

  // Read as an attribute: form.action would be the form's controls named "action" (its buttons).
  function builderUrl() {
    return document.getElementById("fb-rows").getAttribute("action");
  }

  // POST to the builder and read its JSON answer. The rows form carries the CSRF token and version.
  function post(fields) {
    var rowsForm = document.getElementById("fb-rows");
    var data = new FormData(rowsForm);
    fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    return fetch(builderUrl(), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  // Every form on the page posts the draft's version: after a save, they all carry the new one.
  function setVersion(version) {
    document.querySelectorAll("input[name=version]").forEach(function (input) {
      input.value = String(version);
    });
  }

  function items(list) {
    return Array.prototype.filter.call(list.children, function (el) { return el.hasAttribute("data-sortable-item"); });
  }

  function ids(list) {
    return items(list).map(function (el) { return el.getAttribute("data-id"); });
  }

  // Number the rows and switch off "Move up" on the first and "Move down" on the last.
  function refresh(list) {
    var rows = items(list);
    rows.forEach(function (row, index) {
      var position = row.querySelector("[data-position]");
      if (position) position.textContent = String(index + 1);
      var up = row.querySelector("[data-move=up]");
      var down = row.querySelector("[data-move=down]");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === rows.length - 1;
    });
  }

  // Put the rows in this order, moving as few of them as possible.
  function applyOrder(list, order) {
    var byId = {};
    items(list).forEach(function (el) { byId[el.getAttribute("data-id")] = el; });
    order.map(String).forEach(function (id, index) {
      var el = byId[id];
      var current = items(list)[index];
      if (el && current !== el) list.insertBefore(el, current || null);
    });
    refresh(list);
  }

  function flash(row) {
    row.classList.add("fb-row--moved");
    window.setTimeout(function () { row.classList.remove("fb-row--moved"); }, 900);
  }

  // ---------------------------------------------------------------- moving a row by its buttons

  function moveByButton(button) {
    var row = button.closest("[data-sortable-item]");
    var list = row && row.parentNode;
    if (!list) return false;
    var direction = button.getAttribute("data-move");
    button.setAttribute("aria-busy", "true");
    post([["action", button.value]]).then(function (answer) {
      button.removeAttribute("aria-busy");
      if (!answer.ok) {
        showError(list, answer.body.error || "The row could not be moved.", answer.status === 409);
        announce(answer.body.error || "The row could not be moved.");
        return;
      }
      clearError(list);
      setVersion(answer.body.version);
      applyOrder(list, answer.body.order);
      flash(row);
      // Keep the keyboard where it was; at either end, on the row's other move button.
      var target = button.disabled ? row.querySelector("[data-move=" + (direction === "up" ? "down" : "up") + "]") : button;
      if (target && !target.disabled) target.focus();
      announce(answer.body.message);
    }).catch(function () {
      button.removeAttribute("aria-busy");
      showError(list, "The connection failed, so the row was not moved.", true);
    });
    return true;
  }

  // ---------------------------------------------------------------- drag and drop

  function setUpSortable(list) {
    var kind = list.getAttribute("data-sortable");
    var dragged = null;
    var before = null;

    list.addEventListener("dragstart", function (event) {
      var handle = event.target.closest ? event.target.closest("[data-drag-handle]") : null;
      if (!handle || !list.contains(handle)) return;
      dragged = handle.closest("[data-sortable-item]");
      before = ids(list);
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.getAttribute("data-id"));
      if (event.dataTransfer.setDragImage) event.dataTransfer.setDragImage(dragged, 16, 16);
      dragged.classList.add("fb-row--dragging");
    });

    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var over = event.target.closest ? event.target.closest("[data-sortable-item]") : null;
      if (!over || over === dragged || over.parentNode !== list) return;
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });

    list.addEventListener("drop", function (event) {
      if (dragged) event.preventDefault();
    });

    list.addEventListener("dragend", function () {
      if (!dragged) return;
      var row = dragged;
      dragged = null;
      row.classList.remove("fb-row--dragging");
      var order = ids(list);
      if (order.join(",") === before.join(",")) return;
      refresh(list);
      var fields = [["action", kind === "questions" ? "reorder_questions" : "reorder_competencies"]];
      order.forEach(function (id) { fields.push(["order", id]); });
      var name = row.getAttribute("data-name") || "The row";
      post(fields).then(function (answer) {
        if (!answer.ok) {
          applyOrder(list, before);
          showError(list, answer.body.error || "The new order was not saved.", answer.status === 409);
          announce(answer.body.error || "The new order was not saved.");
          return;
        }
        clearError(list);
        setVersion(answer.body.version);
        applyOrder(list, answer.body.order);
        flash(row);
        var position = answer.body.order.map(String).indexOf(row.getAttribute("data-id")) + 1;
        announce(name + " moved to position " + position + " of " + answer.body.order.length + ".");
      }).catch(function () {
        applyOrder(list, before);
        showError(list, "The connection failed, so the new order was not saved.", true);
      });
    });
  }

  // ---------------------------------------------------------------- live totals and the balance

  function number(input) {
    var value = parseInt(input && input.value, 10);
    return isNaN(value) ? 0 : value;
  }

  function showTotal(kind, value) {
    var box = document.querySelector("[data-total=" + kind + "]");
    if (!box) return;
    var state = value === 100 ? "ok" : (value < 100 ? "short" : "over");
    box.querySelector("[data-total-value]").textContent = String(value);
    box.classList.remove("fb-total--ok", "fb-total--short", "fb-total--over");
    box.classList.add("fb-total--" + state);
    box.querySelector("[data-total-state]").textContent =
      state === "ok" ? "adds up" : Math.abs(100 - value) + (state === "short" ? " short" : " over");
  }

  function drawBalance(panel, results, process) {
    if (!panel) return;
    var floor = parseInt(panel.getAttribute("data-floor"), 10) || 0;
    var total = results + process;
    var processShare = total > 0 ? Math.max(0, Math.min(100, (process / total) * 100)) : 0;
    var bar = panel.querySelector("[data-balance-bar]");
    bar.hidden = false;
    panel.querySelector("[data-balance-process]").style.width = processShare + "%";
    panel.querySelector("[data-balance-results]").style.width = (total > 0 ? 100 - processShare : 100) + "%";
    panel.querySelector("[data-balance-floor]").style.left = Math.min(floor, 100) + "%";
    panel.querySelector("[data-balance-results-text]").textContent = String(results);
    panel.querySelector("[data-balance-process-text]").textContent = String(process);
    var low = process < floor;
    panel.classList.toggle("fb-balance--low", low);
    panel.querySelector("[data-balance-warning]").hidden = !low;
    panel.querySelector("[data-balance-ok]").hidden = low;
  }

  function recompute() {
    var goals = number(builder.querySelector("[data-weight=goals]"));
    var competencies = number(builder.querySelector("[data-weight=competencies]"));
    showTotal("sections", goals + competencies);
    var rows = builder.querySelectorAll("[data-weight=competency]");
    if (rows.length) {
      var sum = 0;
      rows.forEach(function (input) { sum += number(input); });
      showTotal("competencies", sum);
    }
    drawBalance(document.querySelector("[data-balance]"), goals, competencies);
  }

  function setUpBuilder(form) {
    builder = form;
    var note = document.querySelector("[data-dirty-note]");
    form.addEventListener("input", function (event) {
      // Fields of the "add" forms sit inside the builder's markup but belong to their own forms.
      if (event.target.form !== form) return;
      dirty = true;
      if (note) note.hidden = false;
      recompute();
    });
    form.addEventListener("change", function (event) {
      if (event.target.form !== form) return;
      dirty = true;
      if (note) note.hidden = false;
    });
    recompute();
  }

  // ---------------------------------------------------------------- submitting

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter || null;
    var question = (submitter && submitter.getAttribute("data-fb-confirm")) || form.getAttribute("data-fb-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.id === "fb-rows" && submitter && submitter.hasAttribute("data-move")) {
      // Moving a row needs no reload, so nothing typed is lost.
      if (moveByButton(submitter)) event.preventDefault();
      return;
    }
    if (dirty && builder && form !== builder && (form.getAttribute("method") || "").toLowerCase() === "post") {
      var leave = window.confirm("You have changes in the builder that are not saved. Continue without them?");
      if (!leave) event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-fb-builder]");
    if (form) setUpBuilder(form);
    document.querySelectorAll("[data-balance]").forEach(function (panel) {
      if (panel.closest(".fb-layout") && form) return; // drawn by recompute() from the typed weights
      drawBalance(
        panel,
        parseInt(panel.querySelector("[data-balance-results-text]").textContent, 10) || 0,
        parseInt(panel.querySelector("[data-balance-process-text]").textContent, 10) || 0
      );
    });
    document.querySelectorAll("[data-sortable]").forEach(setUpSortable);
  });
})();
