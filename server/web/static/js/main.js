// Empathica web client: websocket protocol v1 (docs/protocol.md), MSE reply video over idle/listening loops,
// hold-to-talk and hands-free microphone with barge-in, and kiosk mode. Plain ES modules, no build step.

import { Ambient } from "./ambient.js";
import { KIOSK, Kiosk } from "./kiosk.js";
import { Microphone, MIC_RATE, micErrorText } from "./mic.js";
import { Player, sound } from "./player.js";
import { formatTimings, hooks, emotionText, Line, setReply, showError, ui } from "./view.js";

const PROTOCOL = 1;
const TAKEN_OVER = 4001; // close code: another connection resumed this conversation (docs/protocol.md)
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const params = new URLSearchParams(location.search);

const ambient = new Ambient(ui.ambient, ui.video);
const player = new Player(ui.video, (showing) => ambient.setReplyShowing(showing));
ambient.answering = () => player.active();
sound.player = player;
const mic = new Microphone();
let kiosk = null;

function setConnection(state, text) {
  hooks.state = state;
  document.body.dataset.connection = state;
  ui.statusText.textContent = text;
  const open = state === "open";
  ui.send.disabled = !open;
  ui.cancel.disabled = !open;
  ui.talk.disabled = !open || !Microphone.supported();
  ui.handsFree.disabled = !open || !Microphone.supported();
  if (kiosk) kiosk.connection(open);
}

// ---------------------------------------------------------------- conversation state

const conversation = {
  pendingUser: null, // the user's line before the server has named its turn
  users: new Map(), // turn_id -> Line
  agents: new Map(), // turn_id -> Line
  mediaNext: null, // the `media` announcement waiting for its binary frame

  userLine(turnId) {
    let line = this.users.get(turnId);
    if (!line && this.pendingUser) {
      line = this.pendingUser;
      this.pendingUser = null;
      this.users.set(turnId, line);
    }
    return line || null;
  },

  agentLine(turnId) {
    let line = this.agents.get(turnId);
    if (!line) {
      line = new Line("agent");
      line.el.dataset.turn = String(turnId);
      this.agents.set(turnId, line);
    }
    return line;
  },

  clear() {
    ui.transcript.replaceChildren();
    this.users.clear();
    this.agents.clear();
    this.pendingUser = null;
    this.mediaNext = null;
  },
};

/** Stop the reply on screen and tell the server how much of it was heard (it stores that much, as cancelled). */
function stopPlayback() {
  const unfinished = player.active();
  const stopped = player.stop();
  if (!stopped) return stopped;
  send({ type: "played", turn_id: stopped.turnId, seconds: stopped.played });
  // Media arrives faster than real time, so the reply's reply_end (not cancelled) may already be here: the line
  // is marked by what the listener saw, a reply cut off before its end.
  if (unfinished) markCancelled(conversation.agents.get(stopped.turnId));
  return stopped;
}

function markCancelled(line) {
  if (!line || line.el.classList.contains("cancelled")) return;
  line.el.classList.remove("speaking");
  line.el.classList.add("cancelled");
  const details = line.details.hidden ? "" : line.details.textContent;
  line.setDetails(details ? `cancelled · ${details}` : "cancelled");
}

