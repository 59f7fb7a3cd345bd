// graphkit viewer: one video's Tree-of-Captions, drawn from the JSON in #graphkit-data.
// Every piece of text from the data is shown through textContent, never parsed as markup.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var ROW = 18;            // px per level in the icicle (matches --row in the style)
  var OPEN_DEPTH = 2;      // tree nodes above this level start expanded

  var data = JSON.parse(document.getElementById("graphkit-data").textContent);
  var nodes = data.nodes;
  var n = nodes.node_id.length;
  var fields = data.fields;
  var verbs = data.verbs;

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function seconds(x) { return Number(x).toFixed(2); }
  function colourOf(i) { var v = nodes.verb[i]; return v >= 0 ? verbs[v].colour : data.no_verb_colour; }
  function usable(value) { return value !== null && value !== undefined && value !== "" && value.toUpperCase() !== "N/A"; }
  function labelOf(i) {
    var t = nodes.text;
    var order = ["action_brief", "plm_action", "summary_brief", "plm_caption", "llama3_caption"];
    for (var k = 0; k < order.length; k++) {
      var column = t[order[k]];
      if (column && usable(column[i])) { return column[i]; }
    }
    return "";
  }

  // ---- children, in time order (nodes are listed parent first, in time) ----
  var children = [];
  for (var i = 0; i < n; i++) { children.push([]); }
  for (i = 0; i < n; i++) { if (nodes.parent[i] >= 0) { children[nodes.parent[i]].push(i); } }

  // ---- header ----
  var shown = n === data.num_segments ? n + " segments" : n + " of " + data.num_segments + " segments (levels 0-" +
      data.max_level + " of 0-" + data.depth + ")";
  document.getElementById("summary").textContent = shown + ", depth " + data.depth + ", " +
      seconds(data.end - data.start) + " s, " + verbs.length + " verbs";

  // ---- icicle: x = time (seconds in the viewBox), y = level ----
  var svg = document.getElementById("icicle");
  var height = (data.max_level + 1) * ROW;
  svg.setAttribute("height", String(height));
  var rects = new Array(n);
  var view = [data.start, data.end];
  for (i = 0; i < n; i++) {
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("class", "seg");
    r.setAttribute("x", String(nodes.start[i]));
    r.setAttribute("width", String(Math.max(nodes.end[i] - nodes.start[i], 0)));
    r.setAttribute("y", String(nodes.level[i] * ROW));
    r.setAttribute("height", String(ROW - 1));
    r.setAttribute("fill", colourOf(i));
    r.dataset.i = String(i);
    r.dataset.nodeId = nodes.node_id[i];
    var tip = document.createElementNS(SVG, "title");
    tip.textContent = "L" + nodes.level[i] + " [" + seconds(nodes.start[i]) + "-" + seconds(nodes.end[i]) + "] " +
        labelOf(i);
    r.appendChild(tip);
    svg.appendChild(r);
    rects[i] = r;
  }
  var levelsBox = document.getElementById("levels");
  for (var lvl = 0; lvl <= data.max_level; lvl++) { levelsBox.appendChild(el("div", null, "L" + lvl)); }

  function drawAxis() {
    var axis = document.getElementById("axis");
    axis.textContent = "";
    var span = view[1] - view[0];
    if (!(span > 0)) { return; }
    var raw = span / 8, step = Math.pow(10, Math.floor(Math.log10(raw)));
    if (raw / step >= 5) { step *= 5; } else if (raw / step >= 2) { step *= 2; }
    for (var t = Math.ceil(view[0] / step) * step; t <= view[1] + 1e-9; t += step) {
      var label = el("span", null, (step < 1 ? t.toFixed(1) : String(Math.round(t))) + " s");
      label.style.left = (100 * (t - view[0]) / span) + "%";
      axis.appendChild(label);
    }
  }
  function zoom(start, end) {
    view = [start, end];
    svg.setAttribute("viewBox", start + " 0 " + Math.max(end - start, 1e-6) + " " + height);
    drawAxis();
  }
  zoom(data.start, data.end);
  document.getElementById("reset-zoom").addEventListener("click", function () { zoom(data.start, data.end); });

  // ---- legend: every verb shown, most frequent first, then "no verb" ----
  var legend = document.getElementById("legend");
  function legendEntry(colour, text) {
    var entry = el("span", "entry");
    var swatch = el("span", "swatch");
    swatch.style.background = colour;
    entry.appendChild(swatch);
    entry.appendChild(el("span", "name", text));
    legend.appendChild(entry);
    return entry;
  }
  for (var v = 0; v < verbs.length; v++) {
    legendEntry(verbs[v].colour, verbs[v].name + " (" + verbs[v].count + ")").dataset.verb = String(v);
  }
  legendEntry(data.no_verb_colour, "no verb").dataset.verb = "-1";
  // A click on a legend entry picks its verb: the other segments fade (a second click, or another entry, changes it).
  var pickedVerb = null;
  legend.addEventListener("click", function (event) {
    var entry = event.target.closest(".entry");
    if (!entry) { return; }
    var v = Number(entry.dataset.verb);
    pickedVerb = pickedVerb === v ? null : v;
    var entries = legend.querySelectorAll(".entry");
    for (var k = 0; k < entries.length; k++) {
      entries[k].classList.toggle("picked", pickedVerb !== null && Number(entries[k].dataset.verb) === pickedVerb);
    }
    refresh();
  });

  // ---- tree ----
  var items = new Array(n), rows = new Array(n), toggles = new Array(n);
  function setOpen(i, open) {
    if (!children[i].length) { return; }
    items[i].classList.toggle("collapsed", !open);
    toggles[i].textContent = open ? "\u25be" : "\u25b8";
    toggles[i].setAttribute("aria-expanded", open ? "true" : "false");
  }
  function buildItem(i) {
    var li = el("li");
    li.dataset.i = String(i);
    li.setAttribute("role", "treeitem");
    var row = el("div", "row");
    row.dataset.nodeId = nodes.node_id[i];
    var toggle = el("button", "toggle");
    toggle.type = "button";
    toggle.disabled = children[i].length === 0;
    toggle.setAttribute("aria-label", "collapse or expand");
    var swatch = el("span", "swatch");
    swatch.style.background = colourOf(i);
    row.appendChild(toggle);
    row.appendChild(swatch);
    row.appendChild(el("span", "span", "[" + seconds(nodes.start[i]) + " \u2013 " + seconds(nodes.end[i]) + "]"));
    row.appendChild(el("span", "lvl", "L" + nodes.level[i]));
    row.appendChild(el("span", "label", labelOf(i)));
    li.appendChild(row);
    items[i] = li; rows[i] = row; toggles[i] = toggle;
    return li;
  }
  var treeRoot = document.getElementById("tree");
  // Iteratively (trees are deep): each node's <ul> of children is filled in time order.
  var stack = [];
  for (i = 0; i < n; i++) { if (nodes.parent[i] < 0) { stack.push([i, treeRoot]); } }
  stack.reverse();
  while (stack.length) {
    var top = stack.pop(), li = buildItem(top[0]);
    top[1].appendChild(li);
    var kids = children[top[0]];
    if (kids.length) {
      var ul = el("ul");
      ul.setAttribute("role", "group");
      li.appendChild(ul);
      for (var k = kids.length - 1; k >= 0; k--) { stack.push([kids[k], ul]); }
    }
  }
  for (i = 0; i < n; i++) { setOpen(i, nodes.level[i] < OPEN_DEPTH); }
  treeRoot.addEventListener("click", function (event) {
    var toggle = event.target.closest(".toggle");
    var li = event.target.closest("li");
    if (!li) { return; }
    var i = Number(li.dataset.i);
    if (toggle) { setOpen(i, items[i].classList.contains("collapsed")); return; }
    select(selected === i ? -1 : i);
  });
  treeRoot.addEventListener("mouseover", function (event) {
    var li = event.target.closest("li");
    if (li) { showDetails(Number(li.dataset.i)); }
  });
  treeRoot.addEventListener("mouseleave", function () { showDetails(selected); });
  document.getElementById("expand-all").addEventListener("click", function () {
    for (var i = 0; i < n; i++) { setOpen(i, true); }
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    for (var i = 0; i < n; i++) { setOpen(i, false); }
  });
  function reveal(i) {  // expand every ancestor of i
    for (var p = nodes.parent[i]; p >= 0; p = nodes.parent[p]) { setOpen(p, true); }
  }

  // ---- details: every caption and gpt field of one segment ----
  var selected = -1;
  var list = document.getElementById("details-list");
  function entry(name, value) {
    list.appendChild(el("dt", null, name));
    var dd = el("dd", usable(value === null ? null : String(value)) ? null : "none",
        value === null || value === undefined || value === "" ? "(none)" : value);
    list.appendChild(dd);
    return dd;
  }
  function showDetails(i) {
    list.textContent = "";
    document.getElementById("details-hint").hidden = i >= 0;
    if (i < 0) { return; }
    entry("node_id", nodes.node_id[i]);
    entry("level", nodes.level[i]);
    entry("time", seconds(nodes.start[i]) + " \u2013 " + seconds(nodes.end[i]) + " s (" +
        seconds(nodes.end[i] - nodes.start[i]) + " s)");
    var verb = entry("verb", nodes.verb[i] >= 0 ? verbs[nodes.verb[i]].name : null);
    if (nodes.verb[i] >= 0) {
      var swatch = el("span", "swatch");
      swatch.style.background = colourOf(i);
      verb.prepend(swatch, " ");
    }
    entry("children", children[i].length + " (" + (nodes.size[i] - 1) + " segments below)");
    for (var f = 0; f < fields.length; f++) { entry(fields[f], nodes.text[fields[f]][i]); }
    list.dataset.nodeId = nodes.node_id[i];
  }
  function select(i) {
    if (selected >= 0) { rects[selected].classList.remove("selected"); rows[selected].classList.remove("selected"); }
    selected = i;
    if (i >= 0) {
      rects[i].classList.add("selected");
      rows[i].classList.add("selected");
      reveal(i);
    }
    showDetails(i);
  }
  svg.addEventListener("mouseover", function (event) {
    if (event.target.dataset && event.target.dataset.i !== undefined) { showDetails(Number(event.target.dataset.i)); }
  });
  svg.addEventListener("mouseleave", function () { showDetails(selected); });
  svg.addEventListener("click", function (event) {
    if (!event.target.dataset || event.target.dataset.i === undefined) { return; }
    var i = Number(event.target.dataset.i);
    select(selected === i ? -1 : i);
    if (selected >= 0) { rows[i].scrollIntoView({block: "nearest"}); }
  });
  svg.addEventListener("dblclick", function (event) {
    if (!event.target.dataset || event.target.dataset.i === undefined) { return; }
    var i = Number(event.target.dataset.i);
    zoom(nodes.start[i], nodes.end[i]);
  });

  // ---- search: a case-insensitive substring of any text field ----
  var haystack = new Array(n);
  for (i = 0; i < n; i++) {
    var parts = [];
    for (var f = 0; f < fields.length; f++) {
      var value = nodes.text[fields[f]][i];
      if (value) { parts.push(value); }
    }
    haystack[i] = parts.join("\n").toLowerCase();
  }
  var count = document.getElementById("match-count");
  var term = "";
  function refresh() {
    var found = 0, first = -1;
    for (var i = 0; i < n; i++) {
      var hit = term !== "" && haystack[i].indexOf(term) >= 0;
      var other = pickedVerb !== null && nodes.verb[i] !== pickedVerb;
      rects[i].classList.toggle("match", hit);
      rects[i].classList.toggle("dim", (term !== "" && !hit) || other);
      rows[i].classList.toggle("match", hit);
      rows[i].classList.toggle("verb", pickedVerb !== null && !other);
      if (hit) { found++; reveal(i); if (first < 0) { first = i; } }
    }
    count.textContent = term === "" ? "" : found === 1 ? "1 matching segment" : found + " matching segments";
    if (first >= 0) { rows[first].scrollIntoView({block: "nearest"}); }
  }
  document.getElementById("search").addEventListener("input", function (event) {
    term = event.target.value.trim().toLowerCase();
    refresh();
  });
  document.body.dataset.ready = "true";
})();
