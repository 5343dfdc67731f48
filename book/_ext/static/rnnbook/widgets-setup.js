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
