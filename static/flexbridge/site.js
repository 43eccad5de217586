// Small page helpers: sortable tables (numbers sort as numbers) and the Payroll menu.
(function () {
  "use strict";
  var collator = new Intl.Collator(document.documentElement.lang || "sv", { numeric: true, sensitivity: "base" });
  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) { return ""; }
    return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  }
  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    th.parentNode.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      // "Intl.Collator numeric" puts 2 before 10 and 1 099 before 1 100.
      var order = collator.compare(cellValue(a, index), cellValue(b, index));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function start() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th) {
        th.addEventListener("click", function () { sortBy(table, th); });
      });
    });
    // Close the Payroll menu when clicking elsewhere.
    document.addEventListener("click", function (event) {
      document.querySelectorAll(".mainnav details[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
