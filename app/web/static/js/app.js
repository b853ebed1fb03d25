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
  // The clause list: narrowed to the chosen enterprise's industries and to what is typed in
  // the filter (words of the text, or its pinyin initials). The chosen option stays shown.
  function filterCriteria(form) {
    var picker = form.querySelector("[data-criteria-picker]");
    if (!picker) return;
    var select = picker.querySelector("select");
    var box = picker.querySelector("[data-criteria-filter]");
    var enterprise = form.querySelector('select[name="enterprise_id"]');
    var chosen = enterprise && enterprise.selectedOptions[0];
    var industries = chosen && chosen.getAttribute("data-industries");
    var allowed = industries ? industries.split(" ") : null;
    var words = (box.value || "").toLowerCase().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var text = (option.getAttribute("data-search") || "").toLowerCase();
      var fits = (!allowed || allowed.indexOf(option.getAttribute("data-industry")) >= 0) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      option.hidden = !fits && !option.selected;
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=file][data-preview]")) showPreview(target);
    if (target.name === "level" && target.form) toggleMajor(target.form);
    if (target.name === "enterprise_id" && target.form) filterCriteria(target.form);
  });
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-criteria-filter]") && target.form) {
      filterCriteria(target.form);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(toggleMajor);
    document.querySelectorAll("[data-criteria-filter]").forEach(function (box) {
      box.hidden = false;  // only useful with the script
      if (box.form) filterCriteria(box.form);
    });
  });
})();
