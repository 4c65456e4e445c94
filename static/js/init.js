// Starts GOV.UK Frontend's components. Loaded as an external module (no
// inline script, so a strict Content-Security-Policy needs no exceptions);
// browsers without modules never run it and get the plain HTML pages.
import { initAll } from "../govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// Warn before an idle session expires. The server signs people out after
// SESSION_COOKIE_AGE seconds without a request; the page says when.
const warning = document.getElementById("session-timeout-warning");
if (warning) {
  const seconds = Number(warning.dataset.sessionSeconds || "0");
  const warnBefore = 5 * 60;
  if (seconds > warnBefore) {
    window.setTimeout(() => {
      warning.hidden = false;
      warning.focus();
    }, (seconds - warnBefore) * 1000);
  }
}