function handleMessage(msg) {
  switch (msg.type) {
    case "ready":
      hooks.sessionId = msg.session_id || null;
      hooks.resumeSecret = msg.resume_secret || null;
      if (typeof msg.media_mime === "string" && msg.media_mime) hooks.mediaMime = msg.media_mime;
      setConnection("open", msg.persona ? `Connected — talking with ${msg.persona}` : "Connected");
      if (msg.persona) showPersona(msg.persona);
      ambient.load(msg.persona || hooks.persona, msg.portrait || hooks.portrait);
      backoff.reset();
      if (handsFree.wanted && !hooks.listening) handsFree.start();
      break;
    case "speech_start": {
      // The user started speaking: the avatar stops at once (barge-in) and listens.
      const receivedAt = performance.now();
      if (kiosk) kiosk.activity();
      ambient.setListening(true);
      if (msg.barge_in || player.active()) {
        const stopped = stopPlayback();
        hooks.bargeIns.push({
          turnId: msg.turn_id ?? (stopped && stopped.turnId),
          receivedAt,
          stoppedAt: performance.now(),
          played: stopped ? stopped.played : null,
        });
        if (hooks.reply !== "idle") setReply("idle");
      }
      if (!conversation.pendingUser) {
        conversation.pendingUser = new Line("user", "…");
        conversation.pendingUser.el.classList.add("partial");
      }
      break;
    }
    case "partial_transcript":
      if (conversation.pendingUser) conversation.pendingUser.setText(`${msg.text} …`);
      break;
    case "listening":
      // How the words so far read: mirror it only with a clip already there (a turn's reading asks for clips).
      if (msg.emotion) ambient.setMirror(msg.emotion.label, false);
      break;
    case "speech_end": {
      hooks.speechEnds.push({ turnId: msg.turn_id, at: performance.now(), endpointMs: msg.endpoint_ms });
      ambient.setListening(false);
      const line = conversation.pendingUser || new Line("user", "…");
      conversation.pendingUser = null;
      conversation.users.set(msg.turn_id, line);
      setReply("waiting");
      break;
    }
    case "transcript": {
      let line = conversation.userLine(msg.turn_id);
      if (!line) {
        line = new Line("user");
        conversation.users.set(msg.turn_id, line);
      }
      line.el.classList.remove("partial");
      line.setText(msg.text || "(nothing recognised)");
      break;
    }
    case "user_emotion": {
      const line = conversation.userLine(msg.turn_id);
      if (line) {
        line.setEmotion(msg.emotion);
        line.setVoice(msg.voice, msg.mismatch);
      }
      if (msg.emotion) ambient.setMirror(msg.emotion.label); // the listening face mirrors it between replies
      break;
    }
    case "reply_start": {
      if (kiosk) kiosk.activity();
      conversation.userLine(msg.turn_id); // bind a typed line that had no other message yet
      const line = conversation.agentLine(msg.turn_id);
      line.setEmotion(msg.emotion);
      line.el.classList.add("speaking");
      const mood = emotionText(msg.emotion);
      ui.mood.textContent = mood;
      ui.mood.hidden = !mood;
      setReply("replying");
      break;
    }
    case "reply_text":
      conversation.agentLine(msg.turn_id).appendText(msg.text || "");
      break;
    case "media":
      conversation.mediaNext = msg;
      break;
    case "reply_end": {
      const line = conversation.agentLine(msg.turn_id);
      line.el.classList.remove("speaking");
      if (typeof msg.text === "string" && msg.text) line.setText(msg.text);
      const cancelled = !!msg.cancelled || line.el.classList.contains("cancelled"); // or stopped here already
      if (cancelled) line.el.classList.add("cancelled");
      const details = formatTimings(msg.timings_ms);
      line.setDetails(cancelled ? `cancelled${details ? ` · ${details}` : ""}` : details);
      player.end(msg.turn_id);
      hooks.replies.push({ turnId: msg.turn_id, at: performance.now(), cancelled: !!msg.cancelled, timings: msg.timings_ms });
      hooks.turns += 1;
      if (hooks.reply === "replying") setReply("idle");
      break;
    }
    case "safety":
      // A crisis message: keep the support text on screen (the avatar also speaks it) until dismissed.
      hooks.safety = { category: msg.category, response: msg.response };
      ui.safetyText.textContent = msg.response || "";
      ui.safety.hidden = false;
      break;
    case "error": {
      showError(msg.message || "Something went wrong.", msg.code);
      const line = new Line("notice", `${msg.message || "Error"}${msg.code ? ` (${msg.code})` : ""}`);
      line.el.setAttribute("role", "note");
      if (conversation.pendingUser && msg.turn_id == null) {
        conversation.pendingUser.el.classList.add("refused"); // the typed turn was not accepted
        conversation.pendingUser = null;
      }
      if (hooks.reply === "waiting") setReply("idle"); // no reply is coming for that input
      break;
    }
    default:
      break; // unknown types are ignored: additive protocol changes must not break the page
  }
}

