/* The 四色图's map (ECharts scatter on a plain longitude/latitude grid) for enterprises with
 * coordinates. The coloured tables on the page hold the same facts; this only draws them. */
(() => {
  "use strict";
  const HEX = { red: "#d32f2f", orange: "#f57c00", yellow: "#fbc02d", blue: "#1976d2" };

  function start() {
    const source = document.getElementById("check-map-data");
    const box = document.getElementById("check-map");
    if (!source || !box) return;
    if (!window.echarts) { box.textContent = "地图加载失败，请查看下方表格。"; return; }
    const points = JSON.parse(source.textContent);
    const chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      aria: { enabled: true },
      tooltip: { formatter: (p) => `${p.data.name}<br>${p.data.label}；双重预防指数 ${p.data.index}` },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", name: "经度", scale: true },
      yAxis: { type: "value", name: "纬度", scale: true },
      series: [{ type: "scatter", symbolSize: 14,
        data: points.map((p) => ({ value: [p.lon, p.lat], name: p.name, label: p.label,
          index: p.index, itemStyle: { color: HEX[p.colour] } })) }],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
