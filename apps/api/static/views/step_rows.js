// The new job form's steps, in order: each a process, a machine and an assignee; added with "Add step",
// moved up or down, removed. Field names follow the API's (steps.N.process_id ...) so its errors find them.
import {fill, h} from "../dom.js";

const FIELDS = [["process_id", "Process"], ["machine_id", "Machine"], ["assigned_to", "Assignee"]];

/**
 * Make the step list from the choices ({process_id, machine_id, assigned_to}: arrays of [value, text]) and
 * the steps to start with. Return {element, add(step), steps(), control(index, field)}.
 */
export function stepRows(choices, initial = []) {
  const list = h("ol", {className: "step-rows"});
  let rows = [];

  function redraw() {
    fill(list, rows.map((row, index) => {
      const number = index + 1;
      const controls = FIELDS.map(([name, label]) => {
        const id = `step-${index}-${name}`;
        row.selects[name].id = id;
        return h("div", {className: "field"}, h("label", {for: id}, `${label} for step ${number}`), row.selects[name]);
      });
      const buttons = h("div", {className: "actions"},
        h("button", {type: "button", className: "quiet", disabled: index === 0, "aria-label": `Move step ${number} up`,
          onclick: () => move(index, -1)}, "↑"),
        h("button", {type: "button", className: "quiet", disabled: index === rows.length - 1,
          "aria-label": `Move step ${number} down`, onclick: () => move(index, 1)}, "↓"),
        h("button", {type: "button", className: "quiet", "aria-label": `Remove step ${number}`,
          onclick: () => remove(index)}, "Remove"));
      return h("li", {className: "step-row"}, h("span", {className: "step-number"}, `Step ${number}`),
        ...controls, buttons);
    }));
  }

  function move(index, by) {
    const [row] = rows.splice(index, 1);
    rows.splice(index + by, 0, row);
    redraw();
    const target = document.querySelector(`[aria-label="Move step ${index + by + 1} ${by < 0 ? "up" : "down"}"]`);
    if (target && !target.disabled) target.focus();
  }

  function remove(index) {
    rows.splice(index, 1);
    redraw();
  }

  function add(step = {}) {
    const selects = {};
    for (const [name] of FIELDS) {
      const none = name === "process_id" ? "Choose a process" : "— none —";
      selects[name] = h("select", {}, h("option", {value: ""}, none),
        choices[name].map(([value, text]) => h("option", {value, selected: String(step[name] || "") === value}, text)));
    }
    rows.push({selects});
    redraw();
    return selects.process_id;
  }

  for (const step of initial) add(step);
  return {
    element: list,
    add,
    steps: () => rows.map((row) => Object.fromEntries(FIELDS.map(([name]) =>
      [name, row.selects[name].value ? Number(row.selects[name].value) : null]))),
    control: (index, name) => (rows[index] ? rows[index].selects[name] : null),
  };
}
