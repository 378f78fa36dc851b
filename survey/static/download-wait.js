// A visible wait for downloads that take a while to build (workbooks, reports, CSV):
// clicking a link marked data-download says so beside it until the file arrives (the
// page loses focus to the save dialog or the download bar) or 30 seconds have passed.
// A static file: the site's Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  function done(link, note) {
    link.removeAttribute("aria-busy");
    note.textContent = "";
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-download]");
    if (!link || link.getAttribute("aria-busy") === "true") return;
    var note = document.getElementById(link.getAttribute("data-download"));
    if (!note) return;
    link.setAttribute("aria-busy", "true");
    note.textContent = note.getAttribute("data-message") ||
      "Preparing the file. A large one can take several seconds; it will download by itself.";
    var timer = window.setTimeout(function () { done(link, note); }, 30000);
    window.addEventListener("blur", function once() {
      window.clearTimeout(timer);
      window.setTimeout(function () { done(link, note); }, 1500);
      window.removeEventListener("blur", once);
    });
  });
}());
