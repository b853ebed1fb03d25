// The tip page (/tip): "use my location" fills lat/lon; the sent page copies the receipt.
(function () {
  "use strict";
  var locate = document.querySelector("[data-use-location]");
  if (locate && navigator.geolocation) {
    locate.addEventListener("click", function () {
      var status = document.getElementById("f-location-status");
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("f-lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("f-lon").value = pos.coords.longitude.toFixed(6);
        status.textContent = "已获取位置";
      }, function () {
        status.textContent = "无法获取位置，请在“在哪里”中填写";
      }, {enableHighAccuracy: true, timeout: 15000});
    });
  } else if (locate) {
    locate.hidden = true;
  }
  // Receipts of tips sent from this device (offline.js keeps them, drafts sent later too).
  var list = document.getElementById("tip-receipts");
  if (list) {
    var kept = [];
    try { kept = JSON.parse(localStorage.getItem("bihuan-tip-receipts") || "[]"); } catch (e) {}
    kept.forEach(function (entry) {
      var link = document.createElement("a");
      link.href = "/tip/status/" + encodeURIComponent(entry.receipt);
      link.textContent = entry.receipt;
      var item = document.createElement("li");
      item.append(new Date(entry.at).toLocaleString("zh-CN", {hour12: false}) + " 查询码 ", link);
      list.querySelector("ul").append(item);
    });
    list.hidden = kept.length === 0;
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { button.textContent = "已复制"; });
      }
    });
  });
})();
