// The playground page: while a sweep runs, ask for its status every two seconds and reload when it ends.
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job) return;
  var status = job.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  var id = job.getAttribute("data-job");
  function poll() {
    fetch("/v1/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (j && j.status !== "queued" && j.status !== "running") { window.location.reload(); }
        else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
