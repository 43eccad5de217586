// Refreshes every job progress bar on the page until its job has finished.
(function () {
  "use strict";
  var FINISHED = ["succeeded", "failed", "partly_failed", "cancelled"];
  function poll(el) {
    fetch(el.dataset.jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        var bar = el.querySelector(".bar");
        bar.className = "bar status-" + job.status;
        bar.querySelector("span").style.width = job.progress_percent + "%";
        el.querySelector(".percent").textContent = job.progress_percent + " %";
        el.querySelector(".status").textContent = job.status_display;
        el.querySelector(".counts").textContent = job.progress_done + "/" + job.progress_total;
        if (FINISHED.indexOf(job.status) === -1) {
          setTimeout(function () { poll(el); }, 1000);
        } else {
          el.dataset.finished = "1";
          // A job page shows the whole log: load it once the job has finished.
          if (el.dataset.reloadOnFinish === "1") { window.location.reload(); }
        }
      })
      .catch(function () { setTimeout(function () { poll(el); }, 3000); });
  }
  function start() {
    document.querySelectorAll(".job-progress").forEach(function (el) {
      if (el.dataset.finished !== "1") { poll(el); }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
