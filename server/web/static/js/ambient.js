// Between replies the avatar is never a frozen frame: short seamless loops of it idling or listening play
// under the reply video (GET /avatar/clip, rendered by the server with the session's persona and portrait).

import { hooks } from "./view.js";

const STATES = ["idle", "listening"];

export class Ambient {
  /** `container`: the element the loop videos go in (under the reply video); `reply`: the reply <video>. */
  constructor(container, reply) {
    this.container = container;
    this.reply = reply;
    this.videos = {};
    for (const state of STATES) {
      const video = document.createElement("video");
      video.className = "ambient-loop";
      video.dataset.state = state;
      video.muted = true;
      video.loop = true;
      video.playsInline = true;
      video.preload = "auto"; // both loops load right after `ready`, so switching to one never waits
      video.setAttribute("aria-hidden", "true");
      video.addEventListener("error", () => (hooks.lastError = `the ${state} loop could not be played`));
      container.append(video);
      this.videos[state] = video;
    }
    this.key = null;
    this.replyShowing = false;
    this.listening = false;
    this.render();
  }

  /** Load the loops for this persona (and uploaded portrait, if any); called on every `ready`. */
  load(persona, portrait) {
    const key = `${persona || ""}|${portrait || ""}`;
    if (key === this.key) return;
    this.key = key;
    for (const state of STATES) {
      const params = new URLSearchParams({ state });
      if (persona) params.set("persona", persona);
      if (portrait) params.set("portrait", portrait);
      const token = new URLSearchParams(location.search).get("token");
      if (token) params.set("token", token);
      this.videos[state].src = `/avatar/clip?${params}`;
    }
    this.render();
  }

  /** A reply's video started or stopped being shown. */
  setReplyShowing(showing) {
    this.replyShowing = showing;
    this.render();
  }

  /** The user started or stopped speaking. */
  setListening(listening) {
    this.listening = listening;
    this.render();
  }

  render() {
    const state = this.replyShowing ? "hidden" : this.listening ? "listening" : "idle";
    hooks.ambient = state;
    this.reply.dataset.visible = String(this.replyShowing);
    for (const name of STATES) {
      const video = this.videos[name];
      const visible = name === state;
      video.dataset.visible = String(visible);
      // Only the loop on screen plays: two hidden decoders would cost a kiosk's CPU for nothing.
      if (visible && video.src) video.play().catch(() => {});
      else if (!visible) video.pause();
    }
  }
}
