// Draws every figure a page embeds as <script type="application/json" class="figure"
// data-target="ID">{data, layout, config}</script> into the element with id ID.
(function () {
  function draw() {
    document.querySelectorAll("script.figure").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (!target || target.dataset.drawn) { return; }
      var figure = JSON.parse(node.textContent);
      var config = Object.assign({displaylogo: false, responsive: true}, figure.config || {});
      Plotly.newPlot(target, figure.data, figure.layout || {}, config).then(function () {
        target.dataset.drawn = "1";
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