function handleBinary(data) {
  const announced = conversation.mediaNext;
  conversation.mediaNext = null;
  if (!announced) {
    hooks.lastError = "binary frame without a media announcement";
    return;
  }
  player.piece(announced.turn_id, announced.index, data, hooks.mediaMime);
}

// ---------------------------------------------------------------- websocket with reconnection

const backoff = {
  attempt: 0,
  timer: null,
  reset() {
    this.attempt = 0;
  },
  next() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    return base * (0.8 + 0.4 * Math.random()); // jitter: many tabs must not reconnect in lockstep
  },
};

let socket = null;

function wsUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function connect() {
  clearTimeout(backoff.timer);
  backoff.timer = null;
  setConnection("connecting", backoff.attempt ? "Reconnecting…" : "Connecting…");
  const ws = new WebSocket(wsUrl());
  ws.binaryType = "arraybuffer";
  socket = ws;

  ws.addEventListener("open", () => {
    const hello = { type: "hello", protocol: PROTOCOL };
    if (params.get("token")) hello.token = params.get("token");
    if (hooks.persona) hello.persona = hooks.persona;
    if (hooks.portrait) hello.portrait = hooks.portrait;
    if (hooks.sessionId && hooks.resumeSecret) {
      // Resume the same conversation after a drop: the secret from `ready` shows it is ours.
      hello.session_id = hooks.sessionId;
      hello.resume_secret = hooks.resumeSecret;
    }
    ws.send(JSON.stringify(hello));
  });

  ws.addEventListener("message", (event) => {
    if (socket !== ws) return;
    if (typeof event.data !== "string") {
      handleBinary(event.data);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      hooks.lastError = "server sent malformed JSON";
      return;
    }
    if (msg && typeof msg === "object") handleMessage(msg);
  });

  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    conversation.mediaNext = null;
    holdToTalk.abort();
    handsFree.pause();
    if (hooks.reply !== "idle") {
      player.end(player.turn && player.turn.id);
      setReply("idle");
    }
    if (event.code === 1009) showError("A message was too large for the server and the connection was closed.");
    if (event.code === TAKEN_OVER) {
      // Another window resumed this conversation: reconnecting would take it back, and so on, back and forth.
      setConnection("closed", "This conversation continued in another window");
      showError("This conversation continued in another window or tab. Reload this page to start a new one here.");
      return;
    }
    const delay = backoff.next();
    setConnection("closed", `Disconnected — reconnecting in ${Math.ceil(delay / 1000)} s`);
    backoff.timer = setTimeout(connect, delay);
  });
}

/** Start a new conversation: the server takes `persona` only before a session's first turn, and a resumed
 * session keeps its stored persona, so reconnect without the session id. Nothing of the old one is shown. */
function newConversation() {
  if (hooks.reply !== "idle") cancelReply();
  hooks.sessionId = null;
  hooks.resumeSecret = null;
  const old = socket;
  socket = null; // its close event must not schedule a reconnection: we connect right away
  holdToTalk.abort();
  handsFree.pause();
  if (old) old.close(1000, "new conversation");
  backoff.reset();
  ui.safety.hidden = true;
  ui.error.hidden = true;
  hooks.safety = null;
  conversation.clear(); // turn ids start again at 0
  connect();
}

/** Select `name` in the picker, adding it when the server names a persona the page does not list. */
function showPersona(name) {
  const known = [...ui.persona.options].find((o) => o.value.toLowerCase() === name.toLowerCase());
  if (known) {
    ui.persona.value = known.value;
    return;
  }
  const option = new Option(name, name);
  ui.persona.add(option);
  ui.persona.value = name;
}

function send(obj) {
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    showError("Not connected to the server yet; please try again in a moment.");
    return false;
  }
  socket.send(typeof obj === "string" || obj instanceof ArrayBuffer ? obj : JSON.stringify(obj));
  return true;
}

/** Stop the reply in progress, on the server and on screen. */
function cancelReply() {
  stopPlayback();
  if (hooks.reply !== "idle") send({ type: "cancel" });
  setReply("idle");
}

