/* The board's charts (ECharts, vendored by `make install`). The tables below each chart hold
 * the same figures and links, so the page is complete without this script. Clicking a bar or
 * a point opens the hazard list that figure counts. */
(() => {
  "use strict";
  const COLORS = {
    open: "#0b4f8a", overdue: "#a30014", listed: "#5b2a86", closed: "#1d5e20",
    found: "#c25e00", open_at_end: "#0b4f8a",
  };

  function draw(id, data, labels, type) {
    const box = document.getElementById(id);
    if (!box || !data.categories.length) return;
    const chart = echarts.init(box, null, { renderer: "canvas" });
    const horizontal = type === "bar" && data.categories.length > 6 && box.clientWidth < 600;
    const categoryAxis = { type: "category", data: data.categories,
      axisLabel: { interval: 0, rotate: horizontal ? 0 : (data.categories.length > 4 ? 30 : 0) } };
    const valueAxis = { type: "value", minInterval: 1 };
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: data.series.map((s) => ({
        name: labels[s.key] || s.key, type, data: s.values,
        itemStyle: { color: COLORS[s.key] }, lineStyle: { color: COLORS[s.key] },
        emphasis: { focus: "series" }, cursor: "pointer",
        ...(type === "line" ? { showSymbol: true, symbolSize: 8 } : {}),
      })),
    });
    chart.on("click", (event) => {
      const series = data.series[event.seriesIndex];
      if (series && series.links[event.dataIndex]) location.assign(series.links[event.dataIndex]);
    });
    if (horizontal) box.style.height = Math.max(240, data.categories.length * 28) + "px";
    chart.resize();
    window.addEventListener("resize", () => chart.resize());
  }

  function start() {
    const source = document.getElementById("board-charts");
    if (!source) return;
    if (!window.echarts) {
      document.querySelectorAll(".chart").forEach((box) => {
        box.textContent = "图表加载失败，请查看下方表格。";
      });
      return;
    }
    const charts = JSON.parse(source.textContent);
    draw("chart-township", charts.township, charts.labels, "bar");
    draw("chart-industry", charts.industry, charts.labels, "bar");
    draw("chart-trend", charts.trend, charts.labels, "line");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
