// Intake sections, without inline script (the CSP allows only our own files):
// "Add a ..." buttons append an empty row to a list section from its <template>, so a clinician
// never has to save to get another row; and a question marked data-hide-when="name=value" is
// hidden while the named control has that value (no pregnancy question without reproductive
// potential). Without this script the page still works: save, and new empty rows appear.
"use strict";

function addRow(button) {
  const prefix = button.dataset.addRow;
  const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
  const most = document.getElementById(`id_${prefix}-MAX_NUM_FORMS`);
  const template = document.getElementById(`${prefix}-empty-row`);
  const rows = document.getElementById(`${prefix}-rows`);
  const index = Number(total.value);
  if (most && index >= Number(most.value)) {
    button.disabled = true;
    return;
  }
  const html = template.innerHTML
    .replaceAll("__prefix__", String(index))
    .replaceAll("__number__", String(index + 1));
  rows.insertAdjacentHTML("beforeend", html);
  total.value = String(index + 1);
  const first = rows.lastElementChild.querySelector("input, select, textarea");
  if (first) first.focus();
}

function followControl(field) {
  const [name, value] = field.dataset.hideWhen.split("=");
  const control = document.querySelector(`[name="${name}"]`);
  if (!control) return;
  const update = () => {
    field.hidden = control.value === value;
  };
  control.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-add-row]")) {
    button.hidden = false;
    button.addEventListener("click", () => addRow(button));
  }
  for (const field of document.querySelectorAll("[data-hide-when]")) followControl(field);
});
