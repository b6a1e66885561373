// Counts what the page shows and links each timeline bar to its task; reads only the DOM.
(function () {
  var bars = document.querySelectorAll("rect.bar.cycle");
  var out = document.getElementById("cycle-count");
  if (out) out.textContent = bars.length + " cycles";
  document.querySelectorAll("rect.bar[data-task]").forEach(function (b) {
    b.addEventListener("click", function () {
      var id = b.getAttribute("data-task");
      document.querySelectorAll("article.task").forEach(function (a) {
        var t = a.querySelector(".task-id");
        if (t && t.textContent === id) a.scrollIntoView();
      });
    });
  });
  document.body.setAttribute("data-ready", "1");
})();
