// Small enhancements; every page works without them.
// Photo previews are shown from the chosen files as they are: the files sent are the
// originals, never re-encoded (they are the evidence).
(function () {
  "use strict";
  function showPreview(input) {
    var box = document.getElementById(input.getAttribute("data-preview"));
    if (!box) return;
    box.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file, i) {
      if (!/^image\//.test(file.type)) return;
      var img = document.createElement("img");
      img.alt = "已选照片 " + (i + 1);
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      box.appendChild(img);
    });
  }
  function toggleMajor(form) {
    var major = form.querySelector('input[name="level"][value="major"]');
    form.querySelectorAll("[data-show-when-major]").forEach(function (el) {
      el.hidden = !(major && major.checked);
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=file][data-preview]")) showPreview(target);
    if (target.name === "level" && target.form) toggleMajor(target.form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(toggleMajor);
  });
})();
