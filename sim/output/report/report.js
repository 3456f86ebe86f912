// chengguan-sim report: draw the Plotly figures, make tables sortable. No network.
(function () {
  "use strict";
  const figures = JSON.parse(document.getElementById("report-figures").textContent);
  for (const [id, fig] of Object.entries(figures)) {
    const el = document.getElementById(id);
    if (el) Plotly.newPlot(el, fig.data, fig.layout, Object.assign({}, PLOTLY_CONFIG, fig.config || {}));
  }
  function cellValue(td) {
    const v = td.getAttribute("data-value");
    if (v === null || v === "") return td.textContent.trim();
    const x = Number(v);
    return Number.isNaN(x) ? v : x;
  }
  for (const table of document.querySelectorAll("table.sortable")) {
    const heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.from(heads).forEach((th, col) => {
      th.addEventListener("click", () => {
        const asc = !th.classList.contains("sorted-asc");
        for (const h of heads) h.classList.remove("sorted-asc", "sorted-desc");
        th.classList.add(asc ? "sorted-asc" : "sorted-desc");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = cellValue(a.cells[col]), y = cellValue(b.cells[col]);
          const nx = typeof x !== "number", ny = typeof y !== "number";
          if (nx !== ny) return nx ? 1 : -1;  // blanks last
          const c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
        for (const r of rows) body.appendChild(r);
      });
    });
  }
})();
