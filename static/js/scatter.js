// Scatter plots for the correlation analysis (templates/audits/correlation/), drawn as inline SVG.
// Only HR admins get the points (audits.access.can_see_individual_scores): each is one person's
// exact score; other readers get ρ and its interval (templates/audits/correlation/_interval.html).
//
// A template embeds a plot as an element that names a JSON data block:
//
//   <div class="corr-chart" data-scatter data-scatter-source="scatter-org-person"></div>
//   {{ chart|json_script:"scatter-org-person" }}
//
// The data: { title, summary, x_label, y_label, unit: "person" | "department",
//             points: [[x, y], …] or, for departments, [[x, y, "name"], …] }.
//
// As in charts.js: the content security policy forbids inline script and style, so every node is
// built with createElementNS, colours come from static/css/correlation.css, and nothing writes a
// style attribute. Plots are drawn on page load, after every htmx swap, and again when their width
// changes. People are never named: their points are decoration for sighted readers, summed up in
// the SVG's description and in the table under the plot. Departments are named: each of their
// points can be reached with the keyboard (Tab to the plot, then the arrow keys), and says which
// department it is and its two values.
(() => {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const HEIGHT = 320;
  const MARGIN = { top: 14, right: 16, bottom: 52, left: 58 };
  const states = new Map(); // plot element -> its drawing state
  let uid = 0;

  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const px = (v) => Math.round(v * 10) / 10;
  const nf = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
  const fmt = (v) => nf.format(v).replace("-", "\u2212");

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach((name) => {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      node.setAttribute(name, value === true ? "" : String(value));
    });
    return node;
  }

  function svg(tag, attrs, text) {
    const node = setAttrs(document.createElementNS(SVG_NS, tag), attrs);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function html(tag, attrs, text) {
    const node = setAttrs(document.createElement(tag), attrs);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // Both axes are percentages or 0–100 scores: show 0–100 unless a value falls outside it.
  function axis(values) {
    let lo = Math.min(0, ...values);
    let hi = Math.max(100, ...values);
    const step = hi - lo > 150 ? 50 : 20;
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const ticks = [];
    for (let v = lo; v <= hi; v += step) ticks.push(v);
    return { lo, hi, ticks };
  }

  function readData(element) {
    const id = element.getAttribute("data-scatter-source");
    const source = id && document.getElementById(id);
    if (!source) throw new Error("no data block #" + id);
    const data = JSON.parse(source.textContent);
    const points = (Array.isArray(data.points) ? data.points : [])
      .filter((p) => Array.isArray(p) && isNum(p[0]) && isNum(p[1]))
      .map((p) => ({ x: p[0], y: p[1], name: typeof p[2] === "string" ? p[2] : "" }));
    return {
      title: String(data.title || "Scatter plot"),
      summary: String(data.summary || ""),
      xLabel: String(data.x_label || ""),
      yLabel: String(data.y_label || ""),
      named: data.unit === "department",
      points,
    };
  }

  function draw(state) {
    const { model, plot } = state;
    const width = Math.round(plot.clientWidth);
    if (!width) return; // hidden; the observer draws it when it appears
    state.width = width;
    const focused = state.svg && state.svg.contains(document.activeElement) ? state.current : null;
    if (state.svg) state.svg.remove();

    const left = MARGIN.left;
    const right = width - MARGIN.right;
    const top = MARGIN.top;
    const bottom = HEIGHT - MARGIN.bottom;
    const xs = axis(model.points.map((p) => p.x));
    const ys = axis(model.points.map((p) => p.y));
    const x = (v) => left + ((v - xs.lo) / (xs.hi - xs.lo)) * (right - left);
    const y = (v) => bottom - ((v - ys.lo) / (ys.hi - ys.lo)) * (bottom - top);

    const root = svg("svg", {
      class: "corr-scatter__svg",
      viewBox: "0 0 " + width + " " + HEIGHT,
      width,
      height: HEIGHT,
      role: "group",
      "aria-labelledby": state.ids.title,
      "aria-describedby": state.ids.desc,
      focusable: "false",
    });
    root.appendChild(svg("title", { id: state.ids.title }, model.title));
    root.appendChild(svg("desc", { id: state.ids.desc }, model.summary));

    // Grid, ticks and axis titles: for sighted readers; the table carries the numbers.
    const axes = svg("g", { class: "corr-scatter__axes", "aria-hidden": "true" });
    xs.ticks.forEach((t) => {
      const tx = px(x(t));
      axes.appendChild(svg("line", { class: "corr-scatter__grid", x1: tx, x2: tx, y1: top, y2: bottom }));
      axes.appendChild(svg("text", { class: "corr-scatter__tick", x: tx, y: bottom + 16, "text-anchor": "middle" }, fmt(t)));
    });
    ys.ticks.forEach((t) => {
      const ty = px(y(t));
      axes.appendChild(svg("line", { class: "corr-scatter__grid", x1: left, x2: right, y1: ty, y2: ty }));
      axes.appendChild(svg("text", { class: "corr-scatter__tick", x: left - 8, y: ty, dy: "0.32em", "text-anchor": "end" }, fmt(t)));
    });
    axes.appendChild(svg("line", { class: "corr-scatter__axis", x1: left, x2: right, y1: bottom, y2: bottom }));
    axes.appendChild(svg("line", { class: "corr-scatter__axis", x1: left, x2: left, y1: top, y2: bottom }));
    axes.appendChild(
      svg("text", { class: "corr-scatter__label", x: px((left + right) / 2), y: HEIGHT - 10, "text-anchor": "middle" }, model.xLabel)
    );
    const yMid = px((top + bottom) / 2);
    axes.appendChild(
      svg(
        "text",
        { class: "corr-scatter__label", x: 14, y: yMid, "text-anchor": "middle", transform: "rotate(-90 14 " + yMid + ")" },
        model.yLabel
      )
    );
    root.appendChild(axes);

    const layer = svg("g", { class: "corr-scatter__points" });
    state.nodes = [];
    if (model.named) {
      // Left to right, so the arrow keys move along the x axis.
      const ordered = model.points.slice().sort((a, b) => a.x - b.x || a.y - b.y);
      ordered.forEach((p, i) => {
        const label = p.name + ": " + model.xLabel + " " + fmt(p.x) + ", " + model.yLabel + " " + fmt(p.y);
        const g = svg("g", { class: "corr-scatter__point", role: "img", tabindex: i === state.current ? "0" : "-1", "aria-label": label });
        g.appendChild(svg("title", {}, label));
        g.appendChild(svg("circle", { class: "corr-scatter__halo", cx: px(x(p.x)), cy: px(y(p.y)), r: 9 }));
        g.appendChild(svg("circle", { class: "corr-scatter__dot corr-scatter__dot--named", cx: px(x(p.x)), cy: px(y(p.y)), r: 5 }));
        layer.appendChild(g);
        state.nodes.push(g);
      });
    } else {
      layer.setAttribute("aria-hidden", "true");
      const r = model.points.length > 2000 ? 1.6 : model.points.length > 300 ? 2.4 : 3.5;
      const many = model.points.length > 300 ? " corr-scatter__dot--many" : "";
      model.points.forEach((p) => {
        layer.appendChild(svg("circle", { class: "corr-scatter__dot" + many, cx: px(x(p.x)), cy: px(y(p.y)), r }));
      });
    }
    root.appendChild(layer);
    state.svg = root;
    plot.appendChild(root);
    if (focused !== null && state.nodes[focused]) state.nodes[focused].focus({ preventScroll: true });
  }

  function move(state, to) {
    const n = state.nodes.length;
    if (!n) return;
    state.current = Math.max(0, Math.min(n - 1, to));
    state.nodes.forEach((node, i) => node.setAttribute("tabindex", i === state.current ? "0" : "-1"));
    state.nodes[state.current].focus();
  }

  function wire(state) {
    state.plot.addEventListener("keydown", (event) => {
      const pos = state.nodes.indexOf(event.target);
      if (pos < 0) return;
      const moves = { ArrowRight: pos + 1, ArrowDown: pos + 1, ArrowLeft: pos - 1, ArrowUp: pos - 1, Home: 0, End: state.nodes.length - 1 };
      if (event.key in moves) {
        event.preventDefault();
        move(state, moves[event.key]);
      }
    });
    state.plot.addEventListener("focusin", (event) => {
      const pos = state.nodes.indexOf(event.target);
      if (pos >= 0) state.current = pos;
    });
  }

  function destroy(element) {
    const state = states.get(element);
    if (!state) return;
    if (state.observer) state.observer.disconnect();
    if (state.inner && state.inner.parentNode === element) state.inner.remove();
    states.delete(element);
  }

  function render(element) {
    destroy(element);
    let model;
    try {
      model = readData(element);
    } catch (error) {
      console.warn("Throughline scatter plot not drawn:", error.message);
      return null;
    }
    const prefix = "corr-scatter-" + (uid += 1);
    const inner = html("div", { class: "corr-scatter", "data-scatter-generated": "" });
    const plot = html("div", { class: "corr-scatter__plot" });
    inner.appendChild(plot);
    if (model.named) {
      inner.appendChild(html("p", { class: "corr-scatter__hint muted" }, "Tab to the plot, then use the arrow keys to go from department to department."));
    }
    element.appendChild(inner);
    element.classList.add("corr-chart--ready");
    const state = { element, model, plot, inner, ids: { title: prefix + "-title", desc: prefix + "-desc" }, current: 0, nodes: [], width: 0 };
    states.set(element, state);
    if (!model.points.length) return element;
    wire(state);
    draw(state);
    if (typeof ResizeObserver === "function") {
      state.observer = new ResizeObserver((entries) => {
        const width = Math.round(entries[entries.length - 1].contentRect.width);
        if (!width || width === state.width) return;
        clearTimeout(state.timer);
        state.timer = setTimeout(() => draw(state), state.width ? 120 : 0);
      });
      state.observer.observe(plot);
    }
    return element;
  }

  // Draw every plot not yet drawn (or whose drawing an htmx swap removed), and forget plots that left the page.
  function scan() {
    states.forEach((state, element) => {
      if (!element.isConnected) destroy(element);
    });
    document.querySelectorAll("[data-scatter]").forEach((element) => {
      const state = states.get(element);
      if (!state || state.inner.parentNode !== element) render(element);
    });
  }

  document.addEventListener("htmx:afterSettle", scan);
  window.ThroughlineScatter = { render };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