// ---------------------------------------------------------------- typed turns

function sendText() {
  const text = ui.message.value.trim();
  if (!text) return;
  if (hooks.reply !== "idle" || player.active()) cancelReply(); // typing over the avatar interrupts it
  if (!send({ type: "text", text })) return;
  ui.error.hidden = true;
  conversation.pendingUser = new Line("user", text);
  ui.message.value = "";
  setReply("waiting");
  if (kiosk) kiosk.activity();
}

function sendChunk(buffer) {
  if (send(buffer)) hooks.audioBytesSent += buffer.byteLength;
}

// ---------------------------------------------------------------- push-to-talk: one utterance per press

const holdToTalk = {
  holding: false,

  async press() {
    if (this.holding || hooks.listening) return; // hands-free already hears everything
    this.holding = true;
    this.showButton(true, "Opening microphone…");
    try {
      await mic.open();
    } catch (err) {
      this.holding = false;
      this.showButton(false);
      showError(micErrorText(err));
      return;
    }
    if (!this.holding) return; // released while the microphone was opening: nothing was said
    if (hooks.reply !== "idle" || player.active()) cancelReply(); // barge-in: speaking interrupts the avatar
    if (!send({ type: "audio_start", format: "pcm16", sample_rate: MIC_RATE })) {
      this.holding = false;
      this.showButton(false);
      return;
    }
    ui.error.hidden = true;
    ambient.setListening(true);
    this.showButton(true, "Listening… release to send");
    await mic.start(sendChunk);
  },

  async release() {
    if (!this.holding) return;
    this.holding = false;
    this.showButton(false);
    if (!mic.recording) return;
    await mic.stop();
    ambient.setListening(false);
    send({ type: "audio_end" });
    setReply("waiting");
  },

  /** The connection dropped: whatever was being recorded is lost. */
  abort() {
    if (this.holding) mic.abort();
    this.holding = false;
    this.showButton(false);
    ambient.setListening(false);
  },

  showButton(active, text = "Hold to talk") {
    ui.talk.classList.toggle("active", active);
    ui.talk.setAttribute("aria-pressed", String(active));
    ui.talk.textContent = text;
  },
};

// ---------------------------------------------------------------- hands-free: the server detects each turn

const handsFree = {
  wanted: false, // the user turned it on (kept across reconnections)

  async start() {
    this.wanted = true;
    this.show();
    if (hooks.listening) return;
    try {
      await mic.open();
    } catch (err) {
      this.wanted = false;
      this.show();
      showError(micErrorText(err));
      return;
    }
    if (!this.wanted || !send({ type: "listen_start", format: "pcm16", sample_rate: MIC_RATE })) return;
    hooks.listening = true;
    this.show();
    await mic.start(sendChunk);
  },

  async stop() {
    this.wanted = false;
    await this.pause();
    if (socket && socket.readyState === WebSocket.OPEN) send({ type: "listen_stop" });
    this.show();
  },

  /** Stop streaming but keep `wanted`: the next `ready` resumes (reconnection, new conversation). */
  async pause() {
    if (!hooks.listening) return;
    hooks.listening = false;
    ambient.setListening(false);
    if (socket && socket.readyState === WebSocket.OPEN) await mic.stop();
    else mic.abort();
  },

  show() {
    ui.handsFree.setAttribute("aria-pressed", String(this.wanted));
    ui.handsFree.classList.toggle("active", this.wanted);
    ui.handsFree.textContent = this.wanted ? (hooks.listening ? "Hands-free on" : "Starting…") : "Hands-free";
  },
};

// ---------------------------------------------------------------- a photo as the avatar's face

