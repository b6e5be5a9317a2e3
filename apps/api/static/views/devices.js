// Devices (managers): register a wall board or a machine's tablet (its token and address shown once), see
// when each was last used, revoke one (its token and every session opened on it end within a second).
import * as api from "../api.js";
import {fill, h, moment, table} from "../dom.js";
import {keepFresh, notice} from "../live.js";
import {machineNames} from "../steps.js";

const LIST_MS = 30000;

function field(id, label, control) {
  return h("div", {className: "field"}, h("label", {for: id}, label), control);
}

function shownOnce(device) {
  const address = `${location.origin}/${device.kind}#device=${device.token}`;
  const input = h("input", {id: "device-address", readonly: true, value: address, className: "address"});
  return h("section", {className: "card once", "aria-labelledby": "once-title"},
    h("h2", {id: "once-title"}, `${device.name}: open this address on the ${device.kind}`),
    h("p", {className: "hint"}, "It holds the device's token and is shown only now. Anyone with it can read " +
      `what a ${device.kind} reads until you revoke the device.`),
    field("device-address", "Address with the device token", input),
    h("button", {type: "button", onclick: async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(address);
        notice("Copied.", "ok");
      } catch (error) {
        notice("Select the address and copy it.", "warn");
      }
    }}, "Copy address"));
}

/** Draw the devices page in `main`; return the function that stops its refresh loop. */
export function render(main, context) {
  const once = h("div", {});
  const list = h("section", {className: "card"});
  const name = h("input", {id: "device-name", required: true, maxlength: 100, autocomplete: "off"});
  const kind = h("select", {id: "device-kind"}, h("option", {value: "tablet"}, "Tablet by a machine"),
    h("option", {value: "board"}, "Wall board"));
  const machine = h("select", {id: "device-machine"}, h("option", {value: ""}, "No machine"));
  const idle = h("input", {id: "device-idle", type: "number", min: 15, max: 86400, value: 120, inputmode: "numeric"});
  const submit = h("button", {type: "submit", className: "primary"}, "Register device");
  const form = h("form", {className: "card register", "aria-labelledby": "register-title"},
    h("h2", {id: "register-title"}, "Register a device"),
    field("device-name", "Name", name), field("device-kind", "Kind", kind),
    field("device-machine", "Machine (tablets)", machine), field("device-idle", "Sign out after idle seconds", idle),
    submit);
  fill(main, h("h1", {}, "Devices"), once, form, list);
  machineNames().then((names) => {
    for (const [id, text] of names) machine.append(h("option", {value: id}, text));
  }).catch(() => {});

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!name.value.trim()) {
      notice("Give the device a name.", "warn");
      return;
    }
    const body = {name: name.value.trim(), kind: kind.value, idle_seconds: Number(idle.value) || 120};
    if (machine.value) body.machine_id = Number(machine.value);
    submit.disabled = true;
    try {
      const device = await api.write("POST", "/api/devices", body);
      fill(once, shownOnce(device));
      name.value = "";
      await load();
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      notice(error.message, "error");
    } finally {
      submit.disabled = false;
    }
    return undefined;
  });

  async function revoke(device) {
    if (!window.confirm(`Revoke ${device.name}? Its page stops working and whoever is signed in on it is ` +
                        "signed out.")) return;
    try {
      await api.write("DELETE", `/api/devices/${Number(device.id)}`);
      notice(`${device.name} is revoked.`, "ok");
    } catch (error) {
      notice(error.message, "error");
    }
    await load();
  }

  async function load() {
    const page = await api.get("/api/devices?per_page=100");
    fill(list, table("Registered devices, newest first", ["Name", "Kind", "Machine", "Last used", "Registered", ""],
      page.items.map((device) => [
        h("span", {className: "name"}, device.name), device.kind, device.machine_name || "—",
        device.last_used_at ? moment(device.last_used_at) : "never", moment(device.created_at),
        device.revoked_at ? `revoked ${moment(device.revoked_at)}`
          : h("button", {type: "button", className: "quiet", "aria-label": `Revoke ${device.name}`,
                         onclick: () => revoke(device)}, "Revoke")]),
      "No devices yet."));
  }

  return keepFresh(load, LIST_MS, context);
}
