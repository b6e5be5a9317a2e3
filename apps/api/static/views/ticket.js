// A job's ticket (#/jobs/<id>/ticket), shown on screen as it prints: the job number large, the customer, the
// due date, the steps with boxes to tick, and a QR code of the job's page address. The QR code is made here by
// the vendored qrcode-generator (static/vendor/), drawn as SVG squares: no web service sees the address.
import * as api from "../api.js";
import {fill, h} from "../dom.js";
import {statusOf} from "../rules.js";
import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4;
// A ticket travels for weeks: its due date always says the year and the weekday.
const DUE = new Intl.DateTimeFormat(undefined, {weekday: "short", year: "numeric", month: "short", day: "numeric",
                                               timeZone: "UTC"});

function dueDate(value) {
  return value ? DUE.format(new Date(`${value}T00:00:00Z`)) : "no due date";
}  // modules of white around the code, as the standard asks

/** Return the address a scanner or a phone opens for job `jobId`. */
export function jobAddress(jobId) {
  return `${location.origin}/#/jobs/${Number(jobId)}`;
}

/** Draw `text` as a QR code (error correction M) in an SVG element labelled `label`. */
export function qrSvg(text, label) {
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  const modules = code.getModuleCount();
  const size = modules + QUIET_ZONE * 2;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "qr");
  svg.setAttribute("shape-rendering", "crispEdges");
  const back = document.createElementNS(SVG, "rect");
  back.setAttribute("width", size);
  back.setAttribute("height", size);
  back.setAttribute("fill", "#ffffff");
  svg.append(back);
  let path = "";
  for (let row = 0; row < modules; row += 1) {
    for (let col = 0; col < modules; col += 1) {
      if (code.isDark(row, col)) path += `M${col + QUIET_ZONE},${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const dark = document.createElementNS(SVG, "path");
  dark.setAttribute("d", path);
  dark.setAttribute("fill", "#000000");
  svg.append(dark);
  return svg;
}

/** Draw job `params[0]`'s ticket in `main`; return the function that stops it. */
export function render(main, context) {
  const jobId = Number(context.params[0]);
  let stopped = false;
  api.get(`/api/jobs/${jobId}`).then((job) => {
    if (stopped) return;
    const address = jobAddress(job.id);
    fill(main,
      h("div", {className: "no-print ticket-tools"}, h("a", {href: `#/jobs/${job.id}`}, "← Back to the job"),
        h("button", {type: "button", className: "primary", onclick: () => window.print()}, "Print")),
      h("article", {className: "ticket", "aria-label": `Ticket for job ${job.job_number}`},
        h("header", {className: "ticket-head"},
          h("div", {},
            h("p", {className: "ticket-label"}, "Job"),
            h("h1", {className: "ticket-number"}, job.job_number),
            h("p", {className: "ticket-title name"}, job.title),
            h("dl", {className: "facts"},
              h("dt", {}, "Customer"), h("dd", {className: "name"}, job.customer_name),
              h("dt", {}, "Due"), h("dd", {}, dueDate(job.due_date)),
              h("dt", {}, "Priority"), h("dd", {}, statusOf("priority", job.priority).label))),
          h("figure", {className: "ticket-qr"}, qrSvg(address, `QR code of ${address}`),
            h("figcaption", {}, address))),
        job.description ? h("p", {className: "description"}, job.description) : null,
        h("h2", {}, "Steps"),
        job.steps.length ? h("ol", {className: "ticket-steps"}, job.steps.map((step) =>
          h("li", {}, h("span", {className: "tick", "aria-hidden": "true"}), h("span", {className: "name"}, step.name),
            h("span", {className: "sign"}, "Done by ____________")))) : h("p", {}, "This job has no steps.")));
    main.removeAttribute("aria-busy");
  }).catch((error) => {
    if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
    main.removeAttribute("aria-busy");
    fill(main, h("h1", {}, "Job ticket"), h("p", {className: "form-error"},
      error.status === 404 ? "Not found: no job has this number." : error.message));
    return undefined;
  });
  return () => { stopped = true; };
}
