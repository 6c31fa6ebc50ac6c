// Kiosk mode (/kiosk): full screen, hands-free, forgets each visitor, shows an attract loop when nobody is there,
// and keeps itself alive for days (reconnects, reloads after a long outage or once a day while idle).

const params = new URLSearchParams(location.search);
const seconds = (name, fallback) => {
  const value = Number(params.get(name));
  return Number.isFinite(value) && value > 0 ? value * 1000 : fallback;
};

export const KIOSK = location.pathname.replace(/\/+$/, "") === "/kiosk" || params.get("kiosk") === "1";

export class Kiosk {
  /**
   * `forget()`: start a new conversation (no memory of the previous visitor); `idle()`: whether nothing is
   * going on (no reply playing, nobody speaking). Options come from the URL: `visitor_timeout` (seconds of
   * quiet before the visitor is forgotten, default 90), `reload_hours` (default 24), `token`, `persona`.
   */
  constructor({ attract, forget, idle }) {
    this.attract = attract;
    this.forget = forget;
    this.idle = idle;
    this.visitorTimeout = seconds("visitor_timeout", 90_000);
    const hours = Number(params.get("reload_hours"));
    this.reloadAfter = (Number.isFinite(hours) && hours > 0 ? hours : 24) * 3600_000;
    this.offlineReload = 5 * 60_000; // a server away this long: reload the page (and its code) when it returns
    this.started = Date.now();
    this.lastActivity = Date.now();
    this.visitor = false;
    this.closedSince = null;
    document.body.classList.add("kiosk");
    this.showAttract(true);
    setInterval(() => this.tick(), 1000);
    // Browsers allow full screen only from a gesture: the first touch of the screen asks for it.
    document.addEventListener("pointerdown", () => this.fullscreen(), { once: true });
  }

  fullscreen() {
    const root = document.documentElement;
    if (!document.fullscreenElement && root.requestFullscreen) root.requestFullscreen().catch(() => {});
  }

  /** Someone is talking with the kiosk (speech, a reply, a touch). */
  activity() {
    this.lastActivity = Date.now();
    if (!this.visitor) {
      this.visitor = true;
      this.showAttract(false);
    }
  }

  connection(open) {
    if (open) {
      if (this.closedSince !== null && Date.now() - this.closedSince > this.offlineReload) location.reload();
      this.closedSince = null;
    } else if (this.closedSince === null) {
      this.closedSince = Date.now();
    }
  }

  tick() {
    const now = Date.now();
    if (this.visitor && now - this.lastActivity > this.visitorTimeout && this.idle()) {
      this.visitor = false;
      this.forget();
      this.showAttract(true);
    }
    if (!this.visitor && now - this.started > this.reloadAfter && this.idle()) location.reload();
  }

  showAttract(on) {
    this.attract.hidden = !on;
    document.body.dataset.visitor = on ? "none" : "present";
  }
}
