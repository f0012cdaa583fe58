// Run charts and XmR (SPC individuals) charts, drawn as inline SVG.
//
// A template embeds a chart as an element that names a JSON data block:
//
//   <div class="tl-chart" data-chart="xmr" data-chart-source="measure-7-chart"></div>
//   {{ chart|json_script:"measure-7-chart" }}
//
// data-chart is "run", "xmr" or "mr" (the moving-range chart drawn under the X chart); the JSON
// follows the contract produced by cascade/charts.py: phases split at change points each draw
// their own centre line and limits, with a marker and label at each change point, and the
// change points and tests of change are listed under the chart (data-chart-annotations="hide"
// leaves the list out where the page already shows it). Charts are drawn on page load and again after every htmx
// swap. The content security policy forbids inline script and style, so
// nothing here writes a style attribute or markup string: every node is built
// with createElement(NS), colours come from static/css/charts.css, and the
// tooltip is positioned through the CSSOM (element.style), which CSP allows.
//
// window.ThroughlineCharts.render(element) redraws one chart from its data.
(() => {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const HEIGHT = 280;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const KIND_WORDS = { improvement: "improvement", concern: "concern", neutral: "no direction" };
  const states = new Map(); // chart element -> its drawing state
  let uid = 0;

  // ---------------------------------------------------------------- helpers

  const isNum = (v) => typeof v === "number" && Number.isFinite(v);

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach((name) => {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      node.setAttribute(name, value === true ? "" : String(value));
    });
    return node;
  }

  function html(tag, attrs, text) {
    const node = setAttrs(document.createElement(tag), attrs);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function svg(tag, attrs, text) {
    const node = setAttrs(document.createElementNS(SVG_NS, tag), attrs);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  const px = (v) => Math.round(v * 10) / 10;

  function decimalsOf(v) {
    if (!isNum(v)) return 0;
    const text = String(+v.toPrecision(10));
    if (text.includes("e-")) return 6;
    const dot = text.indexOf(".");
    return dot === -1 ? 0 : text.length - dot - 1;
  }

  // Fixed decimals, so a column of values lines up ("94.0" beside "93.1").
  function formatter(decimals) {
    const places = Math.max(0, Math.min(decimals, 6));
    const nf = new Intl.NumberFormat("en-GB", { minimumFractionDigits: places, maximumFractionDigits: places });
    return (v) => nf.format(v).replace("-", "\u2212");
  }

  function withUnit(text, unit) {
    if (!unit) return text;
    return /^[%‰°]/.test(unit) ? text + unit : text + " " + unit;
  }

  function parseDate(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text || "");
    return m ? { y: +m[1], m: +m[2] - 1, d: +m[3] } : null;
  }

  // A date as the chart's points are labelled: the month, or the day too when two points share a month.
  function labelOfDate(model, d) {
    return (model.monthly ? "" : d.d + " ") + MONTHS[d.m] + " " + d.y;
  }

  // ------------------------------------------------------------ data model

  const TYPE_NAMES = { run: "Run chart", xmr: "XmR chart", mr: "Moving-range chart" };
  const STATUSES = ["insufficient", "provisional", "final"];

  // The phases the chart is split into at change points (cascade/charts.py): each with its own
  // centre line and limits. Data without phases (an older contract) is one phase of every point.
  function phasesOf(data, count) {
    const raw = Array.isArray(data.phases) && data.phases.length ? data.phases : null;
    if (!raw) return [{ index: 0, first: 0, last: count - 1, reason: null, start: null, run: data.run || {}, xmr: data.xmr || {}, mr: data.mr || {} }];
    return raw.map((ph, i) => ({
      index: isNum(ph.index) ? ph.index : i,
      first: isNum(ph.first) ? ph.first : 0,
      last: isNum(ph.last) ? ph.last : count - 1,
      reason: typeof ph.reason === "string" ? ph.reason : null,
      start: parseDate(ph.start),
      run: ph.run || {},
      xmr: ph.xmr || {},
      mr: ph.mr || {},
    }));
  }

  // A phase's reference lines for one kind of chart, and whether its limits are provisional.
  function phaseLines(phase, type) {
    const lines = [];
    let status = null;
    if (type === "run") {
      if (isNum(phase.run.median)) lines.push({ key: "centre", value: phase.run.median, label: "Median" });
      return { lines, status };
    }
    const source = type === "mr" ? phase.mr : phase.xmr;
    status = STATUSES.includes(source.status) ? source.status : "insufficient";
    if (status !== "insufficient" && isNum(source.ucl)) lines.push({ key: "limit", value: source.ucl, label: "UCL" });
    if (type === "xmr" && status !== "insufficient" && isNum(source.lcl)) lines.push({ key: "limit", value: source.lcl, label: "LCL" });
    if (isNum(source.mean)) lines.push({ key: "centre", value: source.mean, label: type === "mr" ? "MR\u0304" : "Mean" });
    return { lines, status };
  }

  // Everything that does not depend on the drawing width, worked out once.
  function buildModel(data, type) {
    const raw = Array.isArray(data.points) ? data.points : [];
    const unit = typeof data.unit === "string" ? data.unit.trim() : "";
    const positionOf = new Map();
    const points = raw.map((p, pos) => {
      const index = isNum(p.index) ? p.index : pos;
      positionOf.set(index, pos);
      const value = type === "mr" ? (isNum(p.mr) ? p.mr : null) : isNum(p.value) ? p.value : null;
      return { pos, index, date: parseDate(p.date), rawDate: p.date || "", value, source: p };
    });
    const toPos = (index) => (positionOf.has(index) ? positionOf.get(index) : index);

    const phases = phasesOf(data, points.length).map((ph) => {
      const first = Math.max(0, toPos(ph.first));
      const last = Math.min(points.length - 1, toPos(ph.last));
      return { ...ph, first, last, ...phaseLines(ph, type) };
    });
    const phaseOfPos = (pos) => phases.find((ph) => pos >= ph.first && pos <= ph.last) || phases[phases.length - 1];
    const current = phases[phases.length - 1] || { run: {}, xmr: {}, mr: {}, lines: [], status: null };

    // Signals of every phase (their indices are chart-wide); the moving-range chart has none of its own.
    const rawSignals = [];
    if (type !== "mr") phases.forEach((ph) => (Array.isArray(ph[type].signals) ? ph[type].signals : []).forEach((s) => rawSignals.push(s)));
    const signals = rawSignals.map((s) => {
      const start = toPos(s.start);
      const end = isNum(s.end) ? toPos(s.end) : start;
      const members = new Set();
      if (Array.isArray(s.indices) && s.indices.length) s.indices.forEach((i) => members.add(toPos(i)));
      else if (s.rule !== "few_crossings") for (let i = Math.min(start, end); i <= Math.max(start, end); i += 1) members.add(i);
      return { rule: s.rule, kind: s.kind === "concern" || s.kind === "improvement" ? s.kind : "neutral", description: s.description || "", start: Math.min(start, end), end: Math.max(start, end), members };
    });

    // A month label is enough unless two points fall in the same month.
    const months = new Set();
    let monthly = true;
    points.forEach((p) => {
      if (!p.date) return;
      const key = p.date.y * 12 + p.date.m;
      if (months.has(key)) monthly = false;
      months.add(key);
    });
    const labelOf = (d, fallback) => (d ? (monthly ? "" : d.d + " ") + MONTHS[d.m] + " " + d.y : fallback);

    const decimals = Math.min(2, Math.max(0, ...points.map((p) => decimalsOf(p.value))));
    const fmtValue = formatter(decimals);
    const fmtLine = formatter(Math.max(decimals, 1));

    points.forEach((p) => {
      p.label = labelOf(p.date, p.rawDate || "Point " + (p.pos + 1));
      p.phase = phaseOfPos(p.pos);
      p.valueText = p.value === null ? (type === "mr" ? "no moving range (first point of a phase)" : "no value") : withUnit(fmtValue(p.value), unit);
      p.signals = signals.filter((s) => s.members.has(p.pos));
      // Every signal on the point on this chart, as cascade/charts.py lists them (rule, kind).
      const own = Array.isArray(p.source.signals) ? p.source.signals.filter((s) => s && s.chart === type) : null;
      p.flagged = type === "mr" ? false : own ? own.length > 0 : Boolean(type === "xmr" ? p.source.spc_signal : p.source.run_signal);
      if (p.flagged) {
        // Improvement when any signal on the point is one (Making Data Count's convention).
        const kinds = new Set((own || p.signals).map((s) => s.kind));
        p.kind = kinds.has("improvement") ? "improvement" : kinds.has("concern") ? "concern" : p.source.signal_kind || "neutral";
      } else {
        p.kind = null;
      }
      p.ariaLabel = p.label + ": " + p.valueText + (p.flagged ? " \u2014 special cause (" + KIND_WORDS[p.kind] + ")" : "");
    });

    // Change points (where a phase starts) and other annotations (tests of change), placed at the
    // first point on or after their date.
    const annotations = (Array.isArray(data.annotations) ? data.annotations : []).map((a) => {
      const date = parseDate(a.date);
      const key = date ? date.y * 10000 + date.m * 100 + date.d : null;
      const at = key === null ? -1 : points.findIndex((p) => p.date && p.date.y * 10000 + p.date.m * 100 + p.date.d >= key);
      return { kind: a.kind === "change_point" ? "change_point" : "test_of_change", label: typeof a.label === "string" ? a.label : "", date, dateText: labelOf(date, a.date || ""), pos: at };
    });

    const target = isNum(data.target) ? { key: "target", value: data.target, label: "Target" } : null;
    return {
      type,
      data,
      unit,
      title: typeof data.title === "string" ? data.title.trim() : "",
      summary: typeof data.summary === "string" ? data.summary.trim() : "",
      direction: data.direction === "up" ? "up" : "down",
      rulesLabel: typeof data.rules_label === "string" ? data.rules_label : "",
      points,
      signals,
      phases,
      annotations,
      // The current phase's lines (and the target, except on the moving-range chart) are labelled at the right.
      lines: (target && type !== "mr" ? [target] : []).concat(current.lines),
      allValues: phases.flatMap((ph) => ph.lines.map((l) => l.value)).concat(target && type !== "mr" ? [target.value] : []),
      status: current.status,
      monthly,
      fmtValue,
      fmtLine,
      run: current.run,
      xmr: current.xmr,
      mr: current.mr,
    };
  }

  // Merge the signal ranges of one kind so overlapping bands do not stack up.
  function bands(signals) {
    const out = [];
    ["improvement", "concern", "neutral"].forEach((kind) => {
      const ranges = signals
        .filter((s) => s.kind === kind)
        .map((s) => [s.start, s.end])
        .sort((a, b) => a[0] - b[0]);
      ranges.forEach((r) => {
        const last = out.length && out[out.length - 1];
        if (last && last.kind === kind && r[0] <= last.end + 1) last.end = Math.max(last.end, r[1]);
        else out.push({ kind, start: r[0], end: r[1] });
      });
    });
    return out;
  }

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const r = raw / mag;
    const nice = r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10;
    return nice * mag;
  }

  function valueScale(model, top, bottom) {
    const values = model.points.map((p) => p.value).filter(isNum);
    model.allValues.forEach((v) => values.push(v));
    if (!values.length) values.push(0);
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (lo === hi) {
      const pad = Math.abs(lo) * 0.1 || 1;
      lo -= pad;
      hi += pad;
    }
    const span = hi - lo;
    lo -= span * 0.06;
    hi += span * 0.06;
    if (model.type === "mr" && lo < 0) lo = 0; // a moving range is never negative
    const tickCount = Math.max(3, Math.min(6, Math.floor((bottom - top) / 45)));
    const step = niceStep(hi - lo, tickCount);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const stepDecimals = decimalsOf(+step.toPrecision(6));
    const ticks = [];
    for (let v = lo; v <= hi + step / 2; v += step) ticks.push(+v.toFixed(stepDecimals + 2));
    const y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
    return { y, ticks, fmtTick: formatter(stepDecimals) };
  }

  // Push apart right-hand line labels that would overlap.
  function spread(labels, gap, top, bottom) {
    labels.sort((a, b) => a.y - b.y);
    for (let i = 1; i < labels.length; i += 1) {
      if (labels[i].y - labels[i - 1].y < gap) labels[i].y = labels[i - 1].y + gap;
    }
    for (let i = labels.length - 1; i >= 0; i -= 1) {
      const limit = i === labels.length - 1 ? bottom : labels[i + 1].y - gap;
      if (labels[i].y > limit) labels[i].y = limit;
    }
    labels.forEach((l) => {
      if (l.y < top) l.y = top;
    });
    return labels;
  }

  // On narrow charts, put each line's label inside the plot at whichever end
  // of its line, above or below, collides least with the data and other labels.
  function placeInside(labels, plotted, left, right, top, bottom) {
    const obstacles = [];
    plotted.forEach((p, i) => {
      obstacles.push({ x: p.xy[0], y: p.xy[1], r: p.big ? 8 : 5, weight: 10 });
      if (!p.joined) return;
      const [x0, y0] = plotted[i - 1].xy;
      for (let t = 0.2; t < 1; t += 0.2) obstacles.push({ x: x0 + (p.xy[0] - x0) * t, y: y0 + (p.xy[1] - y0) * t, r: 2, weight: 3 });
    });
    const placed = [];
    labels.forEach((l) => {
      const w = l.text.length * 6 + 6;
      const h = 12;
      const candidates = [
        { anchor: "end", x: right - 2, y: l.lineY - 8 },
        { anchor: "end", x: right - 2, y: l.lineY + 9 },
        { anchor: "start", x: left + 4, y: l.lineY - 8 },
        { anchor: "start", x: left + 4, y: l.lineY + 9 },
      ];
      let best = null;
      candidates.forEach((c, order) => {
        const box = { x0: c.anchor === "end" ? c.x - w : c.x, y0: c.y - h / 2 };
        box.x1 = box.x0 + w;
        box.y1 = box.y0 + h;
        let score = order;
        if (box.y0 < top - 4 || box.y1 > bottom) score += 1000;
        obstacles.forEach((o) => {
          if (o.x + o.r > box.x0 && o.x - o.r < box.x1 && o.y + o.r > box.y0 && o.y - o.r < box.y1) score += o.weight;
        });
        labels.forEach((other) => {
          if (other !== l && other.lineY > box.y0 && other.lineY < box.y1) score += 20;
        });
        placed.forEach((b) => {
          if (b.x0 < box.x1 && b.x1 > box.x0 && b.y0 < box.y1 && b.y1 > box.y0) score += 500;
        });
        if (!best || score < best.score) best = { ...c, box, score };
      });
      placed.push(best.box);
      Object.assign(l, { x: best.x, y: best.y, anchor: best.anchor });
    });
    return labels;
  }

  // ---------------------------------------------------------------- drawing

  function draw(state) {
    const { model, plot } = state;
    const width = Math.round(plot.clientWidth);
    if (!width) return; // hidden (a closed tab or details); the observer draws it when it appears
    state.width = width;

    const focusedPos = state.svg && state.svg.contains(document.activeElement) ? state.current : null;
    if (state.svg) state.svg.remove();
    hideTooltip(state);

    const n = model.points.length;
    const compact = width < 480;
    // Narrow charts keep their width for the points: line labels move inside the plot, above their lines.
    const inside = width < 420;
    const lineLabels = model.lines.map((l) => ({ ...l, text: l.label + " " + model.fmtLine(l.value) }));
    const rightChars = Math.max(0, ...lineLabels.map((l) => l.text.length));
    const phased = model.phases.length > 1;
    const flagged = model.phases.some((ph) => ph.status === "provisional");
    const margin = {
      top: phased || flagged ? 26 : 14,
      right: rightChars && !inside ? Math.min(110, Math.round(rightChars * 6.2 + 14)) : 12,
      bottom: 40,
      left: 0,
    };
    const top = margin.top;
    const bottom = HEIGHT - margin.bottom;
    const scale = valueScale(model, top, bottom);
    const longestTick = Math.max(2, ...scale.ticks.map((t) => scale.fmtTick(t).length));
    margin.left = Math.round(longestTick * 6.6 + 14);
    const left = margin.left;
    const right = width - margin.right;
    const padX = compact ? 8 : 12;
    const stepX = n > 1 ? (right - left - 2 * padX) / (n - 1) : 0;
    const x = (pos) => (n > 1 ? left + padX + pos * stepX : (left + right) / 2);
    const y = scale.y;
    state.x = x;
    state.stepX = stepX;

    const ids = state.ids;
    const root = svg("svg", {
      class: "tl-chart__svg",
      viewBox: "0 0 " + width + " " + HEIGHT,
      width,
      height: HEIGHT,
      role: "group",
      "aria-labelledby": ids.title,
      "aria-describedby": ids.desc,
      focusable: "false",
    });
    root.appendChild(
      svg("title", { id: ids.title }, TYPE_NAMES[model.type] + (model.title ? ": " + model.title : ""))
    );
    root.appendChild(svg("desc", { id: ids.desc }, model.summary || "Chart of " + n + " points."));

    // Grid, axes and tick labels: decoration for sighted readers only (the table carries the numbers).
    const axes = svg("g", { class: "tl-chart__axes", "aria-hidden": "true" });
    scale.ticks.forEach((t) => {
      const ty = px(y(t));
      axes.appendChild(svg("line", { class: "tl-chart__grid", x1: left, x2: right, y1: ty, y2: ty }));
      axes.appendChild(svg("text", { class: "tl-chart__tick", x: left - 8, y: ty, dy: "0.32em", "text-anchor": "end" }, scale.fmtTick(t)));
    });
    axes.appendChild(svg("line", { class: "tl-chart__axis", x1: left, x2: right, y1: bottom, y2: bottom }));
    drawDateTicks(axes, model, x, bottom, right - left);
    root.appendChild(axes);

    // Shaded bands behind the points of each signal.
    const bandLayer = svg("g", { class: "tl-chart__bands", "aria-hidden": "true" });
    const half = n > 1 ? stepX / 2 : 12;
    bands(model.signals).forEach((b) => {
      const x0 = Math.max(left, x(b.start) - half);
      const x1 = Math.min(right, x(b.end) + half);
      bandLayer.appendChild(
        svg("rect", { class: "tl-chart__band tl-chart__band--" + b.kind, x: px(x0), y: top, width: px(Math.max(2, x1 - x0)), height: bottom - top })
      );
    });
    root.appendChild(bandLayer);

    // Reference lines. The target spans the chart; each phase draws its own centre line and limits
    // across its own points; the current phase's (and the target) are labelled on the right.
    const lineLayer = svg("g", { class: "tl-chart__lines", "aria-hidden": "true" });
    const spanOf = (ph, i) => [i === 0 ? left : Math.max(left, x(ph.first) - half), i === model.phases.length - 1 ? right : Math.min(right, x(ph.last) + half)];
    lineLabels.forEach((l) => {
      l.y = y(l.value);
      l.lineY = px(l.y);
      if (l.key === "target") lineLayer.appendChild(svg("line", { class: "tl-chart__ref tl-chart__ref--target", x1: left, x2: right, y1: l.lineY, y2: l.lineY }));
    });
    model.phases.forEach((ph, i) => {
      const [x0, x1] = spanOf(ph, i);
      ph.lines.forEach((l) => {
        const ly = px(y(l.value));
        lineLayer.appendChild(svg("line", { class: "tl-chart__ref tl-chart__ref--" + l.key, "data-phase": ph.index, x1: px(x0), x2: px(x1), y1: ly, y2: ly }));
        // An earlier phase's centre line is labelled at its end, above the line (the current one's at the right).
        const text = l.label + " " + model.fmtLine(l.value);
        if (i < model.phases.length - 1 && l.key === "centre" && !inside && text.length * 6.2 < x1 - x0 - 8) {
          lineLayer.appendChild(svg("text", { class: "tl-chart__ref-label tl-chart__ref-label--inside tl-chart__ref-label--phase", x: px(x1 - 4), y: px(ly - 7), "text-anchor": "end" }, text));
        }
      });
    });
    if (!inside) {
      spread(lineLabels, 13, top + 4, bottom - 4).forEach((l) => {
        lineLayer.appendChild(
          svg("text", { class: "tl-chart__ref-label tl-chart__ref-label--" + l.key, x: right + 6, y: px(l.y), dy: "0.32em" }, l.text)
        );
      });
    }
    if (!phased && model.status === "provisional") {
      lineLayer.appendChild(svg("text", { class: "tl-chart__flag", x: left, y: 14 }, "Provisional limits"));
    }
    root.appendChild(lineLayer);

    // A vertical marker and a label at each change point; a phase's provisional limits are flagged beside it.
    if (phased) {
      const phaseLayer = svg("g", { class: "tl-chart__phases" });
      model.phases.forEach((ph, i) => {
        const [x0, x1] = spanOf(ph, i);
        const room = x1 - x0 - 8;
        const provisional = ph.status === "provisional" ? "provisional limits" : "";
        let words;
        if (i === 0) {
          words = provisional ? (room > 150 ? "Provisional limits" : "") : "";
        } else {
          const when = ph.start ? labelOfDate(model, ph.start) : "";
          const full = ["Change point" + (when ? ", " + when : ""), provisional].filter(Boolean).join(" · ");
          words = full.length * 6.2 <= room ? full : "Change point".length * 6.2 <= room ? "Change point" : "";
          const marker = svg("g", { class: "tl-chart__changepoint", "data-phase": ph.index, role: "img", "aria-label": "Change point" + (when ? " in " + when : "") + (ph.reason ? ": " + ph.reason : "") });
          marker.appendChild(svg("line", { class: "tl-chart__changepoint-line", x1: px(x0), x2: px(x0), y1: 4, y2: bottom }));
          if (ph.reason) marker.appendChild(svg("title", {}, ph.reason));
          phaseLayer.appendChild(marker);
        }
        if (words) phaseLayer.appendChild(svg("text", { class: i === 0 ? "tl-chart__flag" : "tl-chart__changepoint-label", x: px(i === 0 ? left : x0 + 5), y: 14 }, words));
      });
      root.appendChild(phaseLayer);
    }

    // Tests of change (and any other annotation that starts no phase): a small flag on the date axis.
    const others = model.annotations.filter((a) => a.kind !== "change_point" && a.pos >= 0);
    if (others.length) {
      const noteLayer = svg("g", { class: "tl-chart__annotations" });
      others.forEach((a) => {
        const ax = px(x(a.pos));
        const flag = svg("path", { class: "tl-chart__annotation", d: "M" + ax + " " + (bottom - 1) + "l-5 -9h10z", role: "img", "aria-label": "Test of change, " + a.dateText + ": " + a.label });
        flag.appendChild(svg("title", {}, "Test of change, " + a.dateText + ": " + a.label));
        noteLayer.appendChild(flag);
      });
      root.appendChild(noteLayer);
    }

    // The values, as a line with a marker per point.
    let d = "";
    let pen = false;
    const plotted = [];
    model.points.forEach((p) => {
      if (p.value === null) {
        pen = false;
        return;
      }
      const xy = [x(p.pos), y(p.value)];
      d += (pen ? "L" : "M") + px(xy[0]) + " " + px(xy[1]);
      plotted.push({ xy, joined: pen, big: p.flagged });
      pen = true;
    });
    root.appendChild(svg("path", { class: "tl-chart__series", d, "aria-hidden": "true" }));

    if (inside) {
      const labelLayer = svg("g", { class: "tl-chart__lines", "aria-hidden": "true" });
      // The labels name the current phase's lines (and the target): keep them over its span, not over
      // an earlier phase's lines at the chart's left edge.
      const last = model.phases.length - 1;
      const from = last > 0 ? spanOf(model.phases[last], last)[0] : left;
      placeInside(lineLabels, plotted, from, right, top, bottom).forEach((l) => {
        labelLayer.appendChild(
          svg(
            "text",
            { class: "tl-chart__ref-label tl-chart__ref-label--inside tl-chart__ref-label--" + l.key, x: l.x, y: px(l.y), dy: "0.32em", "text-anchor": l.anchor },
            l.text
          )
        );
      });
      root.appendChild(labelLayer);
    }

    const pointLayer = svg("g", { class: "tl-chart__points" });
    const small = compact && n > 30 ? 2.5 : 3.5;
    const hitR = Math.max(6, Math.min(14, stepX / 2 || 14));
    state.pointNodes = model.points.map((p) => {
      const cx = px(x(p.pos));
      const cy = p.value === null ? bottom : px(y(p.value));
      const classes = ["tl-chart__point"];
      if (p.flagged) classes.push("tl-chart__point--signal", "tl-chart__point--" + p.kind);
      const g = svg("g", {
        class: classes.join(" "),
        role: "img",
        tabindex: "-1",
        "aria-label": p.ariaLabel,
        "data-index": p.pos,
      });
      g.appendChild(svg("circle", { class: "tl-chart__hit", cx, cy, r: px(hitR) }));
      g.appendChild(svg("circle", { class: "tl-chart__halo", cx, cy, r: p.flagged ? 11 : 8 }));
      if (p.value !== null) g.appendChild(marker(p, cx, cy, small));
      if (p.signals.length) g.appendChild(svg("desc", {}, p.signals.map((s) => s.description).filter(Boolean).join(" ")));
      pointLayer.appendChild(g);
      return g;
    });
    root.appendChild(pointLayer);

    state.svg = root;
    plot.insertBefore(root, state.tooltip);
    setCurrent(state, Math.min(state.current, n - 1));
    if (focusedPos !== null && state.pointNodes[focusedPos]) {
      state.pointNodes[focusedPos].focus({ preventScroll: true });
    }
  }

  function marker(p, cx, cy, small) {
    if (!p.flagged) return svg("circle", { class: "tl-chart__marker", cx, cy, r: small });
    if (p.kind === "concern") {
      const s = 7.5;
      return svg("path", {
        class: "tl-chart__marker",
        d: "M" + cx + " " + px(cy - s) + "L" + px(cx + s) + " " + cy + "L" + cx + " " + px(cy + s) + "L" + px(cx - s) + " " + cy + "Z",
      });
    }
    if (p.kind === "neutral") return svg("rect", { class: "tl-chart__marker", x: px(cx - 5), y: px(cy - 5), width: 10, height: 10 });
    return svg("circle", { class: "tl-chart__marker", cx, cy, r: 6 });
  }

  // Month labels along the bottom, thinned to fit, with the year under the
  // first label and wherever the year changes.
  function drawDateTicks(axes, model, x, bottom, plotWidth) {
    const points = model.points;
    if (!points.length) return;
    const labelWidth = model.monthly ? 34 : 48;
    const fit = Math.max(1, Math.floor(plotWidth / labelWidth));
    let step = Math.ceil(points.length / fit);
    // Prefer steps that land on calendar quarters or half-years for monthly data.
    if (model.monthly) step = [1, 2, 3, 4, 6, 12, 24, 36].find((s) => s >= step) || step;
    let lastYear = null;
    points.forEach((p) => {
      if (p.pos % step !== 0) return;
      const tx = px(x(p.pos));
      axes.appendChild(svg("line", { class: "tl-chart__axis", x1: tx, x2: tx, y1: bottom, y2: bottom + 5 }));
      const text = p.date ? (model.monthly ? "" : p.date.d + " ") + MONTHS[p.date.m] : String(p.pos + 1);
      axes.appendChild(svg("text", { class: "tl-chart__tick", x: tx, y: bottom + 18, "text-anchor": "middle" }, text));
      if (p.date && p.date.y !== lastYear) {
        axes.appendChild(svg("text", { class: "tl-chart__tick tl-chart__tick--year", x: tx, y: bottom + 32, "text-anchor": "middle" }, String(p.date.y)));
        lastYear = p.date.y;
      }
    });
  }

  // ---------------------------------------------------------- interaction

  function setCurrent(state, pos) {
    if (pos < 0 || !state.pointNodes.length) return;
    state.current = pos;
    state.pointNodes.forEach((node, i) => node.setAttribute("tabindex", i === pos ? "0" : "-1"));
  }

  function showTooltip(state, pos) {
    const p = state.model.points[pos];
    const node = state.pointNodes[pos];
    if (!p || !node) return;
    const tip = state.tooltip;
    tip.replaceChildren();
    tip.appendChild(html("span", { class: "tl-chart__tooltip-date" }, p.label));
    tip.appendChild(html("span", { class: "tl-chart__tooltip-value" }, p.valueText));
    if (p.flagged) {
      tip.appendChild(html("span", { class: "tl-chart__tooltip-kind tl-chart__tooltip-kind--" + p.kind }, "Special cause (" + KIND_WORDS[p.kind] + ")"));
    }
    if (p.signals.length) {
      const list = html("ul", { class: "tl-chart__tooltip-signals" });
      p.signals.forEach((s) => list.appendChild(html("li", { class: "tl-chart__tooltip-signal--" + s.kind }, s.description || s.rule)));
      tip.appendChild(list);
    }
    tip.hidden = false;

    state.pointNodes.forEach((n, i) => n.classList.toggle("is-active", i === pos));
    state.active = pos;

    const box = state.plot.getBoundingClientRect();
    const mark = (node.querySelector(".tl-chart__marker") || node.querySelector(".tl-chart__halo")).getBoundingClientRect();
    const cx = mark.left + mark.width / 2 - box.left;
    const cy = mark.top + mark.height / 2 - box.top;
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    const leftPos = Math.max(0, Math.min(box.width - tw, cx - tw / 2));
    let topPos = cy - th - 14;
    if (topPos < 0) topPos = cy + 16;
    tip.style.left = Math.round(leftPos) + "px";
    tip.style.top = Math.round(topPos) + "px";
  }

  function hideTooltip(state) {
    if (state.tooltip) state.tooltip.hidden = true;
    if (state.pointNodes) state.pointNodes.forEach((n) => n.classList.remove("is-active"));
    state.active = null;
  }

  function nearestPoint(state, clientX) {
    const n = state.model.points.length;
    if (!n || !state.svg) return null;
    const box = state.svg.getBoundingClientRect();
    const scale = box.width ? state.width / box.width : 1;
    const vx = (clientX - box.left) * scale;
    if (n === 1) return 0;
    const pos = Math.round((vx - state.x(0)) / state.stepX);
    return Math.max(0, Math.min(n - 1, pos));
  }

  function focusPoint(state, pos) {
    const n = state.pointNodes.length;
    if (!n) return;
    const target = Math.max(0, Math.min(n - 1, pos));
    setCurrent(state, target);
    state.pointNodes[target].focus();
  }

  function wire(state) {
    const { plot } = state;
    plot.addEventListener("pointermove", (event) => {
      const pos = nearestPoint(state, event.clientX);
      if (pos !== null && pos !== state.active) showTooltip(state, pos);
    });
    plot.addEventListener("pointerdown", (event) => {
      const pos = nearestPoint(state, event.clientX);
      if (pos !== null) showTooltip(state, pos);
    });
    plot.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "touch") return; // a lifted finger leaves; keep the tooltip until a tap elsewhere
      const focused = state.pointNodes.indexOf(document.activeElement);
      if (focused >= 0) showTooltip(state, focused);
      else hideTooltip(state);
    });
    plot.addEventListener("focusin", (event) => {
      const pos = state.pointNodes.indexOf(event.target);
      if (pos < 0) return;
      setCurrent(state, pos);
      showTooltip(state, pos);
    });
    plot.addEventListener("focusout", (event) => {
      if (!state.pointNodes.includes(event.relatedTarget)) hideTooltip(state);
    });
    plot.addEventListener("keydown", (event) => {
      const pos = state.pointNodes.indexOf(event.target);
      if (pos < 0) return;
      const moves = { ArrowRight: pos + 1, ArrowDown: pos + 1, ArrowLeft: pos - 1, ArrowUp: pos - 1, Home: 0, End: state.pointNodes.length - 1 };
      if (event.key in moves) {
        event.preventDefault();
        focusPoint(state, moves[event.key]);
      } else if (event.key === "Escape" && state.active !== null) {
        event.stopPropagation();
        hideTooltip(state);
      }
    });
  }

  // ------------------------------------------------------ surrounding HTML

  function legend(model) {
    const mr = model.type === "mr";
    const items = [["series", mr ? "Moving ranges" : "Values"]];
    const has = (key) => model.phases.some((ph) => ph.lines.some((l) => l.key === key)) || model.lines.some((l) => l.key === key);
    if (has("centre")) items.push(["centre", mr ? "Average moving range (MR̄)" : model.type === "xmr" ? "Mean" : "Median"]);
    if (has("limit")) {
      const provisional = model.status === "provisional" ? "Provisional " : "";
      items.push(["limit", mr ? provisional + (provisional ? "upper" : "Upper") + " limit (3.267 × MR̄)" : provisional + (provisional ? "process" : "Process") + " limits (UCL, LCL)"]);
    }
    if (has("target")) items.push(["target", "Target"]);
    if (model.phases.length > 1) items.push(["changepoint", "Change point: a new phase, with its own " + (model.type === "run" ? "median" : "centre line and limits")]);
    if (model.annotations.some((a) => a.kind === "test_of_change" && a.pos >= 0)) items.push(["test", "Test of change"]);
    const kinds = new Set(model.points.filter((p) => p.flagged).map((p) => p.kind));
    if (kinds.has("improvement")) items.push(["improvement", "Special cause: improvement"]);
    if (kinds.has("concern")) items.push(["concern", "Special cause: concern"]);
    if (kinds.has("neutral")) items.push(["neutral", "Special cause"]);
    const bandKinds = [...new Set(model.signals.map((s) => s.kind))];
    if (bandKinds.length) items.push(["band-" + (bandKinds.length === 1 ? bandKinds[0] : "mixed"), "Shaded: the points in a signal"]);
    const list = html("ul", { class: "tl-chart__legend", "aria-label": "Key" });
    items.forEach(([key, text]) => {
      const item = html("li", { class: "tl-chart__legend-item" });
      item.appendChild(html("span", { class: "tl-chart__swatch tl-chart__swatch--" + key, "aria-hidden": "true" }));
      item.appendChild(document.createTextNode(text));
      list.appendChild(item);
    });
    return list;
  }

  function notes(model) {
    const out = [];
    const note = (text, modifier) => out.push(html("p", { class: "tl-chart__note" + (modifier ? " tl-chart__note--" + modifier : "") }, text));
    if (!model.points.length) note("No data yet.", "warning");
    if (model.phases.length > 1) {
      // Each phase's lines in words: only the current phase's are labelled on the drawing.
      const list = html("ul", { class: "tl-chart__phase-list", "aria-label": "Phases" });
      model.phases.forEach((ph, i) => {
        const from = model.points[ph.first];
        const to = model.points[ph.last];
        const centre = ph.lines.find((l) => l.key === "centre");
        const limits = ph.lines.filter((l) => l.key === "limit").map((l) => l.value).sort((a, b) => a - b).map(model.fmtLine);
        const parts = [];
        if (centre) parts.push(centre.label.toLowerCase().replace("mr\u0304", "MR\u0304") + " " + model.fmtLine(centre.value));
        if (limits.length === 2) parts.push("limits " + limits.join(" to "));
        else if (limits.length === 1) parts.push("upper limit " + limits[0]);
        else if (model.type !== "run") parts.push("no limits yet (under 12 points)");
        if (ph.status === "provisional") parts.push("provisional");
        const span = from && to ? from.label + (ph.last > ph.first ? " \u2013 " + to.label : "") : "";
        list.appendChild(html("li", {}, "Phase " + (i + 1) + (span ? " (" + span + ")" : "") + ": " + (parts.join(", ") || "no centre line yet") + "."));
      });
      out.push(list);
    }
    if (model.type === "mr" && model.points.length) {
      if (model.status === "insufficient") note("Limits appear once there are 12 points", "warning");
      if (model.status === "provisional") note("Provisional limit: worked out from fewer points than usual.", "warning");
      const high = model.points.filter((p) => isNum(p.value) && p.phase.lines.some((l) => l.key === "limit" && p.value > l.value));
      if (high.length) note("Moving ranges above the upper limit: " + high.map((p) => p.label).join(", ") + ". A jump that large is a special cause on the X chart too.");
    } else if (model.type === "xmr" && model.points.length) {
      if (model.status === "insufficient") note("Limits appear once there are 12 points", "warning");
      if (model.status === "provisional") {
        note("Provisional limits: worked out from fewer points than usual, so they may move as more data arrive.", "warning");
      }
      const assurance = {
        always: "The target lies outside the process limits on the good side: the process will consistently meet it.",
        never: "The target lies outside the process limits on the wrong side: the process will not meet it unless the process itself changes.",
        inconsistent: "The target lies within the process limits: the process will sometimes meet it and sometimes miss it.",
      }[model.xmr.assurance];
      if (assurance && model.status !== "insufficient") note(assurance);
    } else if (model.type === "run") {
      const runs = model.run.runs || {};
      if (model.run.rules_apply === false && model.points.length) note("Too few points to apply the run chart rules yet.", "warning");
      const run = model.run;
      if (isNum(run.longest_run) && isNum(run.longest_run_limit)) {
        note("Longest run: " + run.longest_run + " points (more than " + run.longest_run_limit + " is a signal). Crossings of the median: " + (isNum(run.crossings) ? run.crossings : "—") + (isNum(run.crossings_limit) ? " (fewer than " + run.crossings_limit + " is a signal)." : "."));
      }
      const range = isNum(runs.lower) && isNum(runs.upper) ? runs.lower + "\u2013" + runs.upper : null;
      if (range && runs.verdict === "too_few") {
        note("Fewer runs than expected by chance (" + runs.count + "; expected " + range + "): a sign of non-random variation.");
      } else if (range && runs.verdict === "too_many") {
        note("More runs than expected by chance (" + runs.count + "; expected " + range + "): a sign of non-random variation.");
      } else if (range && runs.verdict === "ok") {
        note(runs.count + " runs, within the " + range + " expected by chance.");
      }
    }
    return out;
  }

  // The change points and tests of change, in words, with their reasons.
  function annotationList(model) {
    const items = model.annotations.filter((a) => a.label || a.dateText);
    if (!items.length) return null;
    const list = html("ul", { class: "tl-chart__annotation-list", "aria-label": "Change points and tests of change" });
    items.forEach((a) => {
      const item = html("li", { class: "tl-chart__annotation-item tl-chart__annotation-item--" + a.kind });
      item.appendChild(html("strong", {}, (a.kind === "change_point" ? "Change point" : "Test of change") + (a.dateText ? ", " + a.dateText : "") + ": "));
      item.appendChild(document.createTextNode(a.label));
      list.appendChild(item);
    });
    return list;
  }

  function dataTable(model) {
    const mr = model.type === "mr";
    const phased = model.phases.length > 1;
    const details = html("details", { class: "tl-chart__data" });
    details.appendChild(html("summary", {}, "Show the data as a table"));
    const wrap = html("div", { class: "tl-chart__table-wrap" });
    const table = html("table", { class: "tl-chart__table" + (mr ? " tl-chart__table--mr" : "") });
    table.appendChild(html("caption", {}, (model.title || "Chart data") + " (" + TYPE_NAMES[model.type].toLowerCase().replace("xmr", "XmR") + ")"));
    const head = html("thead");
    const headRow = html("tr");
    const unit = model.unit ? " (" + model.unit + ")" : "";
    const columns = ["Date", (mr ? "Moving range" : "Value") + unit];
    if (phased) columns.push("Phase");
    columns.push(mr ? "Against the upper limit" : "Signals");
    columns.forEach((t) => headRow.appendChild(html("th", { scope: "col" }, t)));
    head.appendChild(headRow);
    table.appendChild(head);
    const body = html("tbody");
    model.points.forEach((p) => {
      const row = html("tr", { class: p.flagged ? "tl-chart__row--" + p.kind : null });
      row.appendChild(html("th", { scope: "row" }, p.label));
      row.appendChild(html("td", { class: "tl-chart__num" }, p.value === null ? "\u2014" : model.fmtValue(p.value)));
      if (phased) row.appendChild(html("td", { class: "tl-chart__num" }, String(model.phases.indexOf(p.phase) + 1)));
      if (mr) {
        const limit = p.phase.lines.find((l) => l.key === "limit");
        const against = p.value === null ? "First point of a phase: no moving range" : !limit ? "No limit yet" : p.value > limit.value ? "Above the limit" : "Within the limit";
        row.appendChild(html("td", {}, against));
      } else {
        // Every signal on the point, each with its kind: a point with both is drawn as improvement.
        const cell = html("td", {}, p.flagged ? "Special cause (" + KIND_WORDS[p.kind] + ")" : "None");
        const described = p.signals.filter((s) => s.description);
        if (p.flagged && described.length) {
          const list = html("ul", { class: "tl-chart__signal-list" });
          described.forEach((s) => list.appendChild(html("li", { class: "tl-chart__signal--" + s.kind }, s.description + " (" + KIND_WORDS[s.kind] + ")")));
          cell.appendChild(list);
        }
        row.appendChild(cell);
      }
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    details.appendChild(wrap);
    return details;
  }

  // -------------------------------------------------------------- lifecycle

  function destroy(element) {
    const state = states.get(element);
    if (!state) return;
    if (state.observer) state.observer.disconnect();
    clearTimeout(state.timer);
    if (state.inner && state.inner.parentNode) state.inner.remove();
    element.classList.remove("tl-chart--ready");
    states.delete(element);
  }

  function readData(element) {
    const id = element.getAttribute("data-chart-source");
    const source = id && document.getElementById(id);
    if (!source) throw new Error("no data block #" + id);
    const data = JSON.parse(source.textContent);
    if (!data || typeof data !== "object") throw new Error("data block #" + id + " is not an object");
    return data;
  }

  function render(element) {
    if (!(element instanceof Element)) return null;
    const previous = states.get(element);
    const keepCurrent = previous && isNum(previous.current) ? previous.current : 0;
    const hadFocus = Boolean(previous && previous.svg && previous.svg.contains(document.activeElement));
    destroy(element);
    const type = ["xmr", "mr"].includes(element.getAttribute("data-chart")) ? element.getAttribute("data-chart") : "run";
    element.classList.add("tl-chart", "tl-chart--" + type);

    let data;
    try {
      data = readData(element);
    } catch (error) {
      console.warn("Throughline chart not drawn:", error.message);
      const inner = html("div", { class: "tl-chart__inner", "data-chart-generated": "" });
      inner.appendChild(html("p", { class: "tl-chart__note tl-chart__note--warning" }, "The chart could not be drawn."));
      element.appendChild(inner);
      states.set(element, { inner });
      return null;
    }

    const model = buildModel(data, type);
    const prefix = "tl-chart-" + (uid += 1);
    const state = {
      element,
      model,
      ids: { title: prefix + "-title", desc: prefix + "-desc" },
      current: Math.max(0, Math.min(keepCurrent, model.points.length - 1)),
      active: null,
      pointNodes: [],
      width: 0,
    };

    const inner = html("div", { class: "tl-chart__inner", "data-chart-generated": "" });
    const header = html("div", { class: "tl-chart__header" });
    if (model.title && !element.hasAttribute("data-chart-hide-title")) header.appendChild(html("p", { class: "tl-chart__title" }, model.title));
    const meta = [TYPE_NAMES[model.type]];
    // The run chart says which rules it used (IHI's or Anhøj's).
    if (model.type === "run" && model.rulesLabel) meta.push(model.rulesLabel);
    if (model.type !== "mr") meta.push(model.direction === "up" ? "higher is better" : "lower is better");
    if (model.phases.length > 1) meta.push(model.phases.length + " phases");
    if (model.type !== "run" && model.status === "provisional") meta.push("provisional limits");
    header.appendChild(html("p", { class: "tl-chart__meta" }, meta.join(" \u00b7 ")));
    if (model.summary && element.getAttribute("data-chart-summary") !== "hide") {
      header.appendChild(html("p", { class: "tl-chart__summary" }, model.summary));
    }
    inner.appendChild(header);

    state.plot = html("div", { class: "tl-chart__plot" });
    state.tooltip = html("div", { class: "tl-chart__tooltip", "aria-hidden": "true", hidden: true });
    state.plot.appendChild(state.tooltip);
    if (model.points.length) inner.appendChild(state.plot);
    notes(model).forEach((p) => inner.appendChild(p));
    if (model.points.length) {
      inner.appendChild(legend(model));
      const annotations = element.getAttribute("data-chart-annotations") === "hide" ? null : annotationList(model);
      if (annotations) inner.appendChild(annotations);
      inner.appendChild(dataTable(model));
    }
    state.inner = inner;
    element.appendChild(inner);
    element.classList.add("tl-chart--ready");
    states.set(element, state);
    if (!model.points.length) return element;

    wire(state);
    draw(state);
    if (hadFocus && state.pointNodes[state.current]) state.pointNodes[state.current].focus({ preventScroll: true });
    if (typeof ResizeObserver === "function") {
      state.observer = new ResizeObserver((entries) => {
        const width = Math.round(entries[entries.length - 1].contentRect.width);
        if (!width || width === state.width) return;
        clearTimeout(state.timer);
        state.timer = setTimeout(() => draw(state), state.width ? 120 : 0);
      });
      state.observer.observe(state.plot);
    }
    return element;
  }

  // Draw every chart not yet drawn (or whose drawing an htmx swap removed),
  // forget charts that left the page, and redraw charts inside `root`.
  function scan(root) {
    states.forEach((state, element) => {
      if (!element.isConnected) destroy(element);
    });
    const forced = new Set();
    if (root && root !== document && root.isConnected) {
      if (root.matches("[data-chart]")) forced.add(root);
      root.querySelectorAll("[data-chart]").forEach((el) => forced.add(el));
    }
    document.querySelectorAll("[data-chart]").forEach((element) => {
      const state = states.get(element);
      if (forced.has(element) || !state || !state.inner || state.inner.parentNode !== element) render(element);
    });
  }

  document.addEventListener("htmx:afterSettle", (event) => scan(event.target instanceof Element ? event.target : document));

  // A tap outside a chart dismisses its tooltip (touch has no hover to end).
  document.addEventListener("pointerdown", (event) => {
    states.forEach((state) => {
      if (state.plot && state.active !== null && state.active !== undefined && !state.plot.contains(event.target)) hideTooltip(state);
    });
  });

  // Escape dismisses a tooltip opened by hovering, wherever focus is.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    states.forEach((state) => {
      if (state.active !== null && state.active !== undefined) hideTooltip(state);
    });
  });

  // Print the numbers too: open the data tables while printing.
  const openedForPrint = [];
  window.addEventListener("beforeprint", () => {
    document.querySelectorAll(".tl-chart__data:not([open])").forEach((d) => {
      d.open = true;
      openedForPrint.push(d);
    });
  });
  window.addEventListener("afterprint", () => {
    openedForPrint.splice(0).forEach((d) => {
      d.open = false;
    });
  });

  window.ThroughlineCharts = { render };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => scan(document));
  else scan(document);
})();
