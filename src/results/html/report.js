// The findings table: filter by plugin, rule, severity and text; sort by any column.
// Filters start from the page's query string (?plugin=…&rule=…&severity=…&q=…).
(function () {
  "use strict";
  // The layout's canvas is generous: crop each picture to what is drawn on it.
  for (const svg of document.querySelectorAll("svg.picture")) {
    try {
      const box = svg.getBBox();
      if (box.width > 0 && box.height > 0) {
        const pad = 6, w = box.width + 2 * pad, h = box.height + 2 * pad;
        svg.setAttribute("viewBox", `${box.x - pad} ${box.y - pad} ${w} ${h}`);
        svg.setAttribute("width", String(Math.ceil(w)));
        svg.setAttribute("height", String(Math.ceil(h)));
      }
    } catch (e) { /* not rendered (hidden): keep the layout's size */ }
  }
  const table = document.getElementById("findings");
  if (!table) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const controls = {
    plugin: document.getElementById("filter-plugin"),
    rule: document.getElementById("filter-rule"),
    severity: document.getElementById("filter-severity"),
    q: document.getElementById("filter-text"),
  };
  const shown = document.getElementById("shown");
  const params = new URLSearchParams(window.location.search);
  for (const [name, control] of Object.entries(controls)) {
    const value = params.get(name);
    if (value !== null && control) control.value = value;
  }
  function apply() {
    const plugin = controls.plugin.value, rule = controls.rule.value, severity = controls.severity.value;
    const q = controls.q.value.trim().toLowerCase();
    let count = 0;
    for (const row of rows) {
      const visible = (!plugin || row.dataset.plugin === plugin) &&
        (!rule || row.dataset.rule === rule) &&
        (!severity || row.dataset.severity === severity) &&
        (!q || row.textContent.toLowerCase().includes(q));
      row.hidden = !visible;
      if (visible) count += 1;
    }
    shown.textContent = String(count);
    table.dataset.shown = String(count);
  }
  for (const control of Object.values(controls)) {
    control.addEventListener("input", apply);
    control.addEventListener("change", apply);
  }
  const rank = { error: 0, warning: 1, note: 2 };
  for (const [column, th] of Array.from(table.tHead.rows[0].cells).entries()) {
    if (!th.dataset.sort) continue;
    th.addEventListener("click", () => {
      const descending = th.getAttribute("aria-sort") === "ascending";
      for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const key = (row) => {
        const cell = row.cells[column];
        const value = cell.dataset.value ?? cell.textContent;
        if (th.dataset.sort === "severity") return rank[value] ?? 9;
        if (th.dataset.sort === "number") return Number(value);
        return value.toLowerCase();
      };
      const sorted = rows.slice().sort((a, b) => {
        const x = key(a), y = key(b);
        const order = x < y ? -1 : x > y ? 1 : 0;
        return descending ? -order : order;
      });
      for (const row of sorted) body.appendChild(row);
    });
  }
  apply();
})();
