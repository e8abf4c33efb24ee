/* challenge-runner: sortable leaderboard tables. No dependencies, nothing fetched.
 *
 * Every table inside a .cr-sortable block sorts by a click on a column header button.
 * Cells carry data-sort (numbers as text, empty = no value, always sorted last);
 * a header's data-type says "number" or "text" and data-first the first direction.
 */
(function () {
  "use strict";

  function cellKey(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell ? (cell.getAttribute("data-sort") ?? cell.textContent.trim()) : "";
    if (!numeric) return raw.toLowerCase();
    return raw === "" ? null : Number(raw);
  }

  function compare(a, b, numeric, dir) {
    if (numeric) {
      if (a === null && b === null) return 0;
      if (a === null) return 1;  // missing values last in both directions
      if (b === null) return -1;
      return dir * (a - b);
    }
    return dir * a.localeCompare(b);
  }

  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var numeric = th.getAttribute("data-type") === "number";
    var current = th.getAttribute("aria-sort");
    var first = th.getAttribute("data-first") || "asc";
    var next = current === "ascending" ? "descending"
      : current === "descending" ? "ascending"
      : first === "desc" ? "descending" : "ascending";
    var dir = next === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: cellKey(row, index, numeric), i: i };
    });
    rows.sort(function (a, b) {
      return compare(a.key, b.key, numeric, dir) || a.i - b.i;  // stable
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (item) { fragment.appendChild(item.row); });
    body.appendChild(fragment);
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", next);
  }

  function setUp(root) {
    var tables = root.querySelectorAll(".cr-sortable table");
    Array.prototype.forEach.call(tables, function (table) {
      if (table.getAttribute("data-cr-ready")) return;
      table.setAttribute("data-cr-ready", "1");
      var heads = table.tHead ? table.tHead.rows[0].cells : [];
      Array.prototype.forEach.call(heads, function (th) {
        var button = th.querySelector("button");
        if (button) button.addEventListener("click", function () { sortBy(table, th); });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
