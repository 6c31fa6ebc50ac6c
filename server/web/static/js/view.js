// The page's elements and small view helpers: transcript lines, emotion and timing text, error banner.

export const hooks = {
  state: "connecting", // connecting | open | closed
  reply: "idle", // idle | waiting (input sent) | replying (reply_start seen): protocol state, not video
  sessionId: null,
  resumeSecret: null, // from `ready`: proves this page owns the conversation when it reconnects
  mediaMime: 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"',
  lastError: null,
  persona: new URLSearchParams(location.search).get("persona"), // null: the server's configured persona
  portrait: new URLSearchParams(location.search).get("portrait"), // an uploaded portrait's id, or null
  safety: null, // the last `safety` message (category and scripted response)
  turns: 0,
  audioBytesSent: 0,
  listening: false, // the hands-free microphone is streaming
  ambient: "idle", // what the loop video shows between replies: idle | listening | hidden (a reply plays)
  mirror: null, // the user's emotion label the listening loop on screen mirrors, or null (a neutral loop)
  mirrorHoldMs: 20_000, // how long the face mirrors the user between replies before it goes back to neutral
  bargeIns: [], // {turnId, receivedAt, stoppedAt, played}: speech_start arrival and when the video stopped (ms)
  speechEnds: [], // {turnId, at, endpointMs}: speech_end arrival times, for the latency benchmark
  firstFrames: [], // {turnId, at}: when the first video frame of a reply was shown
  replies: [], // {turnId, at, cancelled, timings}: each reply_end, with the server's per-stage timings (ms)
  framesDecoded: () => 0, // replaced by the player
};
window.empathica = hooks;

const $ = (id) => document.getElementById(id);

export const ui = {
  statusText: $("status-text"),
  video: $("avatar"),
  ambient: $("ambient"),
  attract: $("attract"),
  mood: $("agent-mood"),
  sound: $("sound"),
  portraitFile: $("portrait-file"),
  portraitGlasses: $("portrait-glasses"),
  portraitAdvice: $("portrait-advice"),
  error: $("error"),
  errorText: $("error-text"),
  errorClose: $("error-close"),
  safety: $("safety"),
  safetyText: $("safety-text"),
  safetyClose: $("safety-close"),
  persona: $("persona"),
  transcript: $("transcript"),
  form: $("composer"),
  message: $("message"),
  send: $("send"),
  talk: $("talk"),
  handsFree: $("hands-free"),
  cancel: $("cancel"),
  talkHint: $("talk-hint"),
};

const replyListeners = [];

export function setReply(state) {
  hooks.reply = state;
  document.body.dataset.reply = state;
  for (const listener of replyListeners) listener(state);
}

/** Call `listener(state)` whenever the reply state changes (idle | waiting | replying). */
export function onReply(listener) {
  replyListeners.push(listener);
}

export function showError(message, code) {
  hooks.lastError = code ? `${code}: ${message}` : message;
  ui.errorText.textContent = message;
  ui.error.hidden = false;
}

export function emotionText(emotion) {
  if (!emotion || typeof emotion.label !== "string") return "";
  const intensity = Number(emotion.intensity);
  return Number.isFinite(intensity) ? `${emotion.label} ${intensity.toFixed(2)}` : emotion.label;
}

export function voiceText(voice, mismatch) {
  if (!voice || !voice.vad) return "";
  const arousal = Number(voice.vad.arousal);
  const level = arousal > 0.25 ? "lively" : arousal < -0.25 ? "subdued" : "steady";
  return `voice ${level}${mismatch ? " (differs from the words)" : ""}`;
}

const TIMING_NAMES = [
  ["endpoint", "end of speech"],
  ["asr", "speech recognition"],
  ["perception", "perception"],
  ["llm_first_sentence", "first sentence"],
  ["llm_total", "language model"],
  ["tts", "voice"],
  ["render", "render"],
  ["encode", "encode"],
  ["first_media", "first video"],
  ["total", "total"],
];

export function formatTimings(timings) {
  const parts = [];
  for (const [key, label] of TIMING_NAMES) {
    const ms = timings && Number(timings[key]);
    if (Number.isFinite(ms)) parts.push(`${label} ${(ms / 1000).toFixed(2)} s`);
  }
  return parts.join(" · ");
}

/** One transcript entry: who, text, an emotion label and a details line. */
export class Line {
  constructor(role, text = "") {
    this.el = document.createElement("li");
    this.el.className = `line ${role}`;
    const head = document.createElement("div");
    head.className = "head";
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : role === "agent" ? "Avatar" : "Notice";
    this.emotion = document.createElement("span");
    this.emotion.className = "emotion";
    this.emotion.hidden = true;
    head.append(who, this.emotion);
    this.text = document.createElement("p");
    this.text.className = "text";
    this.text.textContent = text;
    this.details = document.createElement("p");
    this.details.className = "details";
    this.details.hidden = true;
    this.el.append(head, this.text, this.details);
    const list = ui.transcript;
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(this.el);
    if (stick) list.scrollTop = list.scrollHeight;
  }

  setText(text) {
    this.text.textContent = text;
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  appendText(sentence) {
    const current = this.text.textContent;
    this.setText(current ? `${current} ${sentence}` : sentence);
  }

  setEmotion(emotion) {
    const text = emotionText(emotion);
    this.emotion.textContent = text;
    this.emotion.title = text ? `Emotion: ${text}` : "";
    this.emotion.hidden = !text;
    if (emotion && emotion.label) this.emotion.dataset.label = emotion.label;
  }

  // Spoken turns: what the voice alone said, and a note when it disagrees with the words.
  setVoice(voice, mismatch) {
    const text = voiceText(voice, mismatch);
    if (!text) return;
    this.emotion.textContent = `${this.emotion.textContent} · ${text}`;
    this.emotion.title = `${this.emotion.title}; ${text}`;
    if (mismatch) this.emotion.dataset.mismatch = "true";
  }

  setDetails(text) {
    this.details.textContent = text;
    this.details.hidden = !text;
  }
}
