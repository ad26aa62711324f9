import { render } from "preact";
import { App } from "./app";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App />, root);

// Installable, and opens without the node: the service worker keeps the app's files
// (browsers allow it on https and on this machine's own addresses).
if ("serviceWorker" in navigator && window.isSecureContext) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch(() => {
      // Without it the app still works online; nothing to tell the user.
    });
  });
}
