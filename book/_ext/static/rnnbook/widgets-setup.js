// Loaded on pages with embedded ipywidgets: after require.js, before the widget manager (embed-amd.js).
(function () {
  var widgets = new URL("../widgets/", document.currentScript.src).href;
  // The widget manager loads its fonts from beside its own module URL; point that URL at the book's copy,
  // so nothing is fetched from a CDN.
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": widgets + "html-manager/dist" } });
  // ipywidgets typesets labels through MathJax 2's MathJax.Hub.Queue; the book runs MathJax 3.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (mj && !mj.Hub && mj.startup) {
      mj.Hub = { Queue: function (job) { mj.startup.promise.then(function () { return mj.typesetPromise([job[2]]); }); } };
    }
  });
})();

// Figures inside a widget (an ipywidgets Output drawn by matplotlib) come without alt text: the widget manager
// renders them. Each gets one that says what it is; the static twin of every widget carries the full description.
(function () {
  var ALT = "Figure drawn by the interactive widget for the setting shown; in Jupyter or Colab, move its " +
            "controls to redraw it (the static figure of this section shows the same for several settings).";
  function label(root) {
    (root.querySelectorAll ? root.querySelectorAll(".jupyter-widgets img:not([alt]), .jupyter-widgets img[alt='']") : [])
      .forEach(function (img) { img.setAttribute("alt", ALT); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    label(document);
    new MutationObserver(function (records) {
      records.forEach(function (r) { r.addedNodes.forEach(function (n) { if (n.nodeType === 1) label(n.parentNode || n); }); });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
