// Between replies the avatar is never a frozen frame: short seamless loops of it idling or listening play
// under the reply video (GET /avatar/clip, rendered by the server with the session's persona and portrait).
// Once the user's emotion is perceived, the listening loop softly mirrors it (a clip per emotion label, asked
// for when a turn's `user_emotion` names it, once the reply has played) while the user speaks and between
// replies, for `hooks.mirrorHoldMs` of the face being on screen; then the face goes back to neutral.

import { hooks, onReply } from "./view.js";

const STATES = ["idle", "listening"];

function loopVideo(container, state, emotion) {
  const video = document.createElement("video");
  video.className = "ambient-loop";
  video.dataset.state = state;
  if (emotion) video.dataset.emotion = emotion;
  video.dataset.visible = "false";
  video.muted = true;
  video.loop = true;
  video.playsInline = true;
  video.preload = "auto"; // loops load as soon as they are asked for, so switching to one never waits
  video.setAttribute("aria-hidden", "true");
  container.append(video);
  return video;
}

export class Ambient {
  /** `container`: the element the loop videos go in (under the reply video); `reply`: the reply <video>. */
  constructor(container, reply) {
    this.container = container;
    this.reply = reply;
    this.videos = {};
    for (const state of STATES) {
      const video = loopVideo(container, state);
      video.addEventListener("error", () => (hooks.lastError = `the ${state} loop could not be played`));
      this.videos[state] = video;
    }
    this.mirrors = {}; // emotion label -> the listening loop mirroring it, made on first use (per face)
    this.mirror = null; // the label mirrored now (null: neutral)
    this.mirrorTimer = null; // ends the mirror after it has been on screen for hooks.mirrorHoldMs
    this.face = { persona: null, portrait: null };
    this.key = null;
    this.replyShowing = false;
    this.listening = false;
    this.answering = () => false; // the page sets it: whether a reply's video is still to be shown
    onReply(() => this.render()); // never mirror the user while the avatar is answering
    this.render();
  }

  clipUrl(state, emotion) {
    const params = new URLSearchParams({ state });
    if (emotion) params.set("emotion", emotion);
    if (this.face.persona) params.set("persona", this.face.persona);
    if (this.face.portrait) params.set("portrait", this.face.portrait);
    const token = new URLSearchParams(location.search).get("token");
    if (token) params.set("token", token);
    return `/avatar/clip?${params}`;
  }

  /** Load the loops for this persona (and uploaded portrait, if any); called on every `ready`. */
  load(persona, portrait) {
    const key = `${persona || ""}|${portrait || ""}`;
    if (key === this.key) return;
    this.key = key;
    this.face = { persona, portrait };
    for (const state of STATES) this.videos[state].src = this.clipUrl(state);
    for (const video of Object.values(this.mirrors)) {
      video.removeAttribute("src"); // another face: release the old one's decoder
      video.remove();
    }
    this.mirrors = {};
    this.mirror = null;
    this.render();
  }

  /**
   * The user's perceived emotion `label` (from `user_emotion`, or hands-free `listening` mid-turn): mirror it,
   * starting a fresh hold; "neutral" ends the mirror. `fetch` false (mid-turn readings) only switches to a clip
   * already asked for. A new clip is rendered on the server's face engine, the one the reply needs, so it is
   * asked for only once no turn is running here and the reply has played (see render).
   */
  setMirror(label, fetch = true) {
    if (typeof label !== "string" || !label || label === "neutral") {
      this.mirror = null;
    } else if (this.mirrors[label] || fetch) {
      this.mirror = label;
    } else {
      return; // no clip for it yet: keep showing what is there
    }
    this.stopHold();
    this.render();
  }

  makeMirror(label) {
    const video = loopVideo(this.container, "listening", label);
    video.addEventListener("loadeddata", () => this.render()); // show it once it has a frame, not before
    video.addEventListener("error", () => {
      // A clip that failed to render (server busy, face gone): stay neutral; a later turn may ask again.
      video.remove();
      if (this.mirrors[label] === video) delete this.mirrors[label];
      if (this.mirror === label) this.mirror = null;
      this.render();
    });
    video.src = this.clipUrl("listening", label);
    return video;
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

  stopHold() {
    clearTimeout(this.mirrorTimer);
    this.mirrorTimer = null;
  }

  render() {
    const state = this.replyShowing ? "hidden" : this.listening ? "listening" : "idle";
    hooks.ambient = state;
    this.reply.dataset.visible = String(this.replyShowing);
    // Answering: from reply_start until its video has played out (it can start after reply_end).
    const answering = hooks.reply === "replying" || this.answering();
    if (this.mirror && !this.mirrors[this.mirror] && hooks.reply === "idle" && !answering) {
      this.mirrors[this.mirror] = this.makeMirror(this.mirror);
    }
    const mirror = this.mirror && this.mirrors[this.mirror];
    const mirrored = state !== "hidden" && !answering && mirror && mirror.readyState >= 2 ? mirror : null;
    // The hold counts only while the mirror is on screen: a long reply does not use it up.
    if (!mirrored) this.stopHold();
    else if (!this.mirrorTimer) {
      this.mirrorTimer = setTimeout(() => {
        this.mirrorTimer = null;
        this.mirror = null;
        this.render();
      }, hooks.mirrorHoldMs);
    }
    hooks.mirror = mirrored ? this.mirror : null;
    const shown = mirrored || (state === "hidden" ? null : this.videos[state]);
    for (const video of [...Object.values(this.videos), ...Object.values(this.mirrors)]) {
      const visible = video === shown;
      video.dataset.visible = String(visible);
      // Only the loop on screen plays: hidden decoders would cost a kiosk's CPU for nothing.
      if (visible && video.src) video.play().catch(() => {});
      else if (!visible) video.pause();
    }
  }
}