/** Upload a photo (the server checks it holds exactly one face), then start a conversation with that face. */
async function usePortrait(file) {
  if (!file) return;
  document.body.dataset.upload = "busy";
  ui.error.hidden = true;
  try {
    const headers = { "Content-Type": file.type || "application/octet-stream" };
    if (params.get("token")) headers.Authorization = `Bearer ${params.get("token")}`;
    const url = ui.portraitGlasses.checked ? "/portraits?glasses=1" : "/portraits";
    const response = await fetch(url, { method: "POST", body: file, headers });
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      // not JSON (a proxy's error page): the status line says enough
    }
    if (!response.ok || !answer.portrait_id) {
      showError(answer.message || `The photo was refused (HTTP ${response.status}).`, answer.error);
      return;
    }
    hooks.portrait = answer.portrait_id;
    // The face is used either way; a turned or tilted one is worth a better photo.
    const advice = Array.isArray(answer.advice) ? answer.advice : [];
    ui.portraitAdvice.textContent = advice.length ? `This photo works, but ${advice.join("; and ")}.` : "";
    ui.portraitAdvice.hidden = advice.length === 0;
    newConversation(); // the server takes a portrait only before a conversation's first turn
  } catch (err) {
    showError(`The photo could not be sent: ${err.message}`);
  } finally {
    delete document.body.dataset.upload;
    ui.portraitFile.value = "";
  }
}

// ---------------------------------------------------------------- wiring

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  sendText();
});
ui.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendText();
  }
});
ui.cancel.addEventListener("click", cancelReply);
ui.errorClose.addEventListener("click", () => (ui.error.hidden = true));
ui.safetyClose.addEventListener("click", () => (ui.safety.hidden = true));
ui.persona.addEventListener("change", () => {
  hooks.persona = ui.persona.value;
  newConversation();
});
ui.sound.addEventListener("click", () => {
  sound.touched = true;
  sound.set(ui.video.muted);
  if (!ui.video.muted && player.turn && ui.video.paused) player.play();
});
// Any first gesture (the Send click included) unlocks sound; the sound button handles its own click.
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(
    type,
    (event) => {
      if (event.target !== ui.sound) sound.firstGesture();
    },
    { capture: true },
  );
}

ui.talk.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  ui.talk.setPointerCapture(event.pointerId); // a release outside the button still ends the utterance
  holdToTalk.press();
});
for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  ui.talk.addEventListener(type, () => holdToTalk.release());
}
ui.talk.addEventListener("contextmenu", (event) => event.preventDefault()); // long touch must not open a menu
ui.portraitFile.addEventListener("change", () => usePortrait(ui.portraitFile.files[0]));
ui.handsFree.addEventListener("click", () => (handsFree.wanted ? handsFree.stop() : handsFree.start()));

/** Space held anywhere except while typing or on another control means "talk". */
function spaceTalks(event) {
  if (event.code !== "Space" || event.ctrlKey || event.metaKey || event.altKey) return false;
  const el = event.target;
  if (el === ui.talk) return true;
  return !(el instanceof HTMLElement && el.closest("textarea, input, select, button, a, [contenteditable]"));
}
document.addEventListener("keydown", (event) => {
  if (!spaceTalks(event) || ui.talk.disabled) return;
  event.preventDefault();
  if (!event.repeat) holdToTalk.press();
});
document.addEventListener("keyup", (event) => {
  if (!spaceTalks(event)) return;
  event.preventDefault();
  holdToTalk.release();
});
window.addEventListener("blur", () => holdToTalk.release()); // a key released in another window never reaches us

// Reconnect immediately when the network comes back or the tab is shown again.
const reconnectNow = () => {
  if (!socket && backoff.timer) connect();
};
window.addEventListener("online", reconnectNow);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") reconnectNow();
});

if (!Microphone.supported()) {
  ui.talkHint.textContent =
    "Talking needs a secure page (https or localhost) and a browser with Web Audio; you can still type.";
}
hooks.newConversation = newConversation;
hooks.handsFree = (on) => (on ? handsFree.start() : handsFree.stop());
sound.set(false);
if (KIOSK) {
  kiosk = new Kiosk({
    attract: ui.attract,
    forget: newConversation,
    idle: () => hooks.reply === "idle" && !player.active() && hooks.ambient !== "listening",
  });
  handsFree.wanted = params.get("hands_free") !== "0"; // a kiosk listens without a button
}
connect();
